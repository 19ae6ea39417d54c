"""Roles enforced where state changes: every function that changes the dataset, the scenario
store, the users or makes an export, called as every role. A refusal changes nothing and
writes an audit line; an allowed change writes one too."""

from __future__ import annotations

import sqlite3

import pytest

from geo.data.accounts import UserStore
from geo.data.audit import AuditLog
from geo.data.dataset import demo_dataset, with_facilities
from geo.data.dataset_store import DatasetStore
from geo.data.io import read_targets
from geo.data.schema import normalize_facilities
from geo.data.store import ScenarioStore, StaleScenario
from geo.model import config
from geo.model.access import Refused
from tests.conftest import facility_frame, who

A, B = "310105900001", "310105900002"
ROLES = ["admin", "planner", f"street:{A}", "viewer"]
SUMMARY = {"action": "import", "detail": "test.csv", "categories": {}}


def _dump(path) -> list:
    """Every row of every table but the audit trail: what a refusal must leave unchanged."""
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN "
        "('audit', 'sqlite_sequence') ORDER BY name")]
    rows = [(t, conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()) for t in tables]
    conn.close()
    return rows


def _last_line():
    return AuditLog(config.STATE_DB).entries()[-1]


@pytest.fixture
def datasets(tmp_path, two_streets, market_and_parking, targets):
    store = DatasetStore(tmp_path / "dataset.sqlite")
    base = demo_dataset(two_streets, market_and_parking)
    store.save(base, base_version=0, who=who("seed", "admin"), summary=SUMMARY)
    more = normalize_facilities(facility_frame([
        {"id": "m2", "name": "新", "category": "market", "dx": 300, "dy": 300}]),
        known_categories=targets.keys())
    return store, with_facilities(base, more, mode="append", origin="new.csv")


EXPECTED = {  # role → (import, rollback, restore)
    "admin": (True, True, True), "planner": (True, False, False),
    f"street:{A}": (False, False, False), "viewer": (False, False, False)}


@pytest.mark.parametrize("role", ROLES)
def test_dataset_changes_as_each_role(datasets, role):
    store, changed = datasets
    caller = who("caller", role)
    calls = {
        "dataset.import": lambda: store.save(changed, base_version=store.current_version(),
                                             who=caller, summary=SUMMARY),
        "dataset.rollback": lambda: store.rollback(1, read_targets(), who=caller),
        "dataset.restore": lambda: store.restore_demo(read_targets(), who=caller),
    }
    for (action, call), allowed in zip(calls.items(), EXPECTED[role], strict=True):
        before = (_dump(store.path), store.current_version())
        if allowed:
            number = call()
            assert number == before[1] + 1
            line = _last_line()
            assert (line.user, line.action, line.outcome, line.object) == \
                ("caller", action, "ok", f"dataset version {number}")
        else:
            with pytest.raises(Refused, match=f"may not do {action}"):
                call()
            assert (_dump(store.path), store.current_version()) == before
            line = _last_line()
            assert (line.user, line.role, line.action, line.outcome) == \
                ("caller", role, action, "refused")


def test_rollback_to_the_demo_is_a_restore(datasets):
    store, _ = datasets
    with pytest.raises(Refused, match=r"may not do dataset\.restore"):
        store.rollback(0, read_targets(), who=who("p", "planner"))


@pytest.fixture
def scenarios(tmp_path) -> ScenarioStore:
    return ScenarioStore(tmp_path / "scenarios.sqlite")


SCOPES = {"district": (), "A": (A,), "B": (B,)}
#: role → the scopes it may save a scenario with
MAY_SAVE = {"admin": {"district", "A", "B"}, "planner": {"district", "A", "B"},
            f"street:{A}": {"A"}, "viewer": set()}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("scope", list(SCOPES))
def test_scenario_save_as_each_role_for_each_scope(scenarios, role, scope):
    caller = who("caller", role)
    if scope in MAY_SAVE[role]:
        saved = scenarios.save(caller, name="s", body={}, streets=SCOPES[scope])
        assert (saved.owner, saved.streets, saved.revision) == ("caller", SCOPES[scope], 1)
        assert _last_line().outcome == "ok"
    else:
        with pytest.raises(Refused):
            scenarios.save(caller, name="s", body={}, streets=SCOPES[scope])
        assert scenarios.list() == []
        assert (_last_line().action, _last_line().outcome) == ("scenario.save", "refused")


@pytest.mark.parametrize("role", ROLES)
def test_overwrite_and_delete_as_each_role(scenarios, role):
    planner = who("planner", "planner")
    # a colleague of the same street office, a planner in that street, a planner elsewhere
    office = scenarios.save(who("colleague", f"street:{A}"), name="A's", body={"v": 1},
                            streets=(A,))
    planners = scenarios.save(planner, name="planner's A", body={"v": 1}, streets=(A,))
    theirs = scenarios.save(planner, name="B's", body={"v": 1}, streets=(B,))
    caller = who("caller", role)
    district = role in ("admin", "planner")
    for stored, allowed in ((office, role != "viewer"), (planners, district),
                            (theirs, district)):
        before = _dump(scenarios.path)
        if allowed:
            updated = scenarios.save(caller, name="new name", body={"v": 2},
                                     streets=stored.streets, scenario_id=stored.id, revision=1)
            assert (updated.owner, updated.updated_by, updated.revision) == \
                (stored.owner, "caller", 2)
            scenarios.delete(caller, stored.id, revision=2)
            assert _last_line().action == "scenario.delete"
        else:
            with pytest.raises(Refused):
                scenarios.save(caller, name="x", body={}, streets=stored.streets,
                               scenario_id=stored.id, revision=1)
            with pytest.raises(Refused):
                scenarios.delete(caller, stored.id, revision=1)
            assert _dump(scenarios.path) == before
            assert _last_line().outcome == "refused"


