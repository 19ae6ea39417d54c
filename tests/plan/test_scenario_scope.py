"""A scenario's street scope: the streets holding the places its edits touch."""

from __future__ import annotations

import pytest

from geo.data.schema import normalize_facilities
from geo.plan.scenario import Edit, Scenario
from geo.plan.scenario_scope import save_scope, touched_streets
from tests.conftest import facility_frame, metric_to_lonlat, who

A, B = "310105900001", "310105900002"  # west and east squares of two_streets


@pytest.fixture
def facilities(targets):
    return normalize_facilities(facility_frame([
        {"id": "M-A", "name": "西", "category": "market", "dx": 500, "dy": 500},
        {"id": "M-B", "name": "东", "category": "market", "dx": 1500, "dy": 500}]),
        known_categories=targets.keys())


def _scope(edits, facilities, two_streets):
    return touched_streets(Scenario("s", edits=tuple(edits)), facilities=facilities,
                          streets=two_streets)


def _at(dx, dy):
    lon, lat = metric_to_lonlat(dx, dy)
    return {"lon": float(lon), "lat": float(lat)}


def test_each_edit_kind_touches_its_places(facilities, two_streets):
    assert _scope([], facilities, two_streets) == ()
    assert _scope([Edit("add", "N1", "market", **_at(200, 200))], facilities, two_streets) \
        == (A,)
    assert _scope([Edit("close", "M-B")], facilities, two_streets) == (B,)
    assert _scope([Edit("capacity", "M-A", capacity=9)], facilities, two_streets) == (A,)
    # a move touches where the facility was and where it goes
    assert _scope([Edit("move", "M-A", **_at(1800, 300))], facilities, two_streets) == (A, B)


@pytest.mark.parametrize("kind", ["radius", "target"])
def test_a_category_wide_edit_is_the_whole_district(facilities, two_streets, kind):
    assert _scope([Edit("close", "M-A"), Edit(kind, category="market", value=0.5)],
                  facilities, two_streets) is None


def test_a_place_outside_every_street_is_the_whole_district(facilities, two_streets):
    assert _scope([Edit("add", "N1", "market", **_at(5000, 5000))], facilities, two_streets) \
        is None


def test_the_scope_a_scenario_is_saved_with(facilities, two_streets):
    office = who("s", f"street:{B}")
    empty = Scenario("s")
    assert save_scope(empty, who=office, facilities=facilities, streets=two_streets) == (B,)
    assert save_scope(empty, who=who("p", "planner"), facilities=facilities,
                      streets=two_streets) == ()
    wide = Scenario("s", edits=(Edit("radius", category="market", value=800.0),))
    assert save_scope(wide, who=office, facilities=facilities, streets=two_streets) == ()
