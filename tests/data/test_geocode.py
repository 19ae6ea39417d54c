"""Address geocoding (geo.data.geocode) against the local stub server: never the internet."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys

import pytest

from geo.data.coords import wgs84_to_gcj02
from geo.data.geocode import (
    AMapProvider,
    GeocodeCache,
    Geocoder,
    GeocodeResult,
    NominatimProvider,
    Provider,
    ProviderError,
    RateLimited,
    TiandituProvider,
    normalise_address,
    provider_from_name,
    server_options,
)
from geo.model.errors import InputError
from tests.conftest import ROOT
from tests.geocode_stub import (
    AMAP_PATH,
    FLAKY,
    HTTP_500,
    KNOWN_WGS84,
    NOMINATIM_PATH,
    PATHS,
    RATE_LIMITED,
    RATE_LIMITED_RETRY_AFTER,
    SCRIPTED_WGS84,
    SERVICE_ERROR,
    SLOW,
    STUB_KEY,
    StubServer,
    geocode_stub,  # noqa: F401 - the fixture
)

PROVIDERS = ("amap", "tianditu", "nominatim")
TOLERANCE_DEG = 1e-6  # about 0.1 m
CLIENT_TIMEOUT_S = 0.3  # the timeout tests' client timeout; the stub's slow reply takes 1 s
PATIENT_TIMEOUT_S = 5.0  # every other test's, so a busy machine cannot make them flaky
ADDRESS = "长宁路1187号"
UNKNOWN = "不存在路0号"



@pytest.fixture
def stub(geocode_stub: StubServer) -> StubServer:  # noqa: F811 - the imported fixture
    """The running stub server (shorter name)."""
    return geocode_stub


@pytest.fixture(autouse=True)
def _local_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any connection that is not to the loopback stub."""
    connect = socket.create_connection

    def guarded(address, *args, **kwargs):
        if address[0] not in ("127.0.0.1", "localhost"):
            raise AssertionError(f"test tried to reach {address[0]}")
        return connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)


