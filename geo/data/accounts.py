"""Local accounts: the users table of the state database, argon2 password hashes, sign-in with
a limit on failed attempts, and the role of a single-sign-on user looked up by e-mail or subject.

Every change (add, remove, new password) requires the ``users.manage`` action of the caller and
writes an audit line; so does every sign-in, failed sign-in and locked-out attempt.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from geo.data.audit import StateTables, checked, utc_now
from geo.data.files import env_number
from geo.data.sqlite import write_transaction
from geo.model import config
from geo.model.access import Action, Principal, parse_role
from geo.model.errors import InputError

__all__ = ["MIN_PASSWORD", "Account", "SignInRefused", "UserStore", "checked_user_name",
           "lock_minutes", "max_failures"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS signin_failures (
        name TEXT NOT NULL,
        at TEXT NOT NULL,
        client TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX IF NOT EXISTS signin_failures_name ON signin_failures (name, at)",
    "CREATE INDEX IF NOT EXISTS signin_failures_client ON signin_failures (client, at)",
)
#: Failed attempts from one client address (any names) that lock it, as a multiple of the
#: failures that lock one name.
CLIENT_FACTOR = 4
#: Shortest password, in characters.
MIN_PASSWORD = 10
MAX_NAME = 100
_HASHER = PasswordHasher()
#: Verified against when the name is unknown, so an unknown name takes as long as a known one.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


class SignInRefused(InputError):
    """The name and password do not match (``locked`` False), or the name is locked after too
    many failures (``locked`` True)."""

    def __init__(self, message: str, *, locked: bool = False) -> None:
        super().__init__(message)
        self.locked = locked


@dataclass(frozen=True)
class Account:
    """One local account (never its password or hash)."""

    name: str
    role: str
    has_password: bool
    created_at: str
    updated_at: str

    def as_dict(self) -> dict:
        """The account as ``users list --format json`` lists it."""
        return asdict(self)


def max_failures() -> int:
    """Failed sign-ins for a name before it is locked (``CHANGNING_SIGNIN_MAX_FAILURES``)."""
    return int(env_number("CHANGNING_SIGNIN_MAX_FAILURES", config.SIGNIN_MAX_FAILURES,
                          whole=True))


def lock_minutes() -> float:
    """How long failures count and a locked name stays locked
    (``CHANGNING_SIGNIN_LOCK_MINUTES``)."""
    return env_number("CHANGNING_SIGNIN_LOCK_MINUTES", config.SIGNIN_LOCK_MINUTES)


def checked_user_name(name: object) -> str:
    """A user name, NFKC-normalised and stripped: 1 to 100 characters, no control or
    invisible characters; :class:`InputError` otherwise."""
    text = unicodedata.normalize("NFKC", str(name)).strip()
    if not text or len(text) > MAX_NAME:
        raise InputError(f"user name {str(name)[:120]!r}: 1 to {MAX_NAME} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") for ch in text):
        raise InputError(f"user name {text!r}: control or invisible characters")
    return text


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password: at least {MIN_PASSWORD} characters")
    if any(unicodedata.category(ch) == "Cs" for ch in password):
        raise InputError("password: not valid text")
    return password


class UserStore(StateTables):
    """The users table of the state database at ``path`` (default
    :data:`geo.model.config.STATE_DB`); its audit lines go to the same file."""

    SCHEMA = _SCHEMA

    # -- reading -------------------------------------------------------------------------------

    def count(self) -> int:
        """How many local accounts there are (with a password or not)."""
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    def _row(self, name: str) -> tuple | None:
        with self._connect() as conn:
            return conn.execute("SELECT name, role, password_hash, created_at, updated_at "
                                "FROM users WHERE name = ?", (name,)).fetchone()

    def account(self, name: str) -> Account | None:
        """The account called ``name`` (normalised as stored), or None."""
        try:
            row = self._row(checked_user_name(name))
        except InputError:
            return None
        if row is None:
            return None
        return Account(row[0], row[1], row[2] is not None, row[3], row[4])

    def principal(self, name: str, *, source: str) -> Principal | None:
        """The principal of account ``name`` as it is now (its role may have changed since it
        signed in), or None when there is no such account."""
        account = self.account(name)
        if account is None:
            return None
        return Principal.with_role(account.name, account.role, source=source)

    def accounts(self, who: Principal) -> list[Account]:
        """Every account, by name; only for a role that manages users."""
        checked(self.audit, who, Action.USERS, object="users")
        with self._connect() as conn:
            rows = conn.execute("SELECT name, role, password_hash, created_at, updated_at "
                                "FROM users ORDER BY name").fetchall()
        return [Account(r[0], r[1], r[2] is not None, r[3], r[4]) for r in rows]

    # -- changing ------------------------------------------------------------------------------

    def add(self, who: Principal, name: str, *, role: str, password: str | None) -> Account:
        """A new account (``password`` None: single sign-on only, no local sign-in).

        Raises
        ------
        Refused
            When ``who`` may not manage users.
        InputError
            When the name, role or password is unusable or the name is taken.
        """
        checked(self.audit, who, Action.USERS, object=f"user {str(name)[:MAX_NAME]}")
        name = checked_user_name(name)
        parse_role(role)
        hashed = None if password is None else _HASHER.hash(_checked_password(password))
        now = utc_now()
        with self._connect() as conn, write_transaction(conn):
            taken = [row[0] for row in conn.execute("SELECT name FROM users")
                     if row[0].casefold() == name.casefold()]
            if taken:
                raise InputError(f"user {name!r}: {taken[0]!r} exists already (names differing "
                                 "only in case are not allowed; users passwd changes the "
                                 "password; remove and add to change the role)")
            conn.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                         (name, role.strip(), hashed, now, now))
            self.audit.append(who, "users.add", object=f"user {name}", conn=conn,
                              summary=f"role {role.strip()}" + ("" if hashed else
                                                               ", no password"))
        return self.account(name)

    def remove(self, who: Principal, name: str) -> None:
        """Remove account ``name``; its sessions end at their next page run."""
        checked(self.audit, who, Action.USERS, object=f"user {str(name)[:MAX_NAME]}")
        name = checked_user_name(name)
        with self._connect() as conn, write_transaction(conn):
            if conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount != 1:
                raise InputError(f"user {name!r}: no such user")
            conn.execute("DELETE FROM signin_failures WHERE name = ?", (name,))
            self.audit.append(who, "users.remove", object=f"user {name}", conn=conn)

    def set_password(self, who: Principal, name: str, password: str) -> None:
        """Give account ``name`` a new password (and clear its failed attempts)."""
        checked(self.audit, who, Action.USERS, object=f"user {str(name)[:MAX_NAME]}")
        name = checked_user_name(name)
        hashed = _HASHER.hash(_checked_password(password))
        with self._connect() as conn, write_transaction(conn):
            cursor = conn.execute("UPDATE users SET password_hash = ?, updated_at = ? "
                                  "WHERE name = ?", (hashed, utc_now(), name))
            if cursor.rowcount != 1:
                raise InputError(f"user {name!r}: no such user")
            conn.execute("DELETE FROM signin_failures WHERE name = ?", (name,))
            self.audit.append(who, "users.passwd", object=f"user {name}", conn=conn)

    # -- signing in ----------------------------------------------------------------------------

    def session_stamp(self, name: str) -> str | None:
        """A fingerprint of account ``name`` as it is now (its creation and password hash):
        a session signed in under another stamp — the password changed, or the name was
        removed and added again — is over. None when there is no such account."""
        row = self._row(name)
        if row is None:
            return None
        return hashlib.sha256(f"{row[3]}|{row[2] or ''}".encode()).hexdigest()[:32]

    def _claim_attempt(self, name: str, client: str, now: datetime) -> int | None:
        """In one write transaction: forget failures older than the lock time; when ``name``
        (or ``client``) has failed too often, the count; otherwise record this attempt as a
        failure (taken back when it succeeds) and None — so attempts made at the same moment
        are counted each, never verified past the limit."""
        since = (now - timedelta(minutes=lock_minutes())).isoformat(timespec="seconds")
        with self._connect() as conn, write_transaction(conn):
            conn.execute("DELETE FROM signin_failures WHERE at < ?", (since,))
            by_name = int(conn.execute("SELECT COUNT(*) FROM signin_failures WHERE name = ?",
                                       (name,)).fetchone()[0])
            by_client = int(conn.execute(
                "SELECT COUNT(*) FROM signin_failures WHERE client = ? AND client != ''",
                (client,)).fetchone()[0])
            if by_name >= max_failures() or by_client >= max_failures() * CLIENT_FACTOR:
                return max(by_name, by_client)
            conn.execute("INSERT INTO signin_failures (name, at, client) VALUES (?, ?, ?)",
                         (name, now.isoformat(timespec="seconds"), client))
        return None

    def sign_in(self, name: str, password: str, *, client: str = "") -> Principal:
        """The principal of ``name`` when ``password`` is its password.

        After :func:`max_failures` failed attempts for a name within :func:`lock_minutes`
        (or four times as many from one ``client`` address, whatever the names), the name
        (the client) is refused without the password being checked until the failures are
        older than that. Every attempt writes an audit line (``client``: where it came from).

        Raises
        ------
        SignInRefused
            With one message for a wrong name or a wrong password, another for a lock.
        """
        try:
            name = checked_user_name(name)
        except InputError:
            name = unicodedata.normalize("NFKC", str(name)).strip()[:MAX_NAME]
        where = f" from {client}" if client else ""
        locked = self._claim_attempt(name, client, datetime.now(UTC))
        if locked is not None:
            self.audit.append(None, "sign-in", user=name, outcome="refused",
                              summary=f"locked after {locked} failed attempts{where}")
            raise SignInRefused(f"too many failed attempts: wait {lock_minutes():g} minutes "
                                "and try again, or ask an administrator", locked=True)
        row = self._row(name)
        stored = row[2] if row is not None and row[2] else _DUMMY_HASH
        try:
            ok = _HASHER.verify(stored, password) and row is not None and row[2] is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            self.audit.append(None, "sign-in", user=name, outcome="failed",
                              summary=f"wrong name or password{where}")
            raise SignInRefused("wrong name or password")
        with self._connect() as conn, write_transaction(conn):
            conn.execute("DELETE FROM signin_failures WHERE name = ?", (name,))
        who = Principal.with_role(row[0], row[1], source="local")
        self.audit.append(who, "sign-in", object="local account", summary=f"signed in{where}")
        return who
