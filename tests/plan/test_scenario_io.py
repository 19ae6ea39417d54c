"""Hostile scenario files: every bad document is one InputError naming the problem (never
another exception), and scenarios whose edits refer to each other apply and round-trip."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from geo.data.area import placement_area
from geo.data.store import MAX_NAME_LENGTH
from geo.model.errors import InputError
from geo.plan.scenario import (
    Edit,
    Scenario,
    apply_scenario,
    free_id,
    renamed,
    scenario_to_geojson,
)
from geo.plan.scenario_io import read_scenario, scenario_from_json
from tests.conftest import metric_to_lonlat

BASELINE = {"m1": 80.0, "p1": 100.0}


def _at(dx: float, dy: float) -> list[float]:
    lon, lat = metric_to_lonlat(dx, dy)
    return [float(lon), float(lat)]


def _point(props: dict, coordinates: object = (121.4, 31.2)) -> dict:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": coordinates}}


def _collection(features: list, **members) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features, **members})


def _read(text: str | bytes) -> Scenario:
    return scenario_from_json(text, baseline=BASELINE, source="s.geojson")


@pytest.mark.parametrize(("text", "pattern"), [
    ('{"type": "FeatureCollection", "features": ' + "[" * 100_000 + "]" * 100_000 + "}",
     r"s\.geojson: not valid JSON \(nested too deeply\)"),
    ('{"type": "FeatureCollection", "features": [], "x": NaN}',
     r"s\.geojson: not valid JSON \(NaN is not a JSON number\)"),
    ('{"type": "FeatureCollection", "features": [], "x": -Infinity}',
     r"not valid JSON \(-Infinity is not a JSON number\)"),
    ('{"type": "FeatureCollection", "features": [], "x": 1' + "0" * 5000 + "}",
     r"s\.geojson: not valid JSON \(Exceeds the limit \(4300 digits\)"),
    (b"\xff\xfe{}", r"s\.geojson: not valid JSON \('utf-8' codec can't decode"),
    ('{"type": "FeatureCollection", "features": [', r"s\.geojson: not valid JSON \(Expecting"),
    ("[1, 2]", r"^s\.geojson: not a GeoJSON FeatureCollection$"),
])
def test_text_that_is_not_json_or_no_collection_is_refused(text, pattern):
    with pytest.raises(InputError, match=pattern):
        _read(text)


@pytest.mark.parametrize(("document", "pattern"), [
    (_collection(["abc"]), r"^s\.geojson: feature 1: not a GeoJSON Feature object$"),
    (_collection([None]), r"feature 1: not a GeoJSON Feature object"),
    (_collection([{"type": "Feature", "properties": [1], "geometry": None}]),
     r"feature 1: properties must be an object, not list"),
    (_collection([{"type": "Feature", "properties": {"id": "a"}, "geometry": "x"}]),
     r"feature 1: geometry must be an object or null, not str"),
    (_collection([_point({"id": {"a": 1}, "name": "x", "category": "market"})]),
     r"feature 1: id must be text or a number, not dict"),
    (_collection([_point({"id": "a", "name": ["x"], "category": "market"})]),
     r"feature 1: name must be text or a number, not list"),
    (_collection([_point({"id": "a", "name": "x", "category": True})]),
     r"feature 1: category must be text or a number, not bool"),
    (_collection([_point({"id": "a", "name": "x", "category": "market"}, 5)]),
     r"feature 1: coordinates must be a list \[lon, lat\]"),
    (_collection([], targets=[1]), r"^s\.geojson: targets must be an object, not list$"),
    (_collection([], targets={"market": 500}),
     r"targets: 'market' must be valid text mapped to an object with radius_m / target_share"),
    (_collection([], name=["x"]), r"^s\.geojson: name must be text, not list$"),
    (_collection([], name=" \t "), r"^s\.geojson: name is empty$"),
    (_collection([], name="长" * (MAX_NAME_LENGTH + 1)),
     rf"name is {MAX_NAME_LENGTH + 1} characters long; at most {MAX_NAME_LENGTH} allowed"),
    (_collection([], description={"a": 1}), r"description must be text, not dict"),
    ('{"type": "FeatureCollection", "features": [], "name": "\\ud800"}',
     r"name is not valid Unicode text \(a lone surrogate at character 1\)"),
    ('{"type": "FeatureCollection", "features": [], "description": "ok \\udfff"}',
     r"description is not valid Unicode text"),
    ('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null, '
     '"properties": {"action": "close", "id": "\\ud800"}}]}',
     r"feature 1: 'id' is not valid Unicode text"),
])
def test_every_member_of_the_wrong_type_is_named(document, pattern):
    with pytest.raises(InputError, match=pattern):
        _read(document)


def test_every_problem_of_a_file_is_listed_in_one_message():
    document = _collection(["abc", _point({"id": [1]}), {"type": "Feature"}], name="",
                           targets={"market": "x"})
    with pytest.raises(InputError) as caught:
        _read(document)
    assert str(caught.value).splitlines() == [
        "s.geojson: 4 problem(s)",
        "  - feature 1: not a GeoJSON Feature object",
        "  - feature 2: id must be text or a number, not list",
        '  - feature 3: neither a Point feature nor an {"action": "close", "id": ...} feature',
        "  - targets: 'market' must be valid text mapped to an object with radius_m / "
        "target_share",
    ]


def test_huge_numbers_become_infinite_and_are_refused_when_applied(two_streets, targets,
                                                                   market_and_parking):
    huge = "1" + "0" * 400
    document = ('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
                '{"type": "Point", "coordinates": [' + huge + ', 31.2]}, "properties": '
                '{"id": "a", "name": "x", "category": "market", "capacity": -' + huge + '}}],'
                ' "targets": {"market": {"radius_m": 1e999, "target_share": true}}}')
    scenario = _read(document)
    add, radius, target = scenario.edits
    assert (add.lon, add.capacity, radius.value) == (math.inf, -math.inf, math.inf)
    assert math.isnan(target.value)
    with pytest.raises(InputError) as caught:
        apply_scenario(scenario, facilities=market_and_parking, targets=targets,
                       area=placement_area(two_streets, targets))
    assert str(caught.value).splitlines()[1:] == [
        "  - edit 1 (add): lon 'inf' is not a longitude from -180 to 180",
        "  - edit 1 (add): capacity '-inf' is not a finite number ≥ 0",
        "  - edit 2 (radius): radius inf is not a positive number of metres",
        "  - edit 3 (target): target share nan is not a number from 0 to 1",
    ]


def test_edits_that_refer_to_each_other_apply_and_round_trip(two_streets, targets,
                                                             market_and_parking):
    """A baseline facility moved then closed; an added one moved, given a capacity, closed."""
    area = placement_area(two_streets, targets)
    document = _collection([
        _point({"id": "m1"}, _at(400, 400)),
        {"type": "Feature", "geometry": None, "properties": {"action": "close", "id": "m1"}},
        _point({"id": "n1", "name": "新", "category": "market"}, _at(1500, 500)),
        _point({"id": "n1", "action": "move"}, _at(1600, 600)),
        _point({"id": "n1", "action": "capacity", "capacity": 30}, _at(1600, 600)),
        {"type": "Feature", "geometry": None, "properties": {"action": "close", "id": "n1"}},
    ], name="自指")
    scenario = _read(document)
    assert [e.kind for e in scenario.edits] == ["move", "close", "add", "move", "capacity",
                                                "close"]
    after, _ = apply_scenario(scenario, facilities=market_and_parking, targets=targets, area=area)
    rows = after.set_index("id")
    assert rows.loc["m1", ["lon", "lat", "status"]].tolist() == pytest.approx(
        [*_at(400, 400), "closed"])
    assert rows.loc["n1", ["lon", "lat", "capacity", "status"]].tolist() == pytest.approx(
        [*_at(1600, 600), 30.0, "closed"])
    back = _read(json.dumps(scenario_to_geojson(scenario, facilities_after=after)))
    again, _ = apply_scenario(back, facilities=market_and_parking, targets=targets, area=area)
    pd.testing.assert_frame_equal(pd.DataFrame(again.drop(columns="geometry")),
                                  pd.DataFrame(after.drop(columns="geometry")),
                                  check_exact=False)


def test_an_edit_before_the_add_it_needs_is_refused(two_streets, targets, market_and_parking):
    scenario = _read(_collection([
        {"type": "Feature", "geometry": None, "properties": {"action": "close", "id": "n1"}},
        _point({"id": "n1", "name": "新", "category": "market"}, _at(1500, 500)),
    ]))
    with pytest.raises(InputError, match=r"edit 1 \(close\): no facility with id 'n1'"):
        apply_scenario(scenario, facilities=market_and_parking, targets=targets,
                       area=placement_area(two_streets, targets))


def test_read_scenario_names_the_file(tmp_path):
    path = tmp_path / "s.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [], "name": NaN}')
    with pytest.raises(InputError, match=r"scenario file .*s\.geojson: not valid JSON \(NaN"):
        read_scenario(path, baseline=BASELINE)
    path.write_text(_collection([], name=" 试点 ", description="d"), encoding="utf-8")
    assert read_scenario(path, baseline=BASELINE) == Scenario("试点", "d")


def test_renamed_checks_the_name_and_description():
    scenario = Scenario("a", edits=(Edit("close", facility_id="m1"),))
    assert renamed(scenario, name="  西区 ", description="说明") == Scenario(
        "西区", "说明", scenario.edits)
    for name, pattern in [("", r"^scenario: name is empty$"),
                          ("x" * (MAX_NAME_LENGTH + 1), r"name is 201 characters long"),
                          ("\ud800", r"name is not valid Unicode text")]:
        with pytest.raises(InputError, match=pattern):
            renamed(scenario, name=name, description="")
    with pytest.raises(InputError, match=r"description is not valid Unicode text"):
        renamed(scenario, name="ok", description="\udc00")


def test_free_id_skips_the_baseline_and_the_scenario():
    scenario = Scenario("s", edits=(Edit("add", facility_id="NEW-2"),
                                    Edit("close", facility_id="NEW-1")))
    assert free_id(Scenario("s"), [], prefix="NEW") == "NEW-1"
    assert free_id(scenario, ["NEW-3"], prefix="NEW") == "NEW-4"
    assert free_id(scenario.without_edit(1), [], prefix="NEW") == "NEW-1"
