"""Address geocoding for the data importer: AMap, Tianditu or Nominatim, cached and rate limited.

Every coordinate this module returns is WGS-84 longitude/latitude in degrees (EPSG:4326, the
project's :data:`geo.model.config.STORAGE_CRS`). The services themselves live in
:mod:`geo.data.geocode_providers` (re-exported here); this module chooses one by name
(:func:`provider_from_name`), keeps its answers (:class:`GeocodeCache`) and paces the asking.

A :class:`Geocoder` wraps one :class:`Provider`: it answers from a :class:`GeocodeCache` when it
can, spaces requests at least ``min_interval_s`` apart, retries errors with exponential backoff and
never raises for a failed lookup; the :class:`GeocodeResult` says what happened. Service keys come
from the environment or Streamlit secrets (:func:`provider_from_name`), never from the code.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geo.data.geocode_providers import (
    AMAP_RATE_LIMIT_CODES,
    GEOCODE_URL_VARIABLE,
    GEOCODE_USER_AGENT,
    KEY_VARIABLES,
    MIN_INTERVAL_S,
    PROVIDER_NAMES,
    PROVIDERS,
    AMapProvider,
    NominatimProvider,
    Provider,
    ProviderError,
    RateLimited,
    TiandituProvider,
    server_options,
)
from geo.data.sqlite import prepare_folder, sqlite_connection, use_wal
from geo.model.config import STATE_DIR
from geo.model.errors import InputError

__all__ = [
    "AMAP_RATE_LIMIT_CODES",
    "GEOCODE_CACHE",
    "GEOCODE_URL_VARIABLE",
    "GEOCODE_USER_AGENT",
    "KEY_VARIABLES",
    "MIN_INTERVAL_S",
    "PROVIDER_NAMES",
    "STATUSES",
    "AMapProvider",
    "GeocodeCache",
    "GeocodeResult",
    "Geocoder",
    "NominatimProvider",
    "Provider",
    "ProviderError",
    "RateLimited",
    "TiandituProvider",
    "geocoder_for",
    "normalise_address",
    "provider_from_name",
    "server_options",
]

#: The default cache file, next to the scenario store (``CHANGNING_STATE_DIR`` moves both).
GEOCODE_CACHE = STATE_DIR / "geocode_cache.sqlite"
#: What a :class:`GeocodeResult` may say happened.
STATUSES = ("ok", "not_found", "error")

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


# -- results --------------------------------------------------------------------------------------


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


def normalise_address(address: str) -> str:
    """``address`` stripped, every run of whitespace (full-width spaces too) made one space."""
    return " ".join(str(address).split())


# -- choosing a provider -------------------------------------------------------------------------


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
    if clean not in PROVIDERS:
        raise InputError(f"unknown geocoding provider {name!r}; expected one of "
                         f"{', '.join(PROVIDER_NAMES)}")
    variable = KEY_VARIABLES.get(clean)
    if variable is None:
        return PROVIDERS[clean](**options)
    key = _key(variable, os.environ if env is None else env, secrets)
    return PROVIDERS[clean](key, **options)


# -- the cache -----------------------------------------------------------------------------------


def _utc_now() -> str:
    """The current UTC time as ISO-8601 text, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class GeocodeCache:
    """Geocoding answers in the SQLite file ``path``, keyed by provider and normalised address.

    Only ``"ok"`` and ``"not_found"`` answers are kept; errors are retried next time. Every
    operation opens its own connection (WAL mode, a :data:`geo.data.store.BUSY_TIMEOUT_S` busy
    timeout), so several processes may share the file. Coordinates are WGS-84 degrees.

    Parameters
    ----------
    path
        The database file, created with its folder when missing; defaults to
        :data:`GEOCODE_CACHE`.

    Raises
    ------
    geo.data.store.StoreError
        When the file cannot be opened or is not a SQLite database (here or in any method).
    """

    def __init__(self, path: str | Path = GEOCODE_CACHE) -> None:
        self.path = Path(path)
        prepare_folder(self.path, what="geocode cache")
        with self._connect() as conn:
            use_wal(conn)
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


def geocoder_for(name: str, *, env: Mapping[str, str] | None = None,
                 secrets: Mapping[str, str] | None = None,
                 cache_path: str | Path = GEOCODE_CACHE) -> Geocoder:
    """The geocoder the CLI's ``--geocode`` and the Data page use: provider ``name`` with its
    key from ``env`` (default :data:`os.environ`) or ``secrets``, its answers cached at
    ``cache_path``, its requests spaced by :data:`MIN_INTERVAL_S` and sent to
    ``$CHANGNING_GEOCODE_URL`` when that is set (a stand-in server).

    Raises
    ------
    InputError
        For an unknown provider, a missing key, a bad ``CHANGNING_GEOCODE_URL`` or a cache that
        cannot be opened.
    """
    from geo.data.store import StoreError

    env = os.environ if env is None else env
    options = server_options(name, env.get(GEOCODE_URL_VARIABLE))
    provider = provider_from_name(name, env=env, secrets=secrets, **options)
    try:
        cache = GeocodeCache(cache_path)
    except StoreError as exc:
        raise InputError(f"geocoding cache: {exc}") from exc
    return Geocoder(provider, cache=cache,
                    min_interval_s=MIN_INTERVAL_S[str(name).strip().lower()])
