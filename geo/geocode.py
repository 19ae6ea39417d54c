"""Address geocoding for the data importer: AMap, Tianditu or Nominatim, cached and rate limited.

Every coordinate this module returns is WGS-84 longitude/latitude in degrees (EPSG:4326, the
project's :data:`geo.config.STORAGE_CRS`): AMap's GCJ-02 replies are converted with
:func:`geo.coords.gcj02_to_wgs84`, Tianditu's CGCS2000 is taken as WGS-84 (they differ by
centimetres), and OpenStreetMap's Nominatim is WGS-84 already.

A :class:`Geocoder` wraps one :class:`Provider`: it answers from a :class:`GeocodeCache` when it
can, spaces requests at least ``min_interval_s`` apart, retries errors with exponential backoff and
never raises for a failed lookup; the :class:`GeocodeResult` says what happened. Service keys come
from the environment or Streamlit secrets (:func:`provider_from_name`), never from the code.
"""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from geopy.adapters import AdapterHTTPError, URLLibAdapter
from geopy.exc import GeocoderRateLimited, GeocoderTimedOut, GeopyError
from geopy.geocoders import Nominatim

from geo._errors import InputError
from geo.config import STATE_DIR
from geo.coords import gcj02_to_wgs84
from geo.store import prepare_folder, sqlite_connection

__all__ = [
    "AMAP_RATE_LIMIT_CODES",
    "GEOCODE_CACHE",
    "KEY_VARIABLES",
    "PROVIDER_NAMES",
    "STATUSES",
    "USER_AGENT",
    "AMapProvider",
    "GeocodeCache",
    "GeocodeResult",
    "Geocoder",
    "NominatimProvider",
    "Provider",
    "ProviderError",
    "RateLimited",
    "TiandituProvider",
    "normalise_address",
    "provider_from_name",
]

#: The default cache file, next to the scenario store.
GEOCODE_CACHE = STATE_DIR / "geocode_cache.sqlite"
#: What a :class:`GeocodeResult` may say happened.
STATUSES = ("ok", "not_found", "error")
#: Sent as the ``User-Agent`` of every request.
USER_AGENT = "changning-coverage-map"
#: AMap ``infocode`` values that mean "too many requests" (per second, per day, per user).
AMAP_RATE_LIMIT_CODES = frozenset(
    {"10003", "10004", "10014", "10019", "10020", "10021", "10029", "10044", "10045"})
