"""A local stand-in for AMap, Tianditu and Nominatim geocoding, on 127.0.0.1, for tests.

:class:`StubServer` is a :class:`http.server.ThreadingHTTPServer` on a free port, served from a
background thread; use it as a context manager (or through the :func:`geocode_stub` fixture). It
answers ``/v3/geocode/geo`` like AMap, ``/geocoder`` like Tianditu and ``/search`` like Nominatim,
scripted by address:

- an address in :data:`KNOWN_WGS84` (or added to :attr:`StubServer.known`) is found: AMap replies
  with its GCJ-02 coordinates (so the client must convert back), Tianditu (rounded to 6 decimals,
  as text) and Nominatim with its WGS-84 coordinates;
- :data:`HTTP_500` always gets HTTP 500;
- :data:`RATE_LIMITED` gets a rate-limit reply: AMap status "0" with infocode 10020, HTTP 429
  for Tianditu and Nominatim; :data:`RATE_LIMITED_RETRY_AFTER` adds ``Retry-After: 3``;
- :data:`SERVICE_ERROR` gets Tianditu's error reply (status "404"); the others do not know it;
- :data:`SLOW` is found, but only after :attr:`StubServer.slow_s` seconds;
- :data:`FLAKY` gets HTTP 500 for its first :attr:`StubServer.flaky_failures` requests (counted
  per path), then is found;
- anything else is not found.

Every request is recorded (path, query, address) in :attr:`StubServer.requests`.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from geo.data.coords import wgs84_to_gcj02

__all__ = [
    "AMAP_PATH",
    "FLAKY",
    "HTTP_500",
    "KNOWN_WGS84",
    "NOMINATIM_PATH",
    "PATHS",
    "RATE_LIMITED",
    "RATE_LIMITED_RETRY_AFTER",
    "SERVICE_ERROR",
    "SLOW",
    "STUB_KEY",
    "TIANDITU_PATH",
    "RecordedRequest",
    "StubServer",
    "geocode_stub",
]

AMAP_PATH = "/v3/geocode/geo"
TIANDITU_PATH = "/geocoder"
NOMINATIM_PATH = "/search"
#: The request path of each provider, by provider name.
PATHS = {"amap": AMAP_PATH, "tianditu": TIANDITU_PATH, "nominatim": NOMINATIM_PATH}
#: The key the stub accepts for AMap and Tianditu.
STUB_KEY = "stub-test-key"

#: Addresses the stub knows, with their true WGS-84 (lon, lat) in degrees (in Changning).
KNOWN_WGS84 = {
    "长宁路1187号": (121.4210, 31.2203),
    "上海市长宁区天山路900号": (121.3941, 31.2118),
    "Zhongshan Park": (121.4168, 31.2230),
}
HTTP_500 = "服务器出错路500号"
RATE_LIMITED = "限流路429号"
RATE_LIMITED_RETRY_AFTER = "限流路3秒号"
SERVICE_ERROR = "出错路404号"
SLOW = "很慢路1号"
FLAKY = "时好时坏路2号"
#: Where the scripted addresses that end up found (slow, flaky) are, WGS-84 degrees.
SCRIPTED_WGS84 = (121.4000, 31.2100)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the stub received: its path, its query (one value a name) and the address."""

    path: str
    query: dict[str, str]
    address: str


def _address(path: str, query: dict[str, str]) -> str:
    """The address a request asks for, wherever its provider puts it."""
    if path == TIANDITU_PATH:
        try:
            return str(json.loads(query.get("ds", "{}")).get("keyWord", ""))
        except ValueError:
            return ""
    return query.get("q" if path == NOMINATIM_PATH else "address", "")


