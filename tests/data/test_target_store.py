"""Targets set in the app by an administrator: over the file's values, checked, audited, and
used by the pages and the command line alike."""

from __future__ import annotations

import json

import pytest

from geo.data.io import read_targets
from geo.data.target_store import TargetStore, current_targets
from geo.model import config
from geo.model.access import Refused
from geo.model.errors import InputError
from tests.cli_helpers import run_cli
from tests.conftest import who

ADMIN = who("管理员", "admin")


@pytest.fixture
def store() -> TargetStore:
    return TargetStore(config.STATE_DB)


def test_a_set_target_is_applied_over_the_file_with_its_source(store):
    file = read_targets()
    store.set(ADMIN, "market", radius_m=300, target_share=0.95, known=file)
    now = current_targets()
    assert (now["market"].radius_m, now["market"].target_share) == (300.0, 0.95)
    assert now["market"].radius_source.startswith("set in the app by 管理员 at 20")
    assert now["charger"] == file["charger"]  # the others as in the file
    line = store.audit.entries()[-1]
    assert (line.user, line.action, line.object) == ("管理员", "targets.edit", "target market")
    assert line.summary == (f"radius {file['market'].radius_m:g} → 300 m, share "
                            f"{file['market'].target_share:.0%} → 95%")
    store.clear(ADMIN, "market")
    assert current_targets()["market"] == file["market"]
    with pytest.raises(InputError, match="not set in the app"):
        store.clear(ADMIN, "market")


@pytest.mark.parametrize("role", ["planner", "street:310105001000", "viewer"])
def test_only_an_administrator_sets_targets(store, role):
    file = read_targets()
    store.set(ADMIN, "sports", radius_m=700, target_share=0.8, known=file)
    before = store.overrides()
    with pytest.raises(Refused, match=r"may not do targets\.edit"):
        store.set(who("x", role), "market", radius_m=100, target_share=0.1, known=file)
    with pytest.raises(Refused):
        store.clear(who("x", role), "sports")
    assert store.overrides() == before
    assert [e.outcome for e in store.audit.entries()[-2:]] == ["refused", "refused"]


@pytest.mark.parametrize(("category", "radius", "share", "pattern"), [
    ("bakery", 500, 0.9, "category 'bakery' is not one of charger"),
    ("market", 10, 0.9, "radius 10 m: from 50 to 5000"),
    ("market", float("nan"), 0.9, "radius nan m"),
    ("market", 500, 1.5, "target share 1.5: from 0 to 1"),
])
def test_bad_values_are_refused(store, category, radius, share, pattern):
    with pytest.raises(InputError, match=pattern):
        store.set(ADMIN, category, radius_m=radius, target_share=share, known=read_targets())
    assert store.overrides() == {}


def test_the_command_line_uses_the_set_targets_unless_given_a_file(store):
    store.set(ADMIN, "market", radius_m=150, target_share=0.5, known=read_targets())

    def radius(*extra):
        done = run_cli("coverage", "--resolution", "8", *extra, "--format", "json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["streets"][0]["coverage"]["market"]["radius_m"]

    assert radius() == 150
    assert radius("--targets", str(config.TARGETS_FILE)) == read_targets()["market"].radius_m
