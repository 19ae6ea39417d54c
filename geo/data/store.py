"""The persistent scenario store: saved scenarios in one embedded SQLite file.

Every operation opens its own connection and closes it afterwards, and every write is one
``BEGIN IMMEDIATE`` … ``COMMIT`` transaction, so many threads and processes may share the file:
a write lands whole or not at all, even when the writing process is killed half-way. The file is
in WAL mode with ``synchronous=FULL``; a writer waits up to :data:`BUSY_TIMEOUT_S` for another.

Scenario names are free text: they are stored in a column and never used as file paths.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geo.model.config import SCENARIO_DB
from geo.model.errors import InputError, raise_if_problems

__all__ = ["BUSY_TIMEOUT_S", "MAX_NAME_LENGTH", "ScenarioStore", "StoreError", "StoredScenario",
           "checked_name", "prepare_folder", "sqlite_connection", "text_problems",
           "write_transaction"]

#: Longest scenario name, in characters, after stripping surrounding whitespace.
MAX_NAME_LENGTH = 200
#: Seconds a connection waits for another writer before giving up.
BUSY_TIMEOUT_S = 30

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
"""
_COLUMNS = "id, name, description, body, created_at, updated_at"


WHAT = "scenario store"


def prepare_folder(path: Path, *, what: str) -> None:
    """Create the folder of an SQLite file; :class:`StoreError` naming ``what`` if it fails."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{what} {path}: cannot create its folder: {exc}") from exc


@contextmanager
def sqlite_connection(path: Path, *, what: str, synchronous_full: bool = False,
                      ) -> Iterator[sqlite3.Connection]:
    """A fresh autocommit connection to ``path`` that waits up to :data:`BUSY_TIMEOUT_S` for
    other writers, closed afterwards; SQLite errors become :class:`StoreError` naming ``what``
    and the file. One connection an operation lets many processes share the file."""
    conn = None
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        if synchronous_full:
            conn.execute("PRAGMA synchronous=FULL")
        yield conn
    except sqlite3.Error as exc:
        raise StoreError(f"{what} {path}: {exc}") from exc
    finally:
        if conn is not None:
            conn.close()


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` on an autocommit connection (see
    :func:`sqlite_connection`), or ``ROLLBACK`` when anything goes wrong: a write lands whole or
    not at all, even when the process is killed half-way."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class StoreError(RuntimeError):
    """The store's file cannot be used: not a database, damaged, or not openable."""


@dataclass(frozen=True)
class StoredScenario:
    """One saved scenario.

    ``body`` is the scenario as a GeoJSON-like dict; ``created_at`` and ``updated_at`` are
    ISO-8601 UTC timestamps to the second, e.g. ``"2024-05-01T08:30:00+00:00"``.
    """

    id: int
    name: str
    description: str
    body: dict
    created_at: str
    updated_at: str