class _Handler(BaseHTTPRequestHandler):
    """Answers one request as the provider its path names."""

    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        address = _address(url.path, query)
        stub = self.server.stub
        failures_left = stub._record(RecordedRequest(url.path, query, address))
        try:
            self._answer(stub, url.path, query, address, failing=failures_left)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            pass

    def _send(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Send ``body`` as JSON (or as text when it is a string) with HTTP status ``code``."""
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        data = text.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, stub: StubServer, path: str, query: dict[str, str], address: str, *,
                failing: bool) -> None:
        """Reply as scripted for ``address``."""
        if path not in PATHS.values():
            self._send(404, {"error": "no such path"})
        elif path != NOMINATIM_PATH and query.get("key" if path == AMAP_PATH else "tk") \
                != stub.key:
            self._bad_key(path)
        elif address == HTTP_500 or failing:
            self._send(500, "Internal Server Error")
        elif address == SERVICE_ERROR and path == TIANDITU_PATH:
            self._send(200, {"msg": "服务异常", "searchVersion": "4.8.0", "status": "404"})
        elif address in (RATE_LIMITED, RATE_LIMITED_RETRY_AFTER):
            self._rate_limited(path, retry_after=address == RATE_LIMITED_RETRY_AFTER)
        else:
            if address == SLOW:
                time.sleep(stub.slow_s)
            self._found(path, address, stub.location(address))

    def _bad_key(self, path: str) -> None:
        """The reply to a wrong or missing key."""
        if path == AMAP_PATH:
            self._send(200, {"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"})
        else:
            self._send(403, {"msg": "权限验证失败", "status": "403"})

    def _rate_limited(self, path: str, *, retry_after: bool) -> None:
        """The reply to too many requests."""
        if path == AMAP_PATH:
            self._send(200, {"status": "0", "info": "CKQPS_HAS_EXCEEDED_THE_LIMIT",
                             "infocode": "10020"})
        else:
            self._send(429, {"error": "Too Many Requests"},
                       {"Retry-After": "3"} if retry_after else None)

    def _found(self, path: str, address: str, wgs84: tuple[float, float] | None) -> None:
        """The reply for a found address at ``wgs84``, or for none when it is ``None``."""
        if path == AMAP_PATH:
            self._send(200, _amap_reply(address, wgs84))
        elif path == TIANDITU_PATH:
            self._send(200, _tianditu_reply(address, wgs84))
        else:
            self._send(200, _nominatim_reply(address, wgs84))


def _amap_reply(address: str, wgs84: tuple[float, float] | None) -> dict:
    """AMap's JSON: the GCJ-02 location of ``wgs84``, or count "0"."""
    if wgs84 is None:
        return {"status": "1", "info": "OK", "infocode": "10000", "count": "0", "geocodes": []}
    lon, lat = (float(v) for v in wgs84_to_gcj02(*wgs84))
    geocode = {"formatted_address": address, "country": "中国", "province": "上海市",
               "city": "上海市", "district": "长宁区", "adcode": "310105",
               "location": f"{lon!r},{lat!r}", "level": "门牌号"}
    return {"status": "1", "info": "OK", "infocode": "10000", "count": "1",
            "geocodes": [geocode]}


def _tianditu_reply(address: str, wgs84: tuple[float, float] | None) -> dict:
    """Tianditu's JSON as its geocoding guide shows it: status "0" with a location whose lon and
    lat are numeric strings, or status "101" "结果为空" (see ``TiandituProvider``'s notes)."""
    if wgs84 is None:
        return {"msg": "结果为空", "searchVersion": "4.8.0", "status": "101"}
    location = {"lon": f"{wgs84[0]:.6f}", "level": "地名地址", "lat": f"{wgs84[1]:.6f}"}
    return {"location": location, "status": "0", "msg": "ok", "searchVersion": "4.8.0"}


def _nominatim_reply(address: str, wgs84: tuple[float, float] | None) -> list:
    """Nominatim's ``format=json`` list: one place with string ``lat``/``lon``, or none."""
    if wgs84 is None:
        return []
    return [{"place_id": 1, "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
             "lat": repr(wgs84[1]), "lon": repr(wgs84[0]), "display_name": address,
             "class": "place", "type": "house", "importance": 0.5}]


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that knows its :class:`StubServer`."""

    daemon_threads = True

    def __init__(self, stub: StubServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stub = stub


class StubServer:
    """The stub geocoding server on 127.0.0.1; a context manager that starts and stops it.

    Parameters
    ----------
    slow_s
        How long :data:`SLOW` takes to answer, seconds (longer than the client's timeout).
    flaky_failures
        How many requests a path fails for :data:`FLAKY` before it answers.
    key
        The key AMap and Tianditu requests must carry.
    """

    def __init__(self, *, slow_s: float = 1.0, flaky_failures: int = 2,
                 key: str = STUB_KEY) -> None:
        self.slow_s = slow_s
        self.flaky_failures = flaky_failures
        self.key = key
        self.known = dict(KNOWN_WGS84)
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> StubServer:
        """Start serving on a free port in a daemon thread."""
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """``"127.0.0.1:PORT"``, for Nominatim's ``domain``."""
        if self._server is None:
            raise RuntimeError("the stub server is not running")
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """``"http://127.0.0.1:PORT"``, for AMap's and Tianditu's ``base_url``."""
        return f"http://{self.host}"

    # -- scripting and records -----------------------------------------------------------------

    def location(self, address: str) -> tuple[float, float] | None:
        """The WGS-84 (lon, lat) the stub finds for ``address``, or ``None``."""
        if address in (SLOW, FLAKY):
            return SCRIPTED_WGS84
        return self.known.get(address)

    def _record(self, request: RecordedRequest) -> bool:
        """Record ``request``; whether it must fail because it is an early :data:`FLAKY` one."""
        with self._lock:
            self.requests.append(request)
            if request.address != FLAKY:
                return False
            seen = sum(1 for r in self.requests
                       if r.address == FLAKY and r.path == request.path)
            return seen <= self.flaky_failures

    def requests_for(self, *, path: str | None = None,
                     address: str | None = None) -> list[RecordedRequest]:
        """The recorded requests, only those to ``path`` and for ``address`` when given."""
        with self._lock:
            return [r for r in self.requests
                    if (path is None or r.path == path)
                    and (address is None or r.address == address)]

    def count(self, *, path: str | None = None, address: str | None = None) -> int:
        """How many requests :meth:`requests_for` would list."""
        return len(self.requests_for(path=path, address=address))


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                    "ALL_PROXY")


@pytest.fixture
def geocode_stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubServer]:
    """A running :class:`StubServer`; proxy variables are cleared so requests stay local."""
    for variable in _PROXY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    with StubServer() as server:
        yield server
