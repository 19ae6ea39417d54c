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
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geo.data.audit import AuditLog, checked
from geo.data.sqlite import (
    BUSY_TIMEOUT_S,
    StoreError,
    prepare_folder,
    sqlite_connection,
    use_wal,
    write_transaction,
)
from geo.model.access import Action, Principal, Refused
from geo.model.config import SCENARIO_DB
from geo.model.errors import InputError, raise_if_problems

__all__ = ["BUSY_TIMEOUT_S", "MAX_NAME_LENGTH", "ScenarioStore", "StaleScenario", "StoreError",
           "StoredScenario", "checked_name", "prepare_folder", "sqlite_connection",
           "text_problems", "write_transaction"]

#: Longest scenario name, in characters, after stripping surrounding whitespace.
MAX_NAME_LENGTH = 200

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
#: Columns added since the first release (owner, street scope, revision), each with the
#: value an older row gets.
_ADDED_COLUMNS = {"owner": "TEXT NOT NULL DEFAULT ''", "streets": "TEXT NOT NULL DEFAULT '[]'",
                  "revision": "INTEGER NOT NULL DEFAULT 1",
                  "updated_by": "TEXT NOT NULL DEFAULT ''",
                  "owner_role": "TEXT NOT NULL DEFAULT ''"}
_COLUMNS = ("id, name, description, body, created_at, updated_at, owner, streets, revision, "
            "updated_by, owner_role")


WHAT = "scenario store"


@dataclass(frozen=True)
class StoredScenario:
    """One saved scenario.

    ``body`` is the scenario as a GeoJSON-like dict; ``created_at`` and ``updated_at`` are
    ISO-8601 UTC timestamps to the second, e.g. ``"2024-05-01T08:30:00+00:00"``. ``owner`` is
    who first saved it (``owner_role``: their role then), ``updated_by`` who saved it last;
    ``streets`` its street scope (the street codes its edits touch; empty: the whole
    district); ``revision`` counts its saves
    from 1.
    """

    id: int
    name: str
    description: str
    body: dict
    created_at: str
    updated_at: str
    owner: str = ""
    streets: tuple[str, ...] = ()
    revision: int = 1
    updated_by: str = ""
    owner_role: str = ""


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


class StaleScenario(InputError):
    """A scenario update built on a revision that is no longer the stored one."""


