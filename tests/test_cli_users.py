"""``users`` and ``audit`` on the command line: the contract of the issue, passwords never on
the command line, exit 2 with a message on bad input, every change in the trail."""

from __future__ import annotations

import io
import json

import pytest

from commands.users import read_password
from geo.data.accounts import UserStore
from geo.model.errors import InputError
from tests.cli_helpers import run_cli

PASSWORD = "a long enough password"


def _ok(*args, stdin=None, user="operator"):
    done = run_cli(*args, stdin=stdin, env={"CHANGNING_USER": user})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return json.loads(done.stdout)


def _fails(*args, stdin=None, code=2):
    done = run_cli(*args, stdin=stdin)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stdout == ""
    return done.stderr


def test_add_list_passwd_remove_and_the_trail(state_dir):
    added = _ok("users", "add", "alice", "--role", "planner", stdin=PASSWORD + "\n")
    assert {k: added[k] for k in ("name", "role", "has_password")} == \
        {"name": "alice", "role": "planner", "has_password": True}
    _ok("users", "add", "街道办一", "--role", "street:310105001,310105002", stdin=PASSWORD)
    _ok("users", "add", "sso@example.com", "--role", "admin", "--no-password")
    listed = _ok("users", "list", "--format", "json")
    assert [(u["name"], u["role"], u["has_password"]) for u in listed] == [
        ("alice", "planner", True), ("sso@example.com", "admin", False),
        ("街道办一", "street:310105001,310105002", True)]
    assert UserStore(state_dir / "state.sqlite").sign_in("alice", PASSWORD).role == "planner"
    _ok("users", "passwd", "alice", stdin="another long password\n")
    assert UserStore(state_dir / "state.sqlite").sign_in("alice", "another long password")
    assert _ok("users", "remove", "alice") == {"removed": "alice"}
    assert [u["name"] for u in _ok("users", "list")] == ["sso@example.com", "街道办一"]

    trail = _ok("audit", "--format", "json")
    assert [(e["user"], e["role"], e["action"], e["object"]) for e in trail] == [
        ("operator", "admin (shell)", "users.add", "user alice"),
        ("operator", "admin (shell)", "users.add", "user 街道办一"),
        ("operator", "admin (shell)", "users.add", "user sso@example.com"),
        ("alice", "planner", "sign-in", "local account"),
        ("operator", "admin (shell)", "users.passwd", "user alice"),
        ("alice", "planner", "sign-in", "local account"),
        ("operator", "admin (shell)", "users.remove", "user alice"),
    ]
    assert set(trail[0]) == {"id", "at", "user", "role", "action", "object", "outcome",
                             "summary"}
    assert [e["action"] for e in _ok("audit", "--user", "alice")] == ["sign-in", "sign-in"]
    assert _ok("audit", "--since", "2999-01-01") == []
    assert len(_ok("audit", "--since", "2000-01-01T00:00:00+08:00")) == 7


def test_the_password_is_never_an_argument(state_dir):
    assert "unrecognized arguments" in _fails("users", "add", "bob", "--role", "viewer",
                                              "--password", PASSWORD)
    assert "unrecognized arguments" in _fails("users", "add", "bob", "--role", "viewer",
                                              PASSWORD, stdin=PASSWORD)


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("users", "add", "bob", "--role", "boss"), PASSWORD, "error: role 'boss': expected admin"),
    (("users", "add", "bob", "--role", "street:"), PASSWORD, "error: role 'street:'"),
    (("users", "add", "bob", "--role", "viewer"), "short\n", "at least 10 characters"),
    (("users", "add", "bob", "--role", "viewer"), "", "standard input is empty"),
    (("users", "add", "x" * 101, "--role", "viewer"), "", "1 to 100 characters"),
    (("users", "remove", "nobody"), None, "error: user 'nobody': no such user"),
    (("users", "passwd", "nobody"), PASSWORD, "error: user 'nobody': no such user"),
    (("audit", "--since", "yesterday"), None, "error: --since 'yesterday'"),
])
def test_bad_input_exits_2_with_one_message(state_dir, args, stdin, message):
    assert message in _fails(*args, stdin=stdin)
    assert not (state_dir / "state.sqlite").exists() or \
        UserStore(state_dir / "state.sqlite").count() == 0


def test_a_name_that_exists_is_refused(state_dir):
    _ok("users", "add", "bob", "--role", "viewer", stdin=PASSWORD)
    assert "exists already" in _fails("users", "add", "bob", "--role", "admin", stdin=PASSWORD)
    assert _ok("users", "list")[0]["role"] == "viewer"


def test_a_prompt_asks_twice_and_the_entries_must_agree():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    answers = iter(["first entry here", "second entry"])
    with pytest.raises(InputError, match="the two entries differ"):
        read_password(stdin=Terminal(), prompt=lambda _: next(answers))
    assert read_password(stdin=Terminal(), prompt=lambda _: PASSWORD) == PASSWORD
    assert read_password(stdin=io.StringIO(PASSWORD + "\r\nmore\n")) == PASSWORD


def test_removing_the_last_account_says_what_follows(state_dir):
    _ok("users", "add", "bob", "--role", "admin", stdin=PASSWORD)
    done = run_cli("users", "remove", "bob")
    assert done.returncode == 0
    assert done.stderr.startswith("note: no local account is left")
