"""The working dataset, versioned: every import, boundary replacement, rollback and restore of
the demo is a new version (number, time, who, a summary of what changed per category) in one
SQLite file under the state directory; the newest is what every page, report and command uses.

A save is one ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction, so a process killed at any moment
leaves exactly the old version or the new one. A save states the version it was built on
(``base_version``); when another save landed in between, it is refused with
:class:`StaleVersion` and nothing is written, so two imports at the same time never silently
lose one. Older versions are kept up to a bound (``CHANGNING_DATASET_VERSIONS``, default
:data:`geo.model.config.DATASET_VERSIONS_KEPT`); any kept one can be rolled back to, which is
itself a new version. Streets and facilities are stored as GeoParquet, once per distinct
content. Without any version the dataset is the embedded demo (version 0).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pyogrio

from geo.data.audit import AuditLog, checked
from geo.data.dataset import DEMO, Dataset, change_summary, demo_dataset
from geo.data.io import read_demo
from geo.data.network_io import network_bytes, network_from_bytes, read_network
from geo.data.population_io import population_bytes, population_from_bytes, read_population
from geo.data.schema import BOUNDARY_COLUMNS, normalize_facilities
from geo.data.sqlite import (
    StoreError,
    prepare_folder,
    sqlite_connection,
    use_wal,
    write_transaction,
)
from geo.model import config
from geo.model.access import Action, Principal
from geo.model.errors import InputError
from geo.model.targets import Targets

__all__ = [
    "DatasetStore",
    "StaleVersion",
    "VersionInfo",
    "embedded_demo",
    "versions_kept",
]

WHAT = "dataset store"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS layers (
    key TEXT PRIMARY KEY,
    rows INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    version INTEGER PRIMARY KEY,
    created TEXT NOT NULL,
    user TEXT NOT NULL,
    summary TEXT NOT NULL,
    origins TEXT NOT NULL,
    streets TEXT NOT NULL REFERENCES layers(key),
    facilities TEXT NOT NULL REFERENCES layers(key),
    population TEXT REFERENCES layers(key),
    network TEXT REFERENCES layers(key)
);
"""
#: Columns added to ``versions`` after its first release: (name, declaration).
_ADDED_COLUMNS = (("population", "TEXT REFERENCES layers(key)"),
                  ("network", "TEXT REFERENCES layers(key)"))


class StaleVersion(InputError):
    """A save built on a version that is no longer the newest: nothing was written."""

    def __init__(self, *, base: int, current: int) -> None:
        super().__init__(f"the data changed since it was checked (checked against version "
                         f"{base}, now version {current}); nothing was saved: check again "
                         f"against the current data")
        self.base, self.current = base, current


@dataclass(frozen=True)
class VersionInfo:
    """One stored version: its number, when (UTC, ISO 8601), who, and the summary of what
    changed (see :func:`change_summary`)."""

    version: int
    created: str
    user: str
    summary: dict

    def as_dict(self) -> dict:
        """The CLI's JSON of a version."""
        return {"version": self.version, "created": self.created, "user": self.user,
                "summary": self.summary}


def versions_kept() -> int:
    """How many versions are kept: ``CHANGNING_DATASET_VERSIONS``, else the default.

    Raises
    ------
    InputError
        When the variable is not a whole number ≥ 2.
    """
    text = os.environ.get("CHANGNING_DATASET_VERSIONS", "").strip()
    if not text:
        return config.DATASET_VERSIONS_KEPT
    if not text.isdecimal() or int(text) < 2:
        raise InputError(f"CHANGNING_DATASET_VERSIONS={text!r}: a whole number ≥ 2")
    return int(text)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _payload(frame: gpd.GeoDataFrame) -> tuple[str, bytes]:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return _hashed(buffer.getvalue())


def _hashed(data: bytes) -> tuple[str, bytes]:
    return hashlib.sha256(data).hexdigest(), data


def _frame(data: bytes) -> gpd.GeoDataFrame:
    return gpd.read_parquet(io.BytesIO(data))


def _origins_json(dataset: Dataset) -> str:
    return json.dumps({"boundaries": dataset.boundaries_origin,
                       "facilities": {c: list(o) for c, o in dataset.facility_origins.items()},
                       "population": dataset.population_origin,
                       "elderly": bool(dataset.population is not None
                                       and dataset.population.has_elderly),
                       "network": dataset.network_origin},
                      ensure_ascii=False)