def _utc_now() -> str:
    """The current UTC time as ISO-8601 text, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _unicode_problems(text: str, what: str) -> list[str]:
    """A problem when ``text`` cannot be stored as UTF-8 (a lone surrogate, e.g. from JSON's
    ``"\\ud800"``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return [f"{what} is not valid Unicode text (a lone surrogate at character {exc.start + 1})"]
    return []


def _clean_name(name: Any) -> tuple[str, list[str]]:
    """The stripped name and the problems with it (none when it is usable)."""
    if not isinstance(name, str):
        return "", [f"name must be text, not {type(name).__name__}"]
    name = name.strip()
    if not name:
        return name, ["name is empty"]
    if len(name) > MAX_NAME_LENGTH:
        return name, [f"name is {len(name)} characters long; at most {MAX_NAME_LENGTH} allowed"]
    return name, _unicode_problems(name, "name")


def text_problems(name: Any, description: Any) -> list[str]:
    """What is wrong with a scenario's name and description, for saving (empty when nothing):
    the name must be text of 1 to :data:`MAX_NAME_LENGTH` characters once stripped, the
    description text; both valid Unicode."""
    problems = _clean_name(name)[1]
    if not isinstance(description, str):
        problems.append(f"description must be text, not {type(description).__name__}")
    else:
        problems += _unicode_problems(description, "description")
    return problems


def checked_name(name: Any, *, description: Any = "") -> str:
    """The stripped scenario name, once it and ``description`` are found fit to save.

    Raises
    ------
    InputError
        Listing every problem (see :func:`text_problems`).
    """
    raise_if_problems(text_problems(name, description), context="scenario")
    return name.strip()


def _body_text(body: Any) -> tuple[str, list[str]]:
    """The body as JSON text and the problems with it (none when it is usable)."""
    if not isinstance(body, dict):
        return "", [f"body must be a dict (a JSON object), not {type(body).__name__}"]
    try:
        text = json.dumps(body, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return "", [f"body is not JSON-serialisable: {exc}"]
    return text, _unicode_problems(text, "body")


def _validate(name: Any, description: Any, body: Any) -> tuple[str, str]:
    """The stripped name and the body's JSON text, or :class:`InputError` listing every problem."""
    problems = text_problems(name, description)
    text, body_problems = _body_text(body)
    raise_if_problems(problems + body_problems, context="cannot save scenario")
    return name.strip(), text


def _missing(scenario_id: int) -> InputError:
    """The error for an id that names no saved scenario."""
    return InputError(f"no saved scenario with id {scenario_id}")


class ScenarioStore:
    """Saved scenarios in the SQLite file ``path``, created with its directory when missing.

    Parameters
    ----------
    path
        The database file; defaults to :data:`geo.model.config.SCENARIO_DB`.

    Raises
    ------
    StoreError
        When the file cannot be opened or is not a SQLite database.
    """

    def __init__(self, path: str | Path = SCENARIO_DB) -> None:
        self.path = Path(path)
        prepare_folder(self.path, what=WHAT)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            with write_transaction(conn):
                conn.execute(_SCHEMA)

    def __repr__(self) -> str:
        return f"ScenarioStore({str(self.path)!r})"

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        """A fresh connection (``synchronous=FULL``), closed afterwards."""
        return sqlite_connection(self.path, what=WHAT, synchronous_full=True)

    def _scenario(self, row: tuple) -> StoredScenario:
        """A row of ``_COLUMNS`` as a :class:`StoredScenario`."""
        scenario_id, name, description, body, created_at, updated_at = row
        try:
            parsed = json.loads(body)
        except (TypeError, ValueError) as exc:
            raise StoreError(
                f"scenario store {self.path}: scenario {scenario_id} has a damaged body: {exc}"
            ) from exc
        return StoredScenario(scenario_id, name, description, parsed, created_at, updated_at)

    def _select(self, where: str = "", params: tuple = ()) -> list[StoredScenario]:
        """Scenarios matching ``where``, newest ``updated_at`` first, then highest id."""
        sql = f"SELECT {_COLUMNS} FROM scenarios {where} ORDER BY updated_at DESC, id DESC"
        with self._connect() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [self._scenario(row) for row in rows]

    # -- public operations ---------------------------------------------------------------------

    def save(
        self,
        *,
        name: str,
        description: str = "",
        body: dict,
        scenario_id: int | None = None,
    ) -> int:
        """Save a new scenario, or replace saved scenario ``scenario_id``; return its id.

        Parameters
        ----------
        name
            Free text, stripped; 1 to :data:`MAX_NAME_LENGTH` characters. Never a file path.
        description
            Free text.
        body
            The scenario, a JSON-serialisable dict (stored as JSON text).
        scenario_id
            The scenario to replace (its name, description, body and ``updated_at``; its
            ``created_at`` is kept); ``None`` saves a new one.

        Raises
        ------
        InputError
            When a field is unusable (the message names it) or ``scenario_id`` names no
            saved scenario.
        """
        name, text = _validate(name, description, body)
        now = _utc_now()
        with self._connect() as conn, write_transaction(conn):
            if scenario_id is None:
                cursor = conn.execute(
                    "INSERT INTO scenarios (name, description, body, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (name, description, text, now, now),
                )
                return int(cursor.lastrowid)
            cursor = conn.execute(
                "UPDATE scenarios SET name = ?, description = ?, body = ?, updated_at = ?"
                " WHERE id = ?",
                (name, description, text, now, scenario_id),
            )
            if cursor.rowcount != 1:
                raise _missing(scenario_id)
            return scenario_id

    def load(self, scenario_id: int) -> StoredScenario:
        """The saved scenario ``scenario_id``; :class:`InputError` when there is none."""
        found = self._select("WHERE id = ?", (scenario_id,))
        if not found:
            raise _missing(scenario_id)
        return found[0]

    def list(self) -> list[StoredScenario]:
        """Every saved scenario, most recently updated first, then highest id first."""
        return self._select()

    def find(self, name: str) -> list[StoredScenario]:
        """Saved scenarios named exactly ``name`` (stripped, as :meth:`save` stores it)."""
        return self._select("WHERE name = ?", (name.strip(),))

    def delete(self, scenario_id: int) -> None:
        """Delete saved scenario ``scenario_id``; :class:`InputError` when there is none."""
        with self._connect() as conn, write_transaction(conn):
            cursor = conn.execute("DELETE FROM scenarios WHERE id = ?", (scenario_id,))
            if cursor.rowcount != 1:
                raise _missing(scenario_id)

    def check(self) -> None:
        """Run SQLite's ``PRAGMA integrity_check``; :class:`StoreError` unless it says "ok"."""
        with self._connect() as conn:
            results = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
        if results != ["ok"]:
            listed = "\n".join(f"  - {line}" for line in results)
            raise StoreError(f"scenario store {self.path} failed its integrity check:\n{listed}")