_AMAP_LIMIT_MARKERS = ("EXCEEDED_THE_LIMIT", "OVER_LIMIT", "TOO_FREQUENT")
_TIANDITU_EMPTY_MARKERS = ("无结果", "结果为空", "没有", "未找到", "no result", "not found")
_TIANDITU_LIMIT_MARKERS = ("超限", "超过", "频繁", "limit")
_SNIPPET = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS geocode_cache (
    provider TEXT NOT NULL,
    address TEXT NOT NULL,
    lon REAL,
    lat REAL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (provider, address)
)
"""


# -- results and errors --------------------------------------------------------------------------


@dataclass(frozen=True)
class GeocodeResult:
    """What geocoding one address gave.

    Attributes
    ----------
    address
        The address as it was asked for.
    lon, lat
        WGS-84 longitude and latitude, degrees; ``None`` unless ``status`` is ``"ok"``.
    provider
        The :attr:`Provider.name` that answered (or would have).
    status
        ``"ok"`` (found), ``"not_found"`` (the service knows no such address, or it is blank) or
        ``"error"`` (no answer after every retry; the next run tries again).
    reason
        Why it is not ``"ok"``, e.g. ``"no match"``, ``"empty address"``,
        ``"HTTP 500 after 3 tries"``, ``"timeout after 3 tries"``; empty when ``"ok"``.
    cached
        True when the answer came from the cache without a request.
    """

    address: str
    lon: float | None
    lat: float | None
    provider: str
    status: str
    reason: str = ""
    cached: bool = False


class ProviderError(RuntimeError):
    """A geocoding service gave no usable answer; ``reason`` says why (e.g. ``"timeout"``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RateLimited(ProviderError):
    """The service refused because of too many requests.

    ``retry_after`` is the wait in seconds the service asked for, when it said.
    """

    def __init__(self, reason: str = "rate limited", *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def normalise_address(address: str) -> str:
    """``address`` stripped, every run of whitespace (full-width spaces too) made one space."""
    return " ".join(str(address).split())


# -- providers -----------------------------------------------------------------------------------


@runtime_checkable
class Provider(Protocol):
    """A geocoding service: one address in, WGS-84 ``(lon, lat)`` degrees or ``None`` out.

    ``lookup`` returns ``None`` when the service knows no such address, and raises
    :class:`RateLimited` for a too-many-requests reply or :class:`ProviderError` for any other
    failure (HTTP error, timeout, unreadable reply, bad key).
    """

    name: str

    def lookup(self, address: str) -> tuple[float, float] | None:
        """WGS-84 ``(lon, lat)`` of ``address`` in degrees, or ``None`` when not found."""
        ...


def _retry_after(headers: Any) -> float | None:
    """The seconds in a ``Retry-After`` header, when it holds a number."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` (or the reason a :class:`urllib.error.URLError` wraps) is a timeout."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, TimeoutError) or "timed out" in str(reason)


def _http_error(exc: urllib.error.HTTPError) -> ProviderError:
    """The :class:`ProviderError` for an HTTP error reply; 429 is :class:`RateLimited`."""
    if exc.code == 429:
        return RateLimited("rate limited (HTTP 429)", retry_after=_retry_after(exc.headers))
    return ProviderError(f"HTTP {exc.code}")


def _get_json(url: str, *, timeout: float) -> Any:
    """GET ``url`` and parse its JSON body; every failure is a :class:`ProviderError`.

    The reasons never contain the URL, so a key in its query never reaches a log.
    """
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            body = reply.read()
    except urllib.error.HTTPError as exc:
        exc.close()  # the reply's socket
        raise _http_error(exc) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        if _is_timeout(exc):
            raise ProviderError("timeout") from exc
        detail = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise ProviderError(f"connection failed: {detail}") from exc
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ProviderError(f"unreadable reply: {body[:_SNIPPET]!r}") from exc


def _snippet(reply: Any) -> str:
    """The start of ``reply`` as text, for an error reason."""
    return json.dumps(reply, ensure_ascii=False)[:_SNIPPET]


class AMapProvider:
    """AMap (高德) web-service geocoding; replies are GCJ-02 and are returned as WGS-84 degrees.

    Parameters
    ----------
    key
        The AMap web-service key (``AMAP_KEY``).
    base_url
        The service root, without a trailing slash.
    timeout
        Seconds to wait for a reply.
    city
        Limits the search to this city (name, citycode or adcode); ``""`` searches nationwide.
    """

    name: str = "amap"

    def __init__(self, key: str, *, base_url: str = "https://restapi.amap.com",
                 timeout: float = 10.0, city: str = "上海") -> None:
        self.key = key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.city = city

    def __repr__(self) -> str:
        return f"AMapProvider(base_url={self.base_url!r}, city={self.city!r})"

    def _url(self, address: str) -> str:
        """The geocoding request for ``address``."""
        query = {"address": address, "key": self.key, "output": "JSON"}
        if self.city:
            query["city"] = self.city
        return f"{self.base_url}/v3/geocode/geo?{urllib.parse.urlencode(query)}"

    def lookup(self, address: str) -> tuple[float, float] | None:
        """WGS-84 ``(lon, lat)`` of ``address`` in degrees, or ``None`` when AMap has no match."""
        reply = _get_json(self._url(address), timeout=self.timeout)
        if not isinstance(reply, dict):
            raise ProviderError(f"unexpected reply: {_snippet(reply)}")
        if str(reply.get("status")) != "1":
            raise _amap_error(reply)
        geocodes = reply.get("geocodes") or []
        if str(reply.get("count", "")) == "0" or not geocodes:
            return None
        gcj_lon, gcj_lat = _amap_location(geocodes[0])
        lon, lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
        return float(lon), float(lat)


def _amap_error(reply: dict) -> ProviderError:
    """The error for an AMap reply with status "0": :class:`RateLimited` for quota codes."""
    info = str(reply.get("info", "")) or "unknown error"
    code = str(reply.get("infocode", ""))
    reason = f"AMap {info} (infocode {code})" if code else f"AMap {info}"
    if code in AMAP_RATE_LIMIT_CODES or any(mark in info for mark in _AMAP_LIMIT_MARKERS):
        return RateLimited(f"rate limited: {reason}")
    return ProviderError(reason)


def _amap_location(geocode: Any) -> tuple[float, float]:
    """The GCJ-02 ``(lon, lat)`` of one AMap geocode entry (``"lon,lat"``)."""
    try:
        lon_text, lat_text = str(geocode["location"]).split(",")
        return float(lon_text), float(lat_text)
    except (KeyError, TypeError, ValueError) as exc:
        raise ProviderError(f"unexpected reply: {_snippet(geocode)}") from exc


class TiandituProvider:
    """Tianditu (天地图) geocoding; CGCS2000 coordinates, returned as WGS-84 degrees unchanged.

    Parameters
    ----------
    key
        The Tianditu server key (``TIANDITU_KEY``).
    base_url
        The service root, without a trailing slash.
    timeout
        Seconds to wait for a reply.
    """

    name: str = "tianditu"

    def __init__(self, key: str, *, base_url: str = "https://api.tianditu.gov.cn",
                 timeout: float = 10.0) -> None:
        self.key = key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"TiandituProvider(base_url={self.base_url!r})"

    def _url(self, address: str) -> str:
        """The geocoding request for ``address``: ``ds`` is URL-encoded JSON."""
        ds = json.dumps({"keyWord": address}, ensure_ascii=False)
        return f"{self.base_url}/geocoder?{urllib.parse.urlencode({'ds': ds, 'tk': self.key})}"

    def lookup(self, address: str) -> tuple[float, float] | None:
        """WGS-84 ``(lon, lat)`` of ``address`` in degrees, or ``None`` when Tianditu has none."""
        reply = _get_json(self._url(address), timeout=self.timeout)
        if not isinstance(reply, dict):
            raise ProviderError(f"unexpected reply: {_snippet(reply)}")
        if str(reply.get("status")) != "0":
            return _tianditu_refusal(reply)
        location = reply.get("location")
        if not location:
            return None
        try:
            return float(location["lon"]), float(location["lat"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(f"unexpected reply: {_snippet(reply)}") from exc


def _tianditu_refusal(reply: dict) -> None:
    """``None`` when a non-zero Tianditu status means "no result"; otherwise raise."""
    msg = str(reply.get("msg", ""))
    lowered = msg.lower()
    if any(mark in lowered for mark in _TIANDITU_EMPTY_MARKERS):
        return None
    reason = f"Tianditu status {reply.get('status')}: {msg or 'no message'}"
    if any(mark in lowered for mark in _TIANDITU_LIMIT_MARKERS):
        raise RateLimited(f"rate limited: {reason}")
    raise ProviderError(reason)


class NominatimProvider:
    """OpenStreetMap Nominatim through :class:`geopy.geocoders.Nominatim`; WGS-84 degrees.

    Parameters
    ----------
    domain
        The server, optionally with a port (``"127.0.0.1:8080"``).
    scheme
        ``"https"`` or ``"http"``.
    user_agent
        Identifies the app, as Nominatim's usage policy requires.
    timeout
        Seconds to wait for a reply.

    Notes
    -----
    Requests go through geopy's ``URLLibAdapter`` (the standard library), which makes exactly
    one request a lookup: retrying is the :class:`Geocoder`'s job.
    """

    name: str = "nominatim"

    def __init__(self, *, domain: str = "nominatim.openstreetmap.org", scheme: str = "https",
                 user_agent: str = USER_AGENT, timeout: float = 10.0) -> None:
        self.domain = domain
        self._geocoder = Nominatim(domain=domain, scheme=scheme, user_agent=user_agent,
                                   timeout=timeout, adapter_factory=URLLibAdapter)

    def __repr__(self) -> str:
        return f"NominatimProvider(domain={self.domain!r})"

    def lookup(self, address: str) -> tuple[float, float] | None:
        """WGS-84 ``(lon, lat)`` of ``address`` in degrees, or ``None`` when OSM has no match."""
        try:
            location = self._geocoder.geocode(address, exactly_one=True)
        except GeopyError as exc:
            raise _geopy_error(exc) from exc
        if location is None:
            return None
        return float(location.longitude), float(location.latitude)


def _close_http_errors(exc: BaseException | None) -> None:
    """Close the urllib HTTP error replies geopy leaves open in ``exc``'s chain."""
    while exc is not None:
        if isinstance(exc, urllib.error.HTTPError):
            exc.close()
        exc = exc.__cause__ or exc.__context__


def _geopy_error(exc: Exception) -> ProviderError:
    """The :class:`ProviderError` for a geopy exception; HTTP replies are named by status."""
    _close_http_errors(exc)
    cause = exc.__cause__
    if isinstance(exc, GeocoderRateLimited):
        return RateLimited("rate limited (HTTP 429)", retry_after=exc.retry_after)
    if isinstance(cause, AdapterHTTPError):
        return ProviderError(f"HTTP {cause.status_code}")
    if isinstance(exc, GeocoderTimedOut):
        return ProviderError("timeout")
    return ProviderError(f"{type(exc).__name__}: {exc}")


# -- choosing a provider -------------------------------------------------------------------------

#: Provider names :func:`provider_from_name` accepts, with their classes.
_PROVIDERS: dict[str, type] = {
    "amap": AMapProvider,
    "tianditu": TiandituProvider,
    "nominatim": NominatimProvider,
}
PROVIDER_NAMES = tuple(_PROVIDERS)
#: The environment variable (or Streamlit secret) holding each provider's key.
KEY_VARIABLES = {"amap": "AMAP_KEY", "tianditu": "TIANDITU_KEY"}


def _secret(secrets: Mapping[str, str] | None, variable: str) -> str:
    """``secrets[variable]`` stripped, or ``""`` when absent (or there is no secrets file)."""
    if secrets is None:
        return ""
    try:
        value = secrets.get(variable)
    except (FileNotFoundError, KeyError):  # st.secrets without a secrets.toml
        return ""
    return str(value).strip() if value is not None else ""


def _key(variable: str, env: Mapping[str, str], secrets: Mapping[str, str] | None) -> str:
    """The key in ``env``, else in ``secrets``; :class:`InputError` naming it when neither."""
    key = str(env.get(variable) or "").strip() or _secret(secrets, variable)
    if not key:
        raise InputError(f"{variable} is not set: put the service key in the environment "
                         f"variable {variable} or in .streamlit/secrets.toml as {variable}")
    return key


def provider_from_name(name: str, *, env: Mapping[str, str] | None = None,
                       secrets: Mapping[str, str] | None = None, **options: Any) -> Provider:
    """The provider called ``name``, its key read from the environment or Streamlit secrets.

    Parameters
    ----------
    name
        ``"amap"`` (key ``AMAP_KEY``), ``"tianditu"`` (key ``TIANDITU_KEY``) or
        ``"nominatim"`` (no key); case and surrounding spaces do not matter.
    env
        Where to look for the key first; defaults to :data:`os.environ`.
    secrets
        Where to look next, e.g. ``st.secrets``.
    **options
        Passed to the provider's class, e.g. ``timeout=5.0`` or ``base_url=...``.

    Returns
    -------
    Provider
        Its lookups return WGS-84 degrees.

    Raises
    ------
    InputError
        For an unknown name, or when the provider's key is in neither place (the message names
        the variable).
    """
    clean = str(name).strip().lower()
    if clean not in _PROVIDERS:
        raise InputError(f"unknown geocoding provider {name!r}; expected one of "
                         f"{', '.join(PROVIDER_NAMES)}")
    variable = KEY_VARIABLES.get(clean)
    if variable is None:
        return _PROVIDERS[clean](**options)
    key = _key(variable, os.environ if env is None else env, secrets)
    return _PROVIDERS[clean](key, **options)


# -- the cache -----------------------------------------------------------------------------------


def _utc_now() -> str:
    """The current UTC time as ISO-8601 text, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class GeocodeCache:
    """Geocoding answers in the SQLite file ``path``, keyed by provider and normalised address.

    Only ``"ok"`` and ``"not_found"`` answers are kept; errors are retried next time. Every
    operation opens its own connection (WAL mode, a :data:`geo.store.BUSY_TIMEOUT_S` busy
    timeout), so several processes may share the file. Coordinates are WGS-84 degrees.

    Parameters
    ----------
    path
        The database file, created with its folder when missing; defaults to
        :data:`GEOCODE_CACHE`.

    Raises
    ------
    geo.store.StoreError
        When the file cannot be opened or is not a SQLite database (here or in any method).
    """

    def __init__(self, path: str | Path = GEOCODE_CACHE) -> None:
        self.path = Path(path)
        prepare_folder(self.path, what="geocode cache")
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)

    def __repr__(self) -> str:
        return f"GeocodeCache({str(self.path)!r})"

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        """A fresh autocommit connection, closed afterwards; SQLite errors become StoreError."""
        return sqlite_connection(self.path, what="geocode cache")

    def get(self, provider: str, address: str) -> GeocodeResult | None:
        """The cached answer of ``provider`` for ``address`` (``cached=True``), or ``None``."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT lon, lat, status, reason FROM geocode_cache"
                " WHERE provider = ? AND address = ?",
                (provider, normalise_address(address)),
            ).fetchone()
        if row is None:
            return None
        lon, lat, status, reason = row
        return GeocodeResult(address, lon, lat, provider, status, reason, cached=True)

    def put(self, result: GeocodeResult) -> bool:
        """Keep ``result`` unless it is an error or its address is blank; return whether kept."""
        key = normalise_address(result.address)
        if result.status not in ("ok", "not_found") or not key:
            return False
        with self._connect() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO geocode_cache"
                " (provider, address, lon, lat, status, reason, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (result.provider, key, result.lon, result.lat, result.status, result.reason,
                 _utc_now()),
            )
        return True


