"""Local accounts: argon2 hashes, role changes only by administrators, sign-in with a lock
after repeated failures, every attempt and change in the audit trail."""

from __future__ import annotations

import sqlite3

import pytest

from geo.data.accounts import SignInRefused, UserStore
from geo.model.access import Refused
from geo.model.errors import InputError
from tests.conftest import who

ADMIN = who("root", "admin", source="shell")
PASSWORD = "correct horse battery"


@pytest.fixture
def users(tmp_path) -> UserStore:
    store = UserStore(tmp_path / "state.sqlite")
    store.add(ADMIN, "alice", role="planner", password=PASSWORD)
    return store


def test_an_account_is_stored_with_an_argon2_hash_never_the_password(users, tmp_path):
    (name, role, hashed), = sqlite3.connect(tmp_path / "state.sqlite").execute(
        "SELECT name, role, password_hash FROM users").fetchall()
    assert (name, role) == ("alice", "planner")
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert users.account("alice").as_dict()["has_password"] is True
    assert users.count() == 1


def test_sign_in_gives_the_principal_and_writes_a_line(users):
    signed = users.sign_in("alice", PASSWORD, client="10.0.0.7")
    assert (signed.name, signed.role, signed.source) == ("alice", "planner", "local")
    line = users.audit.entries()[-1]
    assert (line.user, line.action, line.outcome) == ("alice", "sign-in", "ok")
    assert "10.0.0.7" in line.summary


@pytest.mark.parametrize(("name", "password"), [("alice", "wrong password!"),
                                                ("nobody", PASSWORD), ("", ""),
                                                ("alice\x00", PASSWORD)])
def test_a_wrong_name_or_password_is_one_message(users, name, password):
    with pytest.raises(SignInRefused, match=r"^wrong name or password$") as caught:
        users.sign_in(name, password)
    assert not caught.value.locked
    assert users.audit.entries()[-1].outcome == "failed"


def test_a_name_is_locked_after_repeated_failures_and_freed_after_the_lock_time(
        users, monkeypatch, tmp_path):
    monkeypatch.setenv("CHANGNING_SIGNIN_MAX_FAILURES", "3")
    monkeypatch.setenv("CHANGNING_SIGNIN_LOCK_MINUTES", "15")
    for _ in range(3):
        with pytest.raises(SignInRefused, match="wrong"):
            users.sign_in("alice", "not the password")
    with pytest.raises(SignInRefused, match="too many failed attempts: wait 15 minutes") as caught:
        users.sign_in("alice", PASSWORD)  # even the right password
    assert caught.value.locked
    assert users.audit.entries()[-1].summary.startswith("locked after 3 failed attempts")
    # another name is not locked by alice's failures
    users.add(ADMIN, "bob", role="viewer", password=PASSWORD)
    assert users.sign_in("bob", PASSWORD).role == "viewer"
    # the failures age out: move them 16 minutes back
    conn = sqlite3.connect(tmp_path / "state.sqlite")
    with conn:
        conn.execute("UPDATE signin_failures SET at = '2000-01-01T00:00:00+00:00'")
    conn.close()
    assert users.sign_in("alice", PASSWORD).name == "alice"


def test_a_new_password_clears_the_lock(users, monkeypatch):
    monkeypatch.setenv("CHANGNING_SIGNIN_MAX_FAILURES", "1")
    with pytest.raises(SignInRefused):
        users.sign_in("alice", "not the password")
    users.set_password(ADMIN, "alice", "a brand new password")
    assert users.sign_in("alice", "a brand new password").name == "alice"
    with pytest.raises(SignInRefused, match="wrong"):
        users.sign_in("alice", PASSWORD)


def test_an_account_without_a_password_cannot_sign_in_locally(users):
    users.add(ADMIN, "sso@example.com", role="admin", password=None)
    assert users.account("sso@example.com").has_password is False
    with pytest.raises(SignInRefused, match="wrong"):
        users.sign_in("sso@example.com", "")
    assert users.principal("sso@example.com", source="oidc").role == "admin"