class FakeTime:
    """A clock that moves only when slept on (or told to), recording every sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_provider(name: str, server: StubServer, *,
                  timeout: float = PATIENT_TIMEOUT_S) -> Provider:
    """Provider ``name`` pointed at the stub."""
    if name == "amap":
        return AMapProvider(STUB_KEY, base_url=server.url, timeout=timeout)
    if name == "tianditu":
        return TiandituProvider(STUB_KEY, base_url=server.url, timeout=timeout)
    return NominatimProvider(domain=server.host, scheme="http", timeout=timeout)


def make_geocoder(provider: Provider, fake: FakeTime, **options) -> Geocoder:
    """A geocoder on fake time, with no cache and no spacing between requests unless given."""
    options.setdefault("cache", None)
    options.setdefault("min_interval_s", 0.0)
    return Geocoder(provider, sleep=fake.sleep, clock=fake.clock, **options)


def assert_at(result: GeocodeResult, wgs84: tuple[float, float]) -> None:
    """``result`` is found within TOLERANCE_DEG of the WGS-84 point ``wgs84``."""
    assert result.status == "ok", result
    assert result.reason == ""
    assert result.lon == pytest.approx(wgs84[0], abs=TOLERANCE_DEG)
    assert result.lat == pytest.approx(wgs84[1], abs=TOLERANCE_DEG)


# -- each provider ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
def test_found_address_is_wgs84(stub, name):
    fake = FakeTime()
    result = make_geocoder(make_provider(name, stub), fake).geocode(ADDRESS)
    assert_at(result, KNOWN_WGS84[ADDRESS])
    assert (result.provider, result.cached, result.address) == (name, False, ADDRESS)
    assert stub.count(path=PATHS[name], address=ADDRESS) == 1
    assert stub.count() == 1
    assert fake.sleeps == []


def test_amap_gcj02_reply_is_converted(stub):
    """The stub serves GCJ-02, hundreds of metres off; the result is back on the WGS-84 point."""
    provider = make_provider("amap", stub)
    lon, lat = provider.lookup(ADDRESS)
    true_lon, true_lat = KNOWN_WGS84[ADDRESS]
    gcj_lon, gcj_lat = (float(v) for v in wgs84_to_gcj02(true_lon, true_lat))
    assert abs(gcj_lon - true_lon) + abs(gcj_lat - true_lat) > 1e-3
    assert abs(lon - true_lon) < TOLERANCE_DEG and abs(lat - true_lat) < TOLERANCE_DEG
    (request,) = stub.requests
    assert request.query == {"address": ADDRESS, "key": STUB_KEY, "city": "上海",
                             "output": "JSON"}


def test_tianditu_and_nominatim_queries(stub):
    make_provider("tianditu", stub).lookup(ADDRESS)
    make_provider("nominatim", stub).lookup(ADDRESS)
    tianditu, nominatim = stub.requests
    assert json.loads(tianditu.query["ds"]) == {"keyWord": ADDRESS}
    assert tianditu.query["tk"] == STUB_KEY
    assert nominatim.path == NOMINATIM_PATH
    assert nominatim.query["q"] == ADDRESS and nominatim.query["format"] == "json"


def test_tianditu_documented_reply_format(stub):
    """Status "0" with lon/lat as numeric strings is found; "101" is no match; "404" an error."""
    provider = make_provider("tianditu", stub)
    assert provider.lookup(ADDRESS) == (121.421, 31.2203)
    assert provider.lookup(UNKNOWN) is None
    with pytest.raises(ProviderError, match=r"^Tianditu status 404: 服务异常$") as caught:
        provider.lookup(SERVICE_ERROR)
    assert not isinstance(caught.value, RateLimited)
    result = make_geocoder(provider, FakeTime(), retries=2).geocode(SERVICE_ERROR)
    assert (result.status, result.reason) == ("error",
                                              "Tianditu status 404: 服务异常 after 2 tries")


@pytest.mark.parametrize("name", PROVIDERS)
def test_not_found(stub, name):
    fake = FakeTime()
    result = make_geocoder(make_provider(name, stub), fake).geocode(UNKNOWN)
    assert (result.status, result.reason, result.lon, result.lat) == (
        "not_found", "no match", None, None)
    assert stub.count() == 1
    assert make_provider(name, stub).lookup(UNKNOWN) is None


@pytest.mark.parametrize("name", PROVIDERS)
def test_http_500_is_retried_then_error(stub, name):
    fake = FakeTime()
    result = make_geocoder(make_provider(name, stub), fake, retries=3).geocode(HTTP_500)
    assert (result.status, result.reason) == ("error", "HTTP 500 after 3 tries")
    assert result.lon is None and result.lat is None
    assert stub.count(address=HTTP_500) == 3
    assert fake.sleeps == [1.0, 2.0]


@pytest.mark.parametrize("name", PROVIDERS)
def test_rate_limited_backs_off(stub, name):
    provider = make_provider(name, stub)
    with pytest.raises(RateLimited):
        provider.lookup(RATE_LIMITED)
    fake = FakeTime()
    geocoder = make_geocoder(provider, fake, retries=4, backoff_s=0.5)
    result = geocoder.geocode(RATE_LIMITED)
    assert result.status == "error"
    assert result.reason.startswith("rate limited") and result.reason.endswith("after 4 tries")
    assert stub.count(address=RATE_LIMITED) == 1 + 4
    assert fake.sleeps == [0.5, 1.0, 2.0]


def test_amap_rate_limit_names_the_infocode(stub):
    with pytest.raises(RateLimited, match="10020"):
        make_provider("amap", stub).lookup(RATE_LIMITED)


def test_retry_after_is_honoured(stub):
    provider = make_provider("nominatim", stub)
    with pytest.raises(RateLimited) as caught:
        provider.lookup(RATE_LIMITED_RETRY_AFTER)
    assert caught.value.retry_after == 3.0
    fake = FakeTime()
    make_geocoder(provider, fake, retries=4, backoff_s=1.0).geocode(RATE_LIMITED_RETRY_AFTER)
    assert fake.sleeps == [3.0, 3.0, 4.0]


@pytest.mark.parametrize("name", PROVIDERS)
def test_timeout(stub, name):
    provider = make_provider(name, stub, timeout=CLIENT_TIMEOUT_S)
    fake = FakeTime()
    result = make_geocoder(provider, fake, retries=2).geocode(SLOW)
    assert (result.status, result.reason) == ("error", "timeout after 2 tries")
    assert stub.count(address=SLOW) == 2
    with pytest.raises(ProviderError) as caught:
        provider.lookup(SLOW)
    assert caught.value.reason == "timeout" and not isinstance(caught.value, RateLimited)


@pytest.mark.parametrize("name", PROVIDERS)
def test_fails_twice_then_succeeds(stub, name):
    fake = FakeTime()
    result = make_geocoder(make_provider(name, stub), fake, retries=3).geocode(FLAKY)
    assert_at(result, SCRIPTED_WGS84)
    assert stub.count(address=FLAKY) == 3
    assert fake.sleeps == [1.0, 2.0]


def test_wrong_key_is_an_error(stub):
    fake = FakeTime()
    provider = AMapProvider("wrong-key", base_url=stub.url, timeout=PATIENT_TIMEOUT_S)
    result = make_geocoder(provider, fake, retries=1).geocode(ADDRESS)
    assert (result.status, result.reason) == (
        "error", "AMap INVALID_USER_KEY (infocode 10001) after 1 try")
    assert "wrong-key" not in result.reason
    tianditu = TiandituProvider("wrong-key", base_url=stub.url, timeout=PATIENT_TIMEOUT_S)
    with pytest.raises(ProviderError, match="HTTP 403"):
        tianditu.lookup(ADDRESS)


@pytest.mark.parametrize("address", ["", "   ", "\u3000\t\n"])
def test_blank_address_makes_no_request(stub, address, tmp_path):
    fake = FakeTime()
    cache = GeocodeCache(tmp_path / "cache.sqlite")
    result = make_geocoder(make_provider("amap", stub), fake, cache=cache).geocode(address)
    assert (result.status, result.reason, result.address) == ("not_found", "empty address",
                                                              address)
    assert stub.count() == 0
    assert cache.get("amap", address) is None


# -- the cache -------------------------------------------------------------------------------


def test_cache_answers_without_request_and_survives_restart(stub, tmp_path):
    path = tmp_path / "state" / "geocode_cache.sqlite"
    fake = FakeTime()
    geocoder = make_geocoder(make_provider("amap", stub), fake, cache=GeocodeCache(path))
    first = geocoder.geocode(ADDRESS)
    second = geocoder.geocode(f"  {ADDRESS} ")
    assert stub.count() == 1
    assert (first.cached, second.cached) == (False, True)
    assert (second.lon, second.lat, second.status) == (first.lon, first.lat, "ok")
    assert second.address == f"  {ADDRESS} "

    restarted = make_geocoder(make_provider("amap", stub), FakeTime(), cache=GeocodeCache(path))
    again = restarted.geocode(ADDRESS)
    assert again.cached and (again.lon, again.lat) == (first.lon, first.lat)
    assert stub.count() == 1


def test_not_found_is_cached_but_errors_are_not(stub, tmp_path):
    cache = GeocodeCache(tmp_path / "cache.sqlite")
    geocoder = make_geocoder(make_provider("tianditu", stub), FakeTime(), cache=cache)
    assert geocoder.geocode(UNKNOWN).status == "not_found"
    cached = geocoder.geocode(UNKNOWN)
    assert (cached.status, cached.reason, cached.cached) == ("not_found", "no match", True)
    assert stub.count(address=UNKNOWN) == 1

    assert geocoder.geocode(HTTP_500).status == "error"
    assert cache.get("tianditu", HTTP_500) is None
    again = geocoder.geocode(HTTP_500)
    assert (again.status, again.cached) == ("error", False)
    assert stub.count(address=HTTP_500) == 2 * 3


def test_cache_is_per_provider(stub, tmp_path):
    cache = GeocodeCache(tmp_path / "cache.sqlite")
    make_geocoder(make_provider("amap", stub), FakeTime(), cache=cache).geocode(ADDRESS)
    result = make_geocoder(make_provider("nominatim", stub), FakeTime(),
                           cache=cache).geocode(ADDRESS)
    assert not result.cached
    assert stub.count(path=AMAP_PATH) == 1 and stub.count(path=NOMINATIM_PATH) == 1


def test_cache_file_is_shared_wal(tmp_path):
    path = tmp_path / "cache.sqlite"
    writer, reader = GeocodeCache(path), GeocodeCache(path)
    assert writer.put(GeocodeResult("长宁路  1号", 121.4, 31.2, "amap", "ok"))
    assert not writer.put(GeocodeResult("x", None, None, "amap", "error", "timeout"))
    hit = reader.get("amap", "长宁路 1号")
    assert hit == GeocodeResult("长宁路 1号", 121.4, 31.2, "amap", "ok", "", cached=True)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT address, updated_at FROM geocode_cache").fetchall()[0][0] \
            == "长宁路 1号"


_WRITER = """
import sys
from geo.data.geocode import GeocodeCache, GeocodeResult
cache = GeocodeCache(sys.argv[1])
for i in range(40):
    cache.put(GeocodeResult(f"{sys.argv[2]} {i}", 121.0 + i / 1000, 31.0, "amap", "ok"))