# -- the geocoder --------------------------------------------------------------------------------


def _tries(count: int) -> str:
    """``"1 try"``, ``"3 tries"``."""
    return f"{count} {'try' if count == 1 else 'tries'}"


class Geocoder:
    """Geocode addresses with one provider: cache first, rate limited, retried with backoff.

    Parameters
    ----------
    provider
        The service to ask.
    cache
        Where answers are kept between runs; ``None`` keeps none.
    min_interval_s
        Least seconds between the starts of two requests (Nominatim's policy asks for 1).
    retries
        Requests made at most per address, the first included (3: one try and two retries).
    backoff_s
        Wait before the first retry; each further retry waits twice as long as the one before.
        After a :class:`RateLimited` reply the wait is at least the service's ``Retry-After``.
    sleep, clock
        ``time.sleep`` and ``time.monotonic``, or fakes in tests.

    Raises
    ------
    InputError
        When ``retries`` is below 1 or a duration is negative.
    """

    def __init__(self, provider: Provider, *, cache: GeocodeCache | None = None,
                 min_interval_s: float = 1.0, retries: int = 3, backoff_s: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if retries < 1 or min_interval_s < 0 or backoff_s < 0:
            raise InputError(f"geocoder needs retries >= 1 and non-negative durations, got "
                             f"retries={retries}, min_interval_s={min_interval_s}, "
                             f"backoff_s={backoff_s}")
        self.provider = provider
        self.cache = cache
        self.min_interval_s = min_interval_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._clock = clock
        self._last_request: float | None = None

    def __repr__(self) -> str:
        return f"Geocoder({self.provider!r}, cache={self.cache!r})"

    def _result(self, address: str, status: str, reason: str = "",
                lonlat: tuple[float, float] | None = None) -> GeocodeResult:
        """A fresh (uncached) result of this geocoder's provider."""
        lon, lat = lonlat if lonlat is not None else (None, None)
        return GeocodeResult(address, lon, lat, self.provider.name, status, reason)

    def _wait_turn(self) -> None:
        """Sleep until ``min_interval_s`` has passed since the last request began; mark now."""
        if self._last_request is not None:
            wait = self.min_interval_s - (self._clock() - self._last_request)
            if wait > 0:
                self._sleep(wait)
        self._last_request = self._clock()

    def _backoff(self, attempt: int, error: ProviderError) -> float:
        """Seconds to wait after failed try ``attempt`` (1-based) before the next."""
        wait = self.backoff_s * 2 ** (attempt - 1)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return wait

    def _ask(self, address: str) -> GeocodeResult:
        """Ask the provider, retrying errors; the result says what happened."""
        error = ProviderError("no request made")
        for attempt in range(1, self.retries + 1):
            if attempt > 1:
                self._sleep(self._backoff(attempt - 1, error))
            self._wait_turn()
            try:
                found = self.provider.lookup(address)
            except ProviderError as exc:
                error = exc
                continue
            if found is None:
                return self._result(address, "not_found", "no match")
            return self._result(address, "ok", lonlat=found)
        return self._result(address, "error", f"{error.reason} after {_tries(self.retries)}")

    def geocode(self, address: str) -> GeocodeResult:
        """Geocode one address; never raises for a failed lookup.

        Parameters
        ----------
        address
            Free text, sent normalised (:func:`normalise_address`); blank gives ``"not_found"``
            with reason ``"empty address"`` and no request.

        Returns
        -------
        GeocodeResult
            WGS-84 degrees when ``status`` is ``"ok"``; ``cached=True`` when no request was
            made. An ``"error"`` result's reason names the last failure and the number of tries,
            e.g. ``"timeout after 3 tries"``.
        """
        clean = normalise_address(address)
        if not clean:
            return self._result(address, "not_found", "empty address")
        if self.cache is not None:
            hit = self.cache.get(self.provider.name, address)
            if hit is not None:
                return hit
        result = replace(self._ask(clean), address=address)
        if self.cache is not None:
            self.cache.put(result)
        return result

    def geocode_many(self, addresses: Iterable[str], *,
                     progress: Callable[[int, int], None] | None = None) -> list[GeocodeResult]:
        """Geocode every address, each distinct one (after normalising) looked up once.

        Parameters
        ----------
        addresses
            Free-text addresses; repeats are allowed.
        progress
            Called as ``progress(done, total)`` after each distinct address, ``total`` being
            the number of distinct addresses.

        Returns
        -------
        list of GeocodeResult
            One a given address, in input order, each carrying the address as given; WGS-84
            degrees.
        """
        addresses = list(addresses)
        distinct = list(dict.fromkeys(normalise_address(a) for a in addresses))
        answers: dict[str, GeocodeResult] = {}
        for done, key in enumerate(distinct, start=1):
            answers[key] = self.geocode(key)
            if progress is not None:
                progress(done, len(distinct))
        return [replace(answers[normalise_address(a)], address=a) for a in addresses]
