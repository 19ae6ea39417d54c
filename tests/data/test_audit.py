"""The audit trail: append-only, filtered, in the state database."""

from __future__ import annotations

import sqlite3

import pytest

from geo.data.audit import AuditLog, checked, parse_since
from geo.data.sqlite import StoreError
from geo.model.access import Action, Refused
from geo.model.errors import InputError
from tests.conftest import who


def test_lines_are_appended_and_read_back_oldest_first(tmp_path):
    log = AuditLog(tmp_path / "state.sqlite")
    log.append(who("张三", "planner"), "dataset.import", object="dataset version 1",
               summary="import: a.csv")
    log.append(None, "sign-in", user="mallory", outcome="failed", summary="wrong")
    first, second = log.entries()
    assert (first.user, first.role, first.action, first.object, first.outcome, first.summary) \
        == ("张三", "planner", "dataset.import", "dataset version 1", "ok", "import: a.csv")
    assert (second.user, second.role, second.outcome) == ("mallory", "", "failed")
    assert first.id < second.id and first.at <= second.at
    assert first.as_dict()["action"] == "dataset.import"


def test_the_trail_is_append_only(tmp_path):
    log = AuditLog(tmp_path / "state.sqlite")
    log.append(who(), "sign-in")
    conn = sqlite3.connect(tmp_path / "state.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET user = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit")
    conn.close()
    assert [e.user for e in log.entries()] == ["tester"]


def test_filters(tmp_path):
    log = AuditLog(tmp_path / "state.sqlite")
    log.append(who("a"), "scenario.save")
    log.append(who("b"), "scenario.delete", outcome="refused")
    log.append(who("a"), "scenario_x")  # not under "scenario."
    log.append(who("a"), "export")
    assert [e.action for e in log.entries(user="a")] == ["scenario.save", "scenario_x", "export"]
    assert [e.action for e in log.entries(action="scenario")] == ["scenario.save",
                                                                  "scenario.delete"]
    assert [e.user for e in log.entries(outcome="refused")] == ["b"]
    assert [e.action for e in log.entries(limit=2)] == ["scenario_x", "export"]
    assert log.entries(since="2999-01-01T00:00:00+00:00") == []
    assert len(log.entries(since=parse_since("2000-01-01"))) == 4


def test_since_takes_dates_and_times_in_any_zone():
    assert parse_since("2026-12-01") == "2026-12-01T00:00:00+00:00"
    assert parse_since("2026-12-01T08:30:00+08:00") == "2026-12-01T00:30:00+00:00"
    with pytest.raises(InputError, match="--since 'last week': expected a date"):
        parse_since("last week")


def test_a_refusal_is_a_line_and_an_error(tmp_path):
    log = AuditLog(tmp_path / "state.sqlite")
    with pytest.raises(Refused, match=r"role viewer may not do dataset\.import"):
        checked(log, who("v", "viewer"), Action.IMPORT, object="dataset")
    (line,) = log.entries()
    assert (line.user, line.action, line.object, line.outcome) == \
        ("v", "dataset.import", "dataset", "refused")
    checked(log, who("p", "planner"), Action.IMPORT)  # allowed: no line
    assert len(log.entries()) == 1


def test_long_fields_are_cut(tmp_path):
    log = AuditLog(tmp_path / "state.sqlite")
    log.append(who(), "export", summary="x" * 5000)
    assert len(log.entries()[0].summary) == 2000


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path):
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="state database"):
        AuditLog(path).entries()