def embedded_demo(targets: Targets) -> Dataset:
    """The embedded demo dataset: streets, facilities, and where the demo's files are there,
    its residential areas and walking network (authored approximations, not official data)."""
    streets, facilities = read_demo(targets)
    population = network = None
    if config.DEMO_POPULATION.is_file():
        population = read_population(config.DEMO_POPULATION, field="population",
                                     elderly_field="elderly")
    if config.DEMO_NETWORK.is_file():
        network = read_network(config.DEMO_NETWORK)
    return demo_dataset(streets, facilities, population=population, network=network)


class DatasetStore:
    """The versions of the working dataset in the SQLite file ``path`` (created with its
    folder when missing).

    Raises
    ------
    StoreError
        When the file cannot be opened or is not such a database.
    """

    def __init__(self, path: str | Path | None = None, *, audit: AuditLog | None = None) -> None:
        self.path = Path(path) if path is not None else config.DATASET_DB
        self._audit = audit

    @property
    def audit(self) -> AuditLog:
        """Where the store's changes and refusals are recorded (the state database)."""
        return self._audit if self._audit is not None else AuditLog()

    def _create(self) -> None:
        """The file, its folder and its tables, when a first version is saved."""
        prepare_folder(self.path, what=WHAT)
        with self._connect() as conn:
            use_wal(conn)
            conn.executescript(_SCHEMA)
            present = self._columns(conn)
            for name, declaration in _ADDED_COLUMNS:
                if name not in present:
                    conn.execute(f"ALTER TABLE versions ADD COLUMN {name} {declaration}")

    @staticmethod
    def _columns(conn: sqlite3.Connection) -> set[str]:
        return {row[1] for row in conn.execute("PRAGMA table_info(versions)")}

    def __repr__(self) -> str:
        return f"DatasetStore({str(self.path)!r})"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection; a file SQLite cannot use is a :class:`StoreError` that says how
        to go on."""
        try:
            with sqlite_connection(self.path, what=WHAT, synchronous_full=True) as conn:
                yield conn
        except StoreError as exc:
            raise StoreError(f"{exc}; restoring the demo data (the Data page, or python cli.py "
                             f"dataset restore-demo) sets the file aside and starts again"
                             ) from None

    def set_aside(self) -> Path:
        """Move a damaged store file (and its journal) aside, named with the time, so that
        the next save starts a new one; the moved file's path."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        moved = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        os.replace(self.path, moved)
        return moved

    # -- reading ---------------------------------------------------------------------------

    def current_version(self) -> int:
        """The newest version's number; 0 when none is stored (the demo)."""
        if not self.path.exists():
            return 0
        with self._connect() as conn:
            return self._current(conn)

    @staticmethod
    def _current(conn: sqlite3.Connection) -> int:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'versions'").fetchone():
            return 0  # created by a first save that has not made its tables yet
        return conn.execute("SELECT COALESCE(MAX(version), 0) FROM versions").fetchone()[0]

    def versions(self) -> list[VersionInfo]:
        """Every kept version, newest first."""
        if not self.current_version():
            return []
        with self._connect() as conn:
            rows = conn.execute("SELECT version, created, user, summary FROM versions "
                                "ORDER BY version DESC").fetchall()
        return [VersionInfo(v, created, user, self._json(summary, v)) for v, created, user,
                summary in rows]

    def _json(self, text: str, version: int) -> dict:
        try:
            value = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"{WHAT} {self.path}: version {version} is damaged ({exc})"
                             ) from None
        return value if isinstance(value, dict) else {}

    def read(self, targets: Targets, *, version: int | None = None,
             known_categories: Collection[str] | None = None) -> Dataset:
        """The dataset of ``version`` (default: the newest; 0: the embedded demo), its
        facilities checked by the rules again.

        Raises
        ------
        InputError
            When the version is not kept, or its data cannot be read or fails the rules (the
            message says so; roll back or restore the demo).
        """
        number = self.current_version() if version is None else version
        if number == 0:
            return embedded_demo(targets)
        row = None
        if 0 < number < 2**63:  # SQLite's integers; a larger number is no version either
            with self._connect() as conn:
                extra = [c for c, _ in _ADDED_COLUMNS if c in self._columns(conn)]
                joins = "".join(f" LEFT JOIN layers {c[0]}x ON {c[0]}x.key = versions.{c}"
                                for c in extra)
                picked = "".join(f", {c[0]}x.payload" for c in extra)
                row = conn.execute("SELECT origins, s.payload, f.payload" + picked
                                   + " FROM versions "
                                   "JOIN layers s ON s.key = versions.streets "
                                   "JOIN layers f ON f.key = versions.facilities" + joins
                                   + " WHERE version = ?", (number,)).fetchone()
        if row is None:
            raise InputError(f"dataset version {number} is not kept (kept: "
                             f"{', '.join(str(v.version) for v in self.versions()) or 'none'})")
        source = f"dataset version {number} ({self.path})"
        try:
            origins = json.loads(row[0])
            boundaries_origin = str(origins["boundaries"])
            facility_origins = {str(c): tuple(map(str, o))
                                for c, o in dict(origins["facilities"]).items()}
            streets, facilities = _frame(row[1]), _frame(row[2])
        except Exception as exc:  # JSON, Arrow, geometry and shape errors mean damaged data
            raise InputError(f"{source}: cannot be read ({type(exc).__name__}: {exc})") from None
        extra = dict(zip([c for c, _ in _ADDED_COLUMNS], row[3:], strict=False))
        population = (population_from_bytes(extra["population"],
                                            has_elderly=bool(origins.get("elderly")),
                                            source=f"{source}: population")
                      if extra.get("population") else None)
        network = (network_from_bytes(extra["network"], source=f"{source}: walking network")
                   if extra.get("network") else None)
        facilities = normalize_facilities(
            facilities, known_categories=known_categories or targets.keys(), source=source,
            first_row=1, row_noun="facility")
        return Dataset(streets, facilities, boundaries_origin, facility_origins,
                       population=population, network=network,
                       population_origin=str(origins.get("population") or "")
                       if population is not None else "",
                       network_origin=str(origins.get("network") or "")
                       if network is not None else "")

    # -- writing ---------------------------------------------------------------------------

    def _prune(self, conn: sqlite3.Connection, newest: int) -> None:
        conn.execute("DELETE FROM versions WHERE version <= ?", (newest - versions_kept(),))
        kept = " AND ".join(f"key NOT IN (SELECT {c} FROM versions WHERE {c} IS NOT NULL)"
                            for c in ("streets", "facilities", "population", "network"))
        conn.execute(f"DELETE FROM layers WHERE {kept}")

    def migrate_legacy(self, legacy: Path, targets: Targets, *, user: str) -> int | None:
        """Store the single ``dataset.gpkg`` of earlier releases as a version when none is
        stored yet, and rename it ``*.migrated``; its version number, or None when there was
        nothing to migrate."""
        if not legacy.is_file() or self.current_version():
            return None
        try:
            layers = {name: pyogrio.read_dataframe(legacy, layer=name)
                      for name in ("streets", "facilities", "about")}
            origins = json.loads(layers["about"].set_index("key").loc["origins", "value"])
            facilities = normalize_facilities(layers["facilities"],
                                              known_categories=targets.keys(),
                                              source=f"stored dataset {legacy}", first_row=1,
                                              row_noun="feature")
        except InputError:
            raise
        except Exception as exc:  # GDAL, JSON and key errors all mean a damaged file
            raise InputError(f"stored dataset {legacy}: cannot be read ({exc}); move it away "
                             f"to go on") from None
        dataset = Dataset(gpd.GeoDataFrame(layers["streets"], geometry="geometry"),
                          facilities, origins["boundaries"],
                          {c: tuple(o) for c, o in origins["facilities"].items()})
        number = self._store(dataset, base_version=0, user=user, summary=change_summary(
            embedded_demo(targets), dataset, action="migrate",
            detail=legacy.name))
        legacy.rename(legacy.with_name(legacy.name + ".migrated"))
        return number

    def save(self, dataset: Dataset, *, base_version: int, who: Principal,
             summary: Mapping) -> int:
        """Store ``dataset`` (an import: facilities or boundaries) as the next version and
        return its number; an audit line records it.

        Parameters
        ----------
        base_version
            The version ``dataset`` was built on.
        who, summary
            Who saves (their role must allow ``dataset.import``), and what changed (see
            :func:`change_summary`).

        Raises
        ------
        Refused
            When ``who`` may not import; nothing is written but the audit line.
        StaleVersion
            When ``base_version`` is not the newest version; nothing is written.
        """
        checked(self.audit, who, Action.IMPORT, object="dataset")
        number = self._store(dataset, base_version=base_version, user=who.name,
                             summary=summary)
        self._audited(who, Action.IMPORT, number, summary)
        return number

    def _audited(self, who: Principal, action: Action, number: int, summary: Mapping) -> None:
        detail = summary.get("detail") or summary.get("action", "")
        self.audit.record(number, who, action.value, object=f"dataset version {number}",
                          summary=f"{summary.get('action', '')}: {detail}".strip(": "))

    def _store(self, dataset: Dataset, *, base_version: int | None, user: str,
               summary: Mapping) -> int:
        """Store ``dataset`` as the next version, unchecked (``base_version`` None: on whatever
        is newest, for a rollback or a restore, which do not build on the data)."""
        keys_frames = (dataset.streets[BOUNDARY_COLUMNS], dataset.facilities)
        payloads = [_payload(gpd.GeoDataFrame(frame)) for frame in keys_frames]
        optional = [_hashed(population_bytes(dataset.population))
                    if dataset.population is not None else None,
                    _hashed(network_bytes(dataset.network))
                    if dataset.network is not None else None]
        self._create()
        with self._connect() as conn, write_transaction(conn):
            current = self._current(conn)
            if base_version is not None and base_version != current:
                raise StaleVersion(base=base_version, current=current)
            keys = []
            for (key, data), frame in zip(payloads, keys_frames, strict=True):
                # stored once per content; a stored copy that no longer matches its hash
                # (a damaged file) is written again
                conn.execute("INSERT INTO layers (key, rows, payload) VALUES (?, ?, ?) "
                             "ON CONFLICT(key) DO UPDATE SET rows = excluded.rows, "
                             "payload = excluded.payload WHERE payload != excluded.payload",
                             (key, len(frame), data))
                keys.append(key)
            for stored in optional:
                if stored is not None:
                    conn.execute("INSERT INTO layers (key, rows, payload) VALUES (?, 0, ?) "
                                 "ON CONFLICT(key) DO UPDATE SET payload = excluded.payload "
                                 "WHERE payload != excluded.payload", stored)
                keys.append(stored[0] if stored is not None else None)
            number = current + 1
            conn.execute("INSERT INTO versions (version, created, user, summary, origins, "
                         "streets, facilities, population, network) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (number, _now(), user, json.dumps(dict(summary), ensure_ascii=False),
                          _origins_json(dataset), *keys))
            self._prune(conn, number)
        return number

    def rollback(self, to: int, targets: Targets, *, who: Principal) -> int:
        """A new version holding the data of version ``to`` (0: the demo); its number.

        Raises
        ------
        Refused
            When ``who`` may not roll back (restore, for version 0).
        InputError
            When ``to`` is not a kept version, or its data cannot be read.
        """
        if to == 0:
            return self.restore_demo(targets, who=who)
        checked(self.audit, who, Action.ROLLBACK, object=f"dataset version {to}")
        old = self.read(targets, version=to)
        current = self._current_or_nothing(targets, like=old)
        summary = change_summary(current, old, action="rollback", detail=f"to version {to}")
        number = self._store(old, base_version=None, user=who.name, summary=summary)
        self._audited(who, Action.ROLLBACK, number, summary)
        return number

    def _current_or_nothing(self, targets: Targets, *, like: Dataset) -> Dataset:
        """The newest version, or an empty dataset when it cannot be read (a damaged newest
        version is exactly when rolling back or restoring is wanted)."""
        try:
            return self.read(targets)
        except (InputError, StoreError):
            return demo_dataset(like.streets.iloc[0:0], like.facilities.iloc[0:0])

    def restore_demo(self, targets: Targets, *, who: Principal) -> int:
        """A new version holding the embedded demo data; its number. A store file SQLite
        cannot use is set aside first (see :meth:`set_aside`). :class:`Refused` when ``who``
        may not restore (nothing is changed)."""
        checked(self.audit, who, Action.RESTORE, object="dataset")
        demo = embedded_demo(targets)
        try:
            self.current_version()
        except StoreError:
            self.set_aside()
        current = self._current_or_nothing(targets, like=demo)
        summary = change_summary(current, demo, action="restore-demo", detail=DEMO)
        number = self._store(demo, base_version=None, user=who.name, summary=summary)
        self._audited(who, Action.RESTORE, number, summary)
        return number