@pytest.mark.parametrize("role", ["planner", "street:310105001", "viewer"])
def test_only_an_administrator_manages_users_and_a_refusal_changes_nothing(users, role):
    caller = who("someone", role)
    before = users.accounts(ADMIN)
    with pytest.raises(Refused, match=r"may not do users\.manage"):
        users.add(caller, "mallory", role="admin", password=PASSWORD)
    with pytest.raises(Refused):
        users.remove(caller, "alice")
    with pytest.raises(Refused):
        users.set_password(caller, "alice", "taken over account")
    with pytest.raises(Refused):
        users.accounts(caller)
    assert users.accounts(ADMIN) == before
    assert users.sign_in("alice", PASSWORD).name == "alice"
    refused = [e for e in users.audit.entries() if e.outcome == "refused"]
    assert [(e.user, e.action) for e in refused] == [("someone", "users.manage")] * 4


def test_changes_are_audited(users):
    users.add(ADMIN, "st", role="street:310105001", password=PASSWORD)
    users.set_password(ADMIN, "st", "another long password")
    users.remove(ADMIN, "st")
    lines = [(e.user, e.role, e.action, e.object) for e in users.audit.entries()]
    assert lines[-3:] == [("root", "admin (shell)", "users.add", "user st"),
                          ("root", "admin (shell)", "users.passwd", "user st"),
                          ("root", "admin (shell)", "users.remove", "user st")]
    assert users.principal("st", source="local") is None


@pytest.mark.parametrize(("name", "role", "password", "pattern"), [
    ("alice", "viewer", PASSWORD, "exists already"),
    ("bob", "superuser", PASSWORD, "role 'superuser'"),
    ("bob", "viewer", "short", "at least 10 characters"),
    ("", "viewer", PASSWORD, "1 to 100 characters"),
    ("x" * 101, "viewer", PASSWORD, "1 to 100 characters"),
    ("bob\u200b", "viewer", PASSWORD, "control or invisible"),
])
def test_bad_accounts_are_refused(users, name, role, password, pattern):
    with pytest.raises(InputError, match=pattern):
        users.add(ADMIN, name, role=role, password=password)
    assert users.count() == 1


def test_names_are_normalised(users):
    users.add(ADMIN, "  ｂｏｂ ", role="viewer", password=PASSWORD)  # full-width letters
    assert users.account("bob").name == "bob"
    assert users.sign_in("ｂｏｂ", PASSWORD).name == "bob"


def test_attempts_at_the_same_moment_are_each_counted(users, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("CHANGNING_SIGNIN_MAX_FAILURES", "5")

    def attempt(_):
        try:
            users.sign_in("alice", "not the password")
        except SignInRefused as exc:
            return "locked" if exc.locked else "wrong"
        return "in"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(attempt, range(40)))
    assert outcomes.count("wrong") == 5 and outcomes.count("locked") == 35


def test_one_client_trying_many_names_is_locked(users, monkeypatch):
    monkeypatch.setenv("CHANGNING_SIGNIN_MAX_FAILURES", "2")
    for n in range(8):  # 4 × 2 failures, each name under its own limit
        with pytest.raises(SignInRefused, match="wrong"):
            users.sign_in(f"guess{n}", "x", client="10.9.9.9")
    with pytest.raises(SignInRefused, match="too many"):
        users.sign_in("alice", PASSWORD, client="10.9.9.9")
    assert users.sign_in("alice", PASSWORD, client="10.0.0.1").name == "alice"


def test_names_differing_only_in_case_are_refused(users):
    with pytest.raises(InputError, match="'alice' exists already"):
        users.add(ADMIN, "Alice", role="admin", password=PASSWORD)


def test_the_session_stamp_changes_with_the_password_and_a_new_account(users):
    first = users.session_stamp("alice")
    assert first and users.session_stamp("alice") == first
    users.set_password(ADMIN, "alice", "a brand new password")
    second = users.session_stamp("alice")
    assert second != first
    users.remove(ADMIN, "alice")
    assert users.session_stamp("alice") is None
    users.add(ADMIN, "alice", role="admin", password="a brand new password")
    assert users.session_stamp("alice") not in (first, second, None)
