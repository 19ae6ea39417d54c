"""The audit trail: every sign-in (and failed one), import, rollback, restore, scenario save and
delete, export and user change — and every refusal — appended to one table of the state
database (``CHANGNING_STATE_DIR``/state.sqlite).

The table is append-only: triggers refuse ``UPDATE`` and ``DELETE``. Each line is written in
its own transaction right after the change it records has committed (or, for a refusal, before
the refusal is raised), so a line once written is never lost; a process killed between a change
and its line loses that one line, never the change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from geo.data.sqlite import (
    StoreError,
    prepare_folder,
    sqlite_connection,
    use_wal,
    write_transaction,
)
from geo.model import config
from geo.model.access import Action, Principal, Refused, refusal
from geo.model.errors import InputError

__all__ = ["AuditEntry", "AuditLog", "AuditNotWritten", "StateTables", "checked", "parse_since",
           "utc_now"]

WHAT = "state database"
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        user TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        object TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX IF NOT EXISTS audit_at ON audit (at)",
    """CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
       BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
       BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
)
_COLUMNS = "id, at, user, role, action, object, outcome, summary"
#: (file, existed, schema) of the tables created by this process.
_PREPARED: set[tuple[str, bool, tuple[str, ...]]] = set()
#: Longest text kept in a field of a line (longer text is cut and marked with "…").
MAX_FIELD = 2000


def utc_now() -> str:
    """The current UTC time as ISO-8601 text, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _short(text: object) -> str:
    text = str(text)
    return text if len(text) <= MAX_FIELD else text[:MAX_FIELD - 1] + "…"


class AuditNotWritten(StoreError):
    """The change was made and committed (``result``: what its function returns), but its
    audit line could not be written; the message says both."""

    def __init__(self, result: object, cause: BaseException) -> None:
        super().__init__(f"the change was made, but its audit line could not be written: "
                         f"{cause}")
        self.result = result


@dataclass(frozen=True)
class AuditEntry:
    """One line of the trail. ``outcome`` is ``"ok"``, ``"refused"`` or ``"failed"``."""

    id: int
    at: str
    user: str
    role: str
    action: str
    object: str
    outcome: str
    summary: str

    def as_dict(self) -> dict:
        """The line as a JSON-ready dict (the ``audit --format json`` items)."""
        return asdict(self)


def parse_since(text: str) -> str:
    """``--since`` as ISO-8601 UTC text: a date (``2026-12-01``) or a date and time (with a
    zone, or taken as UTC); :class:`InputError` otherwise."""
    try:
        moment = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise InputError(f"--since {text!r}: expected a date (2026-12-01) or a date and time "
                         "(2026-12-01T08:30:00+08:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class AuditLog:
    """The append-only audit table of the state database at ``path`` (default
    :data:`geo.model.config.STATE_DB`, read when the log is made)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path if path is not None else config.STATE_DB)
        self.ensure_tables(_SCHEMA, wal=True)

    def ensure_tables(self, schema: tuple[str, ...], *, wal: bool = False) -> None:
        """Run ``schema`` (``CREATE … IF NOT EXISTS`` statements) in one transaction, once a
        process for this file (a page run need not take the write lock each time)."""
        done = (str(self.path.resolve()), self.path.exists(), schema)
        if done in _PREPARED:
            return
        prepare_folder(self.path, what=WHAT)
        with self.connect() as conn:
            if wal:
                use_wal(conn)
            with write_transaction(conn):
                for statement in schema:
                    conn.execute(statement)
        _PREPARED.add((str(self.path.resolve()), True, schema))

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r})"

    def connect(self):
        """A fresh connection to the state database (``synchronous=FULL``), closed after."""
        return sqlite_connection(self.path, what=WHAT, synchronous_full=True)

    def append(self, who: Principal | None, action: str, *, object: str = "",
               outcome: str = "ok", summary: str = "", user: str | None = None,
               conn: sqlite3.Connection | None = None) -> None:
        """Append one line: now, who (``user`` when no principal is known, e.g. a failed
        sign-in), their role, the action, its object, the outcome and a short summary.
        ``conn``: a connection to this file inside the transaction of the change the line
        records (so both land, or neither); else the line is its own transaction."""
        name = who.name if who is not None else (user or "")
        role = "" if who is None else who.role_text + (
            f" ({who.source})" if who.source in ("shell", "local-mode") else "")
        row = (utc_now(), _short(name), role, str(action), _short(object), outcome,
               _short(summary))
        sql = f"INSERT INTO audit ({_COLUMNS.removeprefix('id, ')}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        if conn is not None:
            conn.execute(sql, row)
            return
        with self.connect() as fresh, write_transaction(fresh):
            fresh.execute(sql, row)

    def record(self, result: object, who: Principal, action: str, *, object: str = "",
               summary: str = "") -> None:
        """:meth:`append` the line of a change already committed, whose function returns
        ``result``; :class:`AuditNotWritten` carrying it when the line cannot be written."""
        try:
            self.append(who, action, object=object, summary=summary)
        except StoreError as exc:
            raise AuditNotWritten(result, exc) from exc

    def entries(self, *, since: str | None = None, user: str | None = None,
                action: str | None = None, outcome: str | None = None,
                limit: int | None = None) -> list[AuditEntry]:
        """Lines oldest first, filtered: at or after ``since`` (ISO-8601 UTC text, see
        :func:`parse_since`), by exactly ``user``, by action prefix (``"scenario"`` matches
        ``scenario.save``), by ``outcome``; the newest ``limit`` when given."""
        where, params = [], []
        if since:
            where.append("at >= ?")
            params.append(since)
        if user:
            where.append("user = ?")
            params.append(user)
        if action:
            where.append("(action = ? OR action LIKE ? ESCAPE '\\')")
            params += [action, action.replace("\\", "\\\\").replace("%", "\\%")
                       .replace("_", "\\_") + ".%"]
        if outcome:
            where.append("outcome = ?")
            params.append(outcome)
        sql = f"SELECT {_COLUMNS} FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self.connect() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [AuditEntry(*row) for row in reversed(rows)]


def checked(log: AuditLog, who: Principal, action: Action, *, object: str = "",
            streets: Iterable[str] = ()) -> None:
    """Return when ``who`` may do ``action`` (on ``streets``); otherwise append a ``refused``
    line saying why and raise :class:`~geo.model.access.Refused`."""
    reason = refusal(who, action, streets=streets)
    if reason is None:
        return
    log.append(who, action.value, object=object, outcome="refused", summary=reason)
    raise Refused(f"refused: {reason}")


class StateTables:
    """Tables of the state database beside the audit trail (``SCHEMA``, created once a
    process), written with their audit lines: the base of the user and target stores."""

    SCHEMA: tuple[str, ...] = ()

    def __init__(self, path: str | Path | None = None) -> None:
        self.audit = AuditLog(path)
        self.path = self.audit.path
        self.audit.ensure_tables(self.SCHEMA)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def _connect(self):
        return self.audit.connect()
