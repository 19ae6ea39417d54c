"""SQLite files shared by threads and processes: one connection an operation, every write one
``BEGIN IMMEDIATE`` … ``COMMIT`` transaction, a writer waiting for another, and SQLite's errors
turned into :class:`StoreError` naming the file."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["BUSY_TIMEOUT_S", "StoreError", "prepare_folder", "sqlite_connection", "use_wal",
           "write_transaction"]

#: Seconds a connection waits for another writer before giving up.
BUSY_TIMEOUT_S = 30


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




def use_wal(conn: sqlite3.Connection) -> None:
    """Put the database in write-ahead-log mode when it is not yet; another process switching
    it at the same moment makes SQLite answer "locked" without waiting, so that is retried for
    up to :data:`BUSY_TIMEOUT_S`."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
