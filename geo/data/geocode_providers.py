"""Geocoding services: one address in, WGS-84 longitude/latitude out (AMap, Tianditu, Nominatim).

The HTTP side of :mod:`geo.data.geocode`: each provider class makes one request a lookup and reports
a failure as a :class:`ProviderError` (a :class:`RateLimited` for a too-many-requests reply);
caching, spacing and retries are the :class:`geo.data.geocode.Geocoder`'s job. Every coordinate a
provider returns is WGS-84 degrees (EPSG:4326): AMap's GCJ-02 replies are converted with
:func:`geo.data.coords.gcj02_to_wgs84`, Tianditu's CGCS2000 is taken as WGS-84 (they differ by
centimetres) and Nominatim's OpenStreetMap coordinates are WGS-84 already. No reason a provider
gives contains its request URL, so a key never reaches a log.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Protocol, runtime_checkable

from geopy.adapters import AdapterHTTPError, URLLibAdapter
from geopy.exc import GeocoderRateLimited, GeocoderTimedOut, GeopyError
from geopy.geocoders import Nominatim

from geo.data.coords import gcj02_to_wgs84
from geo.model.errors import InputError

__all__ = [
    "AMAP_RATE_LIMIT_CODES",
    "GEOCODE_URL_VARIABLE",
    "GEOCODE_USER_AGENT",
    "KEY_VARIABLES",
    "MIN_INTERVAL_S",
    "PROVIDERS",
    "PROVIDER_NAMES",
    "TIANDITU_NOT_FOUND",
    "AMapProvider",
    "NominatimProvider",
    "Provider",
    "ProviderError",
    "RateLimited",
    "TiandituProvider",
    "server_options",
]

#: Sent as the ``User-Agent`` of every request.
GEOCODE_USER_AGENT = "changning-coverage-map"
#: AMap ``infocode`` values that mean "too many requests" (per second, per day, per user).
AMAP_RATE_LIMIT_CODES = frozenset(
    {"10003", "10004", "10014", "10019", "10020", "10021", "10029", "10044", "10045"})
_AMAP_LIMIT_MARKERS = ("EXCEEDED_THE_LIMIT", "OVER_LIMIT", "TOO_FREQUENT")
#: Tianditu's ``status`` for "no result" (结果为空); "0" is found, "404" an error.
TIANDITU_NOT_FOUND = "101"
_TIANDITU_LIMIT_MARKERS = ("超限", "超过", "频繁", "limit")
_SNIPPET = 200


# -- errors ---------------------------------------------------------------------------------------


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
    request = urllib.request.Request(url, headers={"User-Agent": GEOCODE_USER_AGENT})
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

    Notes
    -----
    The service, as its geocoding guide (lbs.tianditu.gov.cn, 地理编码查询) documents it:
    ``GET /geocoder?ds={"keyWord":"<address>"}&tk=<key>`` (``ds`` is URL-encoded JSON) replies
    ``{"location": {"lon": "116.001688", "lat": "40.453228", "level": "地名地址"},
    "status": "0", "msg": "ok", "searchVersion": "4.8.0"}``. ``status`` is a string: ``"0"``
    found, ``"101"`` no result (结果为空), ``"404"`` an error (``msg`` says which);
    ``location.lon``/``lat`` are numbers or numeric strings (the guide's table says Double,
    its example shows strings), so both are read. A refused key is an HTTP error (403).
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
        status = str(reply.get("status", "")).strip()
        if status == TIANDITU_NOT_FOUND:
            return None
        if status != "0":
            raise _tianditu_error(reply)
        location = reply.get("location")
        if not location:
            return None
        try:
            return float(location["lon"]), float(location["lat"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(f"unexpected reply: {_snippet(reply)}") from exc


def _tianditu_error(reply: dict) -> ProviderError:
    """The error for a Tianditu status other than "0" and "101" (e.g. "404" 出错)."""
    msg = str(reply.get("msg", "")).strip()
    reason = f"Tianditu status {reply.get('status')}: {msg or 'no message'}"
    if any(mark in msg.lower() for mark in _TIANDITU_LIMIT_MARKERS):
        return RateLimited(f"rate limited: {reason}")
    return ProviderError(reason)


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
                 user_agent: str = GEOCODE_USER_AGENT, timeout: float = 10.0) -> None:
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


# -- by name -------------------------------------------------------------------------------------

#: Provider name → class, as :func:`geo.data.geocode.provider_from_name` and ``--geocode`` know
#: them.
PROVIDERS: dict[str, type] = {
    "amap": AMapProvider,
    "tianditu": TiandituProvider,
    "nominatim": NominatimProvider,
}
PROVIDER_NAMES = tuple(PROVIDERS)
#: The environment variable (or Streamlit secret) holding each provider's key.
KEY_VARIABLES = {"amap": "AMAP_KEY", "tianditu": "TIANDITU_KEY"}
#: The environment variable that points every provider at another server root, e.g. a local
#: stand-in ``http://127.0.0.1:8080`` in tests (see :func:`server_options`).
GEOCODE_URL_VARIABLE = "CHANGNING_GEOCODE_URL"
#: Least seconds between two requests to each service: Nominatim's usage policy asks for one a
#: second; AMap allows a personal key 3 a second (an assumption for Tianditu too).
MIN_INTERVAL_S = {"amap": 0.34, "tianditu": 0.34, "nominatim": 1.0}


def server_options(name: str, url: str | None) -> dict[str, str]:
    """The options of :func:`geo.data.geocode.provider_from_name` that send provider ``name``'s
    requests to the server root ``url`` (``http://host:port``): ``base_url`` for AMap and
    Tianditu, ``domain`` and ``scheme`` for Nominatim; none when ``url`` is empty.

    Raises
    ------
    InputError
        When ``url`` is not an http(s) URL.
    """
    if not url or not url.strip():
        return {}
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"{GEOCODE_URL_VARIABLE}={url!r}: expected http(s)://host[:port]")
    if str(name).strip().lower() == "nominatim":
        return {"domain": parts.netloc + parts.path.rstrip("/"), "scheme": parts.scheme}
    return {"base_url": url.strip().rstrip("/")}