class ScenarioStore:
    """Saved scenarios in the SQLite file ``path``, created with its directory when missing.

    Every save and delete names who does it (a :class:`~geo.model.access.Principal`): their
    role must allow it for the scenario's street scope (and, for an existing scenario, for the
    scope it had), and an update must carry the revision it was built on. Each change, and each
    refusal, writes an audit line (``audit``: the state database's log by default).

    Parameters
    ----------
    path
        The database file; defaults to :data:`geo.model.config.SCENARIO_DB`.

    Raises
    ------
    StoreError
        When the file cannot be opened or is not a SQLite database.
    """

    def __init__(self, path: str | Path = SCENARIO_DB, *, audit: AuditLog | None = None
                 ) -> None:
        self.path = Path(path)
        self._audit = audit
        prepare_folder(self.path, what=WHAT)
        with self._connect() as conn:
            use_wal(conn)
            with write_transaction(conn):
                conn.execute(_SCHEMA)
                have = {row[1] for row in conn.execute("PRAGMA table_info(scenarios)")}
                for column, kind in _ADDED_COLUMNS.items():
                    if column not in have:
                        conn.execute(f"ALTER TABLE scenarios ADD COLUMN {column} {kind}")

    def __repr__(self) -> str:
        return f"ScenarioStore({str(self.path)!r})"

    @property
    def audit(self) -> AuditLog:
        """Where saves, deletes and refusals are recorded (the state database)."""
        return self._audit if self._audit is not None else AuditLog()

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        """A fresh connection (``synchronous=FULL``), closed afterwards."""
        return sqlite_connection(self.path, what=WHAT, synchronous_full=True)

    def _scenario(self, row: tuple) -> StoredScenario:
        """A row of ``_COLUMNS`` as a :class:`StoredScenario`."""
        scenario_id, name, description, body, created_at, updated_at, owner, streets = row[:8]
        try:
            parsed = json.loads(body)
            scope = tuple(str(code) for code in json.loads(streets))
        except (TypeError, ValueError) as exc:
            raise StoreError(
                f"scenario store {self.path}: scenario {scenario_id} has a damaged body: {exc}"
            ) from exc
        return StoredScenario(scenario_id, name, description, parsed, created_at, updated_at,
                              owner, scope, int(row[8]), row[9], row[10])

    def _select(self, where: str = "", params: tuple = (), conn: sqlite3.Connection | None = None
                ) -> list[StoredScenario]:
        """Scenarios matching ``where``, newest ``updated_at`` first, then highest id."""
        sql = f"SELECT {_COLUMNS} FROM scenarios {where} ORDER BY updated_at DESC, id DESC"
        if conn is not None:
            return [self._scenario(row) for row in conn.execute(sql, params).fetchall()]
        with self._connect() as fresh:
            rows = fresh.execute(sql, params).fetchall()
        return [self._scenario(row) for row in rows]

    def _stored_for_change(self, conn: sqlite3.Connection, who: Principal, action: Action,
                           scenario_id: int, revision: int | None) -> StoredScenario:
        """The stored scenario ``scenario_id`` once ``who`` may change it (its scope) and
        ``revision`` is its revision; refused, stale or missing otherwise."""
        found = self._select("WHERE id = ?", (scenario_id,), conn=conn)
        if not found:
            raise _missing(scenario_id)
        stored = found[0]
        checked(self.audit, who, action, object=_object(stored), streets=stored.streets)
        if who.role == "street" and who.name != stored.owner \
                and who.role_text != stored.owner_role:
            reason = (f"role {who.role_text} may change only the scenarios of its own office, "
                      f"not one saved by {stored.owner or 'an earlier release'}")
            self.audit.append(who, action.value, object=_object(stored), outcome="refused",
                              summary=reason)
            raise Refused(f"refused: {reason}")
        if revision is None or int(revision) != stored.revision:
            raise StaleScenario(
                f"scenario {scenario_id} “{stored.name}” was saved again by {stored.updated_by} "
                f"at {stored.updated_at} (revision {stored.revision}); this change was built on "
                f"revision {revision}: nothing was changed — open it again, or save as new")
        return stored

    # -- public operations ---------------------------------------------------------------------

    def save(self, who: Principal, *, name: str, description: str = "", body: dict,
             streets: Sequence[str] = (), scenario_id: int | None = None,
             revision: int | None = None) -> StoredScenario:
        """Save a new scenario, or replace saved scenario ``scenario_id``; the stored scenario.

        Parameters
        ----------
        who
            Who saves: their role must allow ``scenario.save`` for ``streets`` (and, on an
            update, for the stored scenario's scope).
        name
            Free text, stripped; 1 to :data:`MAX_NAME_LENGTH` characters. Never a file path.
        description
            Free text.
        body
            The scenario, a JSON-serialisable dict (stored as JSON text).
        streets
            Its street scope: the codes of the streets its edits touch (empty: the district).
        scenario_id, revision
            The scenario to replace and the revision the change was built on (its name,
            description, body, scope, ``updated_at`` and ``updated_by`` change, its revision
            goes up by one; its owner and ``created_at`` are kept); ``None``: a new one.

        Raises
        ------
        Refused
            When the role does not allow it; nothing is changed, an audit line says why.
        AuditNotWritten
            When it was saved but its audit line could not be written (``result``: the
            stored scenario).
        StaleScenario
            When ``revision`` is not the stored one (someone saved it since).
        InputError
            When a field is unusable (the message names it) or ``scenario_id`` names no
            saved scenario.
        """
        scope = tuple(sorted({str(code) for code in streets}))
        checked(self.audit, who, Action.SCENARIO_SAVE, object=f"scenario {name!s:.200}",
                streets=scope)
        name, text = _validate(name, description, body)
        now, scope_text = _utc_now(), json.dumps(scope)
        with self._connect() as conn, write_transaction(conn):
            if scenario_id is None:
                cursor = conn.execute(
                    "INSERT INTO scenarios (name, description, body, created_at, updated_at,"
                    " owner, streets, revision, updated_by, owner_role)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                    (name, description, text, now, now, who.name, scope_text, who.name,
                     who.role_text))
                scenario_id, revision = int(cursor.lastrowid), 0
            else:
                self._stored_for_change(conn, who, Action.SCENARIO_SAVE, scenario_id, revision)
                conn.execute(
                    "UPDATE scenarios SET name = ?, description = ?, body = ?, updated_at = ?,"
                    " streets = ?, revision = revision + 1, updated_by = ? WHERE id = ?",
                    (name, description, text, now, scope_text, who.name, scenario_id))
            saved = self._select("WHERE id = ?", (scenario_id,), conn=conn)[0]
        self.audit.record(saved, who, Action.SCENARIO_SAVE.value, object=_object(saved),
                          summary=f"revision {saved.revision}; streets "
                                  f"{', '.join(scope) or 'whole district'}")
        return saved

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

    def delete(self, who: Principal, scenario_id: int, *, revision: int) -> None:
        """Delete saved scenario ``scenario_id``, last seen at ``revision``.

        Raises
        ------
        Refused, StaleScenario, InputError
            As :meth:`save`: not allowed for its scope, saved again since, or no such
            scenario; nothing is deleted.
        """
        with self._connect() as conn, write_transaction(conn):
            stored = self._stored_for_change(conn, who, Action.SCENARIO_DELETE, scenario_id,
                                             revision)
            conn.execute("DELETE FROM scenarios WHERE id = ?", (scenario_id,))
        self.audit.record(None, who, Action.SCENARIO_DELETE.value, object=_object(stored),
                          summary=f"revision {stored.revision}, owner {stored.owner}")

    def check(self) -> None:
        """Run SQLite's ``PRAGMA integrity_check``; :class:`StoreError` unless it says "ok"."""
        with self._connect() as conn:
            results = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
        if results != ["ok"]:
            listed = "\n".join(f"  - {line}" for line in results)
            raise StoreError(f"scenario store {self.path} failed its integrity check:\n{listed}")


def _object(stored: StoredScenario) -> str:
    return f"scenario {stored.id} {stored.name}"
