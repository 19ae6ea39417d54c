"""The Overpass API client of :mod:`geo.data.osm_fetch`: POST a query, get its JSON reply, or a
:class:`FetchError` naming the URL.

Rate limits (HTTP 429), gateway errors and timeouts are retried with exponential backoff; any
other failure, a reply that is not JSON and an Overpass runtime error reported in the reply raise
at once. Turning replies into boundaries and facilities is :mod:`geo.data.osm_fetch`'s job.
"""

from __future__ import annotations

import json
import math
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

__all__ = ["OVERPASS_URL", "OVERPASS_USER_AGENT", "RETRY_STATUSES", "FetchError", "fetch_overpass"]

OVERPASS_URL = "https://overpass-api.de/api/interpreter"

#: HTTP statuses worth another try: rate limited, gateway errors, server overloaded.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
OVERPASS_USER_AGENT = "changning-coverage/0.1 (fetch-osm; +https://www.openstreetmap.org/copyright)"
_EXCERPT_CHARS = 200


class FetchError(RuntimeError):
    """Downloading from Overpass failed, or its reply cannot be used.

    The message names the URL and, for an HTTP error, the status.
    """



def _excerpt(body: bytes) -> str:
    """The start of an error page as one line of plain text (Overpass answers in HTML)."""
    text = re.sub(r"<[^>]+>", " ", body.decode("utf-8", errors="replace"))
    text = " ".join(text.split())
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "…"


def _is_timeout(exc: BaseException) -> bool:
    reason = getattr(exc, "reason", None)
    return isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError)


def _post(query: str, *, url: str, timeout: float) -> bytes:
    """One POST of ``data=<query>``; the body of a 200 reply."""
    payload = urllib.parse.urlencode({"data": query}).encode("utf-8")
    request = urllib.request.Request(url, data=payload, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "User-Agent": OVERPASS_USER_AGENT,
        "Accept": "application/json",
    })
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return reply.read()


def _retry_after(exc: urllib.error.HTTPError) -> float:
    """Seconds from a numeric Retry-After header, 0 when absent or not a number."""
    value = exc.headers.get("Retry-After", "") if exc.headers else ""
    try:
        seconds = float(value)
    except ValueError:
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def _http_failure(exc: urllib.error.HTTPError, *, url: str, attempts: int) -> FetchError:
    try:
        body = exc.read() if exc.fp is not None else b""
    except OSError:  # the connection broke while reading the error page
        body = b""
    tries = f" after {attempts} attempt(s)" if attempts > 1 else ""
    detail = f": {_excerpt(body)}" if body.strip() else ""
    return FetchError(f"Overpass request to {url} failed{tries}: HTTP {exc.code} "
                      f"{exc.reason}{detail}")


def _parse_reply(body: bytes, *, url: str) -> dict:
    """The JSON reply as a dict with an ``elements`` list; a runtime error remark fails."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FetchError(f"Overpass reply from {url} is not valid JSON ({exc}): "
                         f"{_excerpt(body[:1000])!r}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
        raise FetchError(f"Overpass reply from {url} has no 'elements' list")
    remark = str(data.get("remark") or "")
    if "error" in remark.lower():
        raise FetchError(f"Overpass at {url} reported: {remark.strip()}")
    return data


def fetch_overpass(
    query: str,
    *,
    url: str = OVERPASS_URL,
    timeout: float = 180,
    retries: int = 3,
    backoff_s: float = 5,
    sleep: Callable[[float], object] = time.sleep,
) -> dict:
    """POST an Overpass QL query (form field ``data``) and return the decoded JSON reply.

    HTTP 429, 502, 503, 504 and timeouts are retried up to ``retries`` times, waiting
    ``backoff_s * 2**n`` seconds before retry ``n`` (0-based), or longer when a 429 says so in
    its Retry-After header. Coordinates in the reply are WGS-84 degrees.

    Parameters
    ----------
    query
        Overpass QL with ``[out:json]``.
    url
        The interpreter endpoint.
    timeout
        Seconds to wait for the server on each socket operation.
    retries
        Further attempts after the first one.
    backoff_s
        Base wait between attempts, in seconds.
    sleep
        Called with the seconds to wait (injectable for tests).

    Raises
    ------
    FetchError
        Naming ``url``: the HTTP status of a failed request, a timeout, an unreachable server,
        a reply that is not JSON, or an Overpass runtime error reported in the reply.
    """
    for attempt in range(retries + 1):
        last = attempt == retries
        try:
            return _parse_reply(_post(query, url=url, timeout=timeout), url=url)
        except urllib.error.HTTPError as exc:
            if exc.code not in RETRY_STATUSES or last:
                raise _http_failure(exc, url=url, attempts=attempt + 1) from exc
            wait = max(backoff_s * 2**attempt, _retry_after(exc) if exc.code == 429 else 0)
            exc.close()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if not _is_timeout(exc):
                reason = getattr(exc, "reason", exc)
                raise FetchError(f"Overpass server {url} cannot be reached ({reason})") from exc
            if last:
                raise FetchError(f"Overpass request to {url} timed out (no reply within "
                                 f"{timeout:g} s, {attempt + 1} attempt(s))") from exc
            wait = backoff_s * 2**attempt
        sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