"""


def test_cache_is_shared_by_processes(tmp_path):
    path = tmp_path / "cache.sqlite"
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), name], cwd=ROOT)
               for name in ("甲路", "乙路")]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0]
    cache = GeocodeCache(path)
    assert all(cache.get("amap", f"{name} {i}") is not None
               for name in ("甲路", "乙路") for i in range(40))


def test_normalise_address():
    assert normalise_address("  长宁路\u3000 1187号\n") == "长宁路 1187号"


# -- rate limit and batches --------------------------------------------------------------------


class TimedProvider:
    """Wraps a provider: records the fake time of each request, and each takes 0.25 s."""

    def __init__(self, inner: Provider, fake: FakeTime) -> None:
        self.inner, self.fake, self.name = inner, fake, inner.name
        self.started: list[float] = []

    def lookup(self, address: str) -> tuple[float, float] | None:
        self.started.append(self.fake.now)
        found = self.inner.lookup(address)
        self.fake.now += 0.25
        return found


def test_requests_are_spaced_by_min_interval(stub):
    fake = FakeTime()
    provider = TimedProvider(make_provider("nominatim", stub), fake)
    geocoder = make_geocoder(provider, fake, min_interval_s=1.0)
    results = [geocoder.geocode(a) for a in KNOWN_WGS84]
    assert [r.status for r in results] == ["ok"] * 3
    assert fake.sleeps == pytest.approx([0.75, 0.75])
    gaps = [b - a for a, b in zip(provider.started, provider.started[1:], strict=False)]
    assert all(gap >= 1.0 - 1e-9 for gap in gaps), gaps
    assert stub.count() == 3


def test_geocode_many_looks_up_each_distinct_address_once(stub, tmp_path):
    fake = FakeTime()
    geocoder = make_geocoder(make_provider("amap", stub), fake,
                             cache=GeocodeCache(tmp_path / "c.sqlite"))
    addresses = [ADDRESS, UNKNOWN, f" {ADDRESS}", "", ADDRESS, "Zhongshan Park", UNKNOWN]
    calls: list[tuple[int, int]] = []
    results = geocoder.geocode_many(addresses, progress=lambda done, total:
                                    calls.append((done, total)))
    assert [r.address for r in results] == addresses
    assert [r.status for r in results] == ["ok", "not_found", "ok", "not_found", "ok", "ok",
                                           "not_found"]
    assert_at(results[5], KNOWN_WGS84["Zhongshan Park"])
    assert results[0] == results[4]
    assert stub.count(address=ADDRESS) == 1 and stub.count(address=UNKNOWN) == 1
    assert stub.count() == 3
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


# -- choosing a provider -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "variable"), [("amap", "AMAP_KEY"),
                                                ("tianditu", "TIANDITU_KEY")])
def test_missing_key_names_the_variable(name, variable):
    with pytest.raises(InputError, match=variable):
        provider_from_name(name, env={})
    with pytest.raises(InputError, match=variable):
        provider_from_name(name, env={variable: "  "}, secrets={})


def test_keys_from_env_or_secrets(stub):
    from_env = provider_from_name("AMap", env={"AMAP_KEY": STUB_KEY}, base_url=stub.url)
    from_secrets = provider_from_name("tianditu", env={}, secrets={"TIANDITU_KEY": STUB_KEY},
                                      base_url=stub.url, timeout=PATIENT_TIMEOUT_S)
    assert isinstance(from_env, AMapProvider) and isinstance(from_secrets, TiandituProvider)
    assert from_env.lookup(ADDRESS) is not None and from_secrets.lookup(ADDRESS) is not None
    nominatim = provider_from_name("nominatim", env={}, domain=stub.host, scheme="http")
    assert isinstance(nominatim, NominatimProvider) and isinstance(nominatim, Provider)
    assert nominatim.lookup(ADDRESS) is not None
    assert STUB_KEY not in repr(from_env)


def test_secrets_without_a_file_count_as_missing():
    class NoSecretsFile(dict):
        def get(self, key, default=None):
            raise FileNotFoundError("no secrets.toml")

    with pytest.raises(InputError, match="AMAP_KEY"):
        provider_from_name("amap", env={}, secrets=NoSecretsFile())


def test_unknown_provider_and_bad_options():
    with pytest.raises(InputError, match="baidu"):
        provider_from_name("baidu", env={})
    with pytest.raises(InputError, match="retries"):
        Geocoder(NominatimProvider(), retries=0)


def test_server_options_point_each_provider_at_one_root(stub):
    assert server_options("amap", stub.url) == {"base_url": stub.url}
    assert server_options(" Nominatim", f"{stub.url}/") == {"domain": stub.host,
                                                            "scheme": "http"}
    assert server_options("tianditu", "") == {} and server_options("amap", None) == {}
    with pytest.raises(InputError, match=r"CHANGNING_GEOCODE_URL='ftp://x': expected http"):
        server_options("amap", "ftp://x")
    for name in PROVIDERS:
        provider = provider_from_name(name, env={"AMAP_KEY": STUB_KEY, "TIANDITU_KEY": STUB_KEY},
                                      timeout=PATIENT_TIMEOUT_S,
                                      **server_options(name, stub.url))
        assert provider.lookup(ADDRESS) == pytest.approx(KNOWN_WGS84[ADDRESS], abs=TOLERANCE_DEG)
    assert stub.count(address=ADDRESS) == 3