def test_a_street_office_cannot_move_another_streets_scenario_into_its_own(scenarios):
    theirs = scenarios.save(who("p", "planner"), name="B's", body={}, streets=(B,))
    with pytest.raises(Refused, match=f"not for {B}"):
        scenarios.save(who("s", f"street:{A}"), name="mine now", body={}, streets=(A,),
                       scenario_id=theirs.id, revision=1)
    assert scenarios.load(theirs.id).streets == (B,)


def test_a_stale_update_is_refused_not_silently_overwritten(scenarios):
    first = scenarios.save(who("a", "planner"), name="plan", body={"v": 1})
    scenarios.save(who("b", "planner"), name="plan", body={"v": 2}, scenario_id=first.id,
                   revision=1)
    with pytest.raises(StaleScenario, match=r"saved again by b at .* \(revision 2\); this "
                                            r"change was built on revision 1: nothing was "
                                            r"changed"):
        scenarios.save(who("a", "planner"), name="plan", body={"v": 3}, scenario_id=first.id,
                       revision=1)
    with pytest.raises(StaleScenario):
        scenarios.delete(who("a", "planner"), first.id, revision=1)
    with pytest.raises(StaleScenario, match="built on revision None"):
        scenarios.save(who("a", "planner"), name="plan", body={"v": 3}, scenario_id=first.id)
    assert scenarios.load(first.id).body == {"v": 2}


def test_a_store_of_the_first_release_gains_owner_scope_and_revision(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE scenarios (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT "
                 "NULL, description TEXT NOT NULL DEFAULT '', body TEXT NOT NULL, created_at "
                 "TEXT NOT NULL, updated_at TEXT NOT NULL)")
    conn.execute("INSERT INTO scenarios (name, body, created_at, updated_at) VALUES "
                 "('old', '{}', '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00')")
    conn.commit()
    conn.close()
    store = ScenarioStore(path)
    (old,) = store.list()
    assert (old.name, old.owner, old.streets, old.revision) == ("old", "", (), 1)
    with pytest.raises(Refused):  # an old scenario is district-wide: not a street office's
        store.delete(who("s", f"street:{A}"), old.id, revision=1)
    store.delete(who("p", "planner"), old.id, revision=1)


@pytest.mark.parametrize("role", ROLES)
def test_exports_as_each_role(role):
    from ui.export import _checked_files

    caller = who("caller", role)
    made = []

    def make():
        made.append(1)
        return {"report.pdf": b"%PDF"}

    for codes, allowed in (([A], True), ([B], role != f"street:{A}"),
                           ([], role != f"street:{A}"), ([A, B], role != f"street:{A}")):
        count = len(made)
        if allowed:
            assert _checked_files(caller, make, codes=codes, what="report pdf") == \
                {"report.pdf": b"%PDF"}
            assert (_last_line().action, _last_line().outcome) == ("export", "ok")
            assert _last_line().summary == "report.pdf"
        else:
            with pytest.raises(Refused):
                _checked_files(caller, make, codes=codes, what="report pdf")
            assert len(made) == count  # nothing was made
            assert (_last_line().action, _last_line().outcome) == ("export", "refused")


@pytest.mark.parametrize("role", ROLES)
def test_user_changes_as_each_role(role):
    users = UserStore(config.STATE_DB)
    caller = who("caller", role)
    if role == "admin":
        users.add(caller, "new", role="viewer", password="a long password")
        assert _last_line().action == "users.add"
    else:
        with pytest.raises(Refused):
            users.add(caller, "new", role="admin", password="a long password")
        assert users.count() == 0
        assert _last_line().outcome == "refused"


def test_a_change_whose_audit_line_fails_says_it_was_made(scenarios, datasets, monkeypatch):
    from geo.data.audit import AuditNotWritten
    from geo.data.sqlite import StoreError

    def locked(self, *args, **kwargs):
        raise StoreError("state database: database is locked")

    monkeypatch.setattr(AuditLog, "append", locked)
    with pytest.raises(AuditNotWritten, match="the change was made, but its audit line could "
                                              "not be written: state database") as caught:
        scenarios.save(who("p", "planner"), name="kept", body={"v": 1})
    assert caught.value.result.name == "kept" and scenarios.list() == [caught.value.result]

    store, changed = datasets
    with pytest.raises(AuditNotWritten) as caught:
        store.save(changed, base_version=1, who=who("p", "planner"), summary=SUMMARY)
    assert caught.value.result == store.current_version() == 2
