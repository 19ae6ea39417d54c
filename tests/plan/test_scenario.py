from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.data.area import placement_area
from geo.data.coords import wgs84_to_gcj02
from geo.engine.coverage import compute_coverage, recompute
from geo.model.errors import InputError
from geo.plan.compare import changed_cells, compare_streets, newly_covered_total
from geo.plan.scenario import (
    Edit,
    Scenario,
    apply_scenario,
    edited_categories,
    scenario_from_geojson,
    scenario_to_geojson,
)
from tests.conftest import metric_to_lonlat

A, B = "310105900001", "310105900002"


@pytest.fixture
def baseline(two_streets, targets, market_and_parking):
    result = compute_coverage(two_streets, market_and_parking, targets, resolution=10)
    return market_and_parking, result


def _at(dx: float, dy: float) -> dict:
    lon, lat = metric_to_lonlat(dx, dy)
    return {"lon": float(lon), "lat": float(lat)}


@pytest.fixture
def area(two_streets, targets):
    return placement_area(two_streets, targets)


def test_each_kind_of_edit(baseline, targets, area):
    facilities, _ = baseline
    scenario = (Scenario("试点", "two changes")
                .with_edit(Edit("add", facility_id="m2", category="market", name="东菜场",
                                capacity=40, **_at(1500, 500)))
                .with_edit(Edit("move", facility_id="m1", **_at(400, 400)))
                .with_edit(Edit("capacity", facility_id="p1", capacity=250))
                .with_edit(Edit("close", facility_id="p1"))
                .with_edit(Edit("radius", category="market", value=450))
                .with_edit(Edit("target", category="parking", value=0.6)))
    after, new_targets = apply_scenario(scenario, facilities=facilities, targets=targets,
                                        area=area)
    rows = after.set_index("id")
    assert list(rows.index) == ["m1", "p1", "m2"]
    assert rows.loc["m2", ["status", "category", "capacity", "source"]].tolist() == [
        "planned", "market", 40.0, "scenario"]
    assert (rows.loc["m1", "lon"], rows.loc["m1", "lat"]) == pytest.approx(
        tuple(_at(400, 400).values()))
    assert rows.loc["m1", "geometry"].x == pytest.approx(rows.loc["m1", "lon"])
    assert rows.loc["p1", ["status", "capacity"]].tolist() == ["closed", 250.0]
    assert new_targets["market"].radius_m == 450
    assert new_targets["parking"].target_share == 0.6
    assert targets["market"].radius_m == 300  # the baseline is untouched
    assert facilities["status"].tolist() == ["existing", "existing"]
    assert edited_categories(scenario, facilities) == {"market", "parking"}


def test_undo_removes_one_edit(baseline):
    scenario = (Scenario("s").with_edit(Edit("close", facility_id="m1"))
                .with_edit(Edit("close", facility_id="p1")))
    assert scenario.without_edit(0).edits == (Edit("close", facility_id="p1"),)
    assert [e.describe() for e in scenario.edits] == ["close m1", "close p1"]


def test_every_bad_edit_is_reported_and_nothing_applied(baseline, targets, area):
    facilities, _ = baseline
    scenario = Scenario("坏", edits=(
        Edit("add", facility_id="m1", category="market", name="dup", **_at(0, 0)),
        Edit("add", facility_id="z1", category="zoo", name="zoo", **_at(0, 0)),
        Edit("add", facility_id="far", category="market", name="far", **_at(50_000, 0)),
        Edit("move", facility_id="nope", **_at(0, 0)),
        Edit("capacity", facility_id="m1", capacity=-1),
        Edit("radius", category="market", value=0),
        Edit("target", category="market", value=1.5),
    ))
    with pytest.raises(InputError) as caught:
        apply_scenario(scenario, facilities=facilities, targets=targets, area=area)
    message = str(caught.value)
    assert message.startswith("scenario '坏': 7 problem(s)")
    for expected in ["edit 1 (add): duplicate id 'm1'",
                     "edit 2 (add): category 'zoo' is unknown and has no radius (known: market, "
                     "parking)",
                     "edit 3 (add): ", "lies outside the study area",
                     "edit 4 (move): no facility with id 'nope'",
                     "edit 5 (capacity): capacity '-1' is not a finite number ≥ 0",
                     "edit 6 (radius): radius 0 is not a positive number of metres",
                     "edit 7 (target): target share 1.5 is not a number from 0 to 1"]:
        assert expected in message


def test_an_id_added_twice_is_a_duplicate(baseline, targets, area):
    facilities, _ = baseline
    add = Edit("add", facility_id="n1", category="market", name="x", **_at(100, 100))
    with pytest.raises(InputError, match=r"edit 2 \(add\): duplicate id 'n1'"):
        apply_scenario(Scenario("s", edits=(add, add)), facilities=facilities, targets=targets,
                       area=area)


def test_geojson_round_trip(baseline, targets, area):
    facilities, _ = baseline
    scenario = Scenario("往返", "round trip", edits=(
        Edit("add", facility_id="m2", category="market", name="东菜场", capacity=40,
             **_at(1500, 500)),
        Edit("move", facility_id="m1", **_at(400, 400)),
        Edit("capacity", facility_id="m1", capacity=90),
        Edit("close", facility_id="p1"),
        Edit("radius", category="parking", value=600),
    ))
    after, _ = apply_scenario(scenario, facilities=facilities, targets=targets, area=area)
    document = scenario_to_geojson(scenario, facilities_after=after)
    assert [f["properties"].get("action") for f in document["features"]] == [
        "add", "move", "close"]
    assert document["features"][2] == {"type": "Feature", "geometry": None,
                                       "properties": {"action": "close", "id": "p1"}}
    assert document["targets"] == {"parking": {"radius_m": 600}}
    baseline_caps = dict(zip(facilities["id"], facilities["capacity"], strict=True))
    back = scenario_from_geojson(document, baseline=baseline_caps)
    assert (back.name, back.description) == ("往返", "round trip")
    assert [e.kind for e in back.edits] == ["add", "move", "capacity", "close", "radius"]
    again, _ = apply_scenario(back, facilities=facilities, targets=targets, area=area)
    pd.testing.assert_frame_equal(pd.DataFrame(again.drop(columns="geometry")),
                                  pd.DataFrame(after.drop(columns="geometry")),
                                  check_exact=False)


def test_geojson_without_actions_infers_add_and_move_and_reads_gcj02():
    glon, glat = wgs84_to_gcj02(121.40, 31.20)
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.4, 31.2]},
         "properties": {"id": "m1"}},
        {"type": "Feature", "geometry": {"type": "Point",
                                         "coordinates": [float(glon), float(glat)]},
         "properties": {"id": "new", "name": "n", "category": "market", "crs": "gcj02"}},
    ]}
    scenario = scenario_from_geojson(document, baseline={"m1": 80.0, "p1": 100.0})
    assert [e.kind for e in scenario.edits] == ["move", "add"]
    assert (scenario.edits[1].lon, scenario.edits[1].lat) == pytest.approx((121.4, 31.2),
                                                                           abs=1e-8)


def test_bad_geojson_names_the_feature():
    with pytest.raises(InputError, match=r"s.geojson: not a GeoJSON FeatureCollection"):
        scenario_from_geojson({"type": "Feature"}, baseline={}, source="s.geojson")
    with pytest.raises(InputError, match=r"feature 1: neither a Point feature nor"):
        scenario_from_geojson({"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": None, "properties": {"id": "x"}}]}, baseline={})


def test_recompute_equals_a_full_computation_and_spares_other_categories(baseline, targets,
                                                                         area, two_streets):
    facilities, before = baseline
    scenario = Scenario("s").with_edit(Edit("add", facility_id="m2", category="market",
                                            name="东", **_at(1500, 500)))
    after_facilities, after_targets = apply_scenario(scenario, facilities=facilities,
                                                     targets=targets, area=area)
    quick = recompute(before, after_facilities, after_targets, categories=["market"])
    full = compute_coverage(two_streets, after_facilities, after_targets, resolution=10)
    pd.testing.assert_frame_equal(quick.streets, full.streets)
    pd.testing.assert_frame_equal(quick.cell_coverage, full.cell_coverage)
    parking_before = before.cell_coverage[before.cell_coverage["category"] == "parking"]
    parking_after = quick.cell_coverage[quick.cell_coverage["category"] == "parking"]
    pd.testing.assert_frame_equal(parking_before.reset_index(drop=True),
                                  parking_after.reset_index(drop=True))


def test_comparison_counts_newly_covered_residents(baseline, targets, area):
    facilities, before = baseline
    scenario = Scenario("s").with_edit(Edit("add", facility_id="m2", category="market",
                                            name="东", **_at(1500, 500)))
    after_facilities, after_targets = apply_scenario(scenario, facilities=facilities,
                                                     targets=targets, area=area)
    after = recompute(before, after_facilities, after_targets, categories=["market"])
    table = compare_streets(before, after).set_index(["code", "category"])
    gained = changed_cells(before, after, "market")
    assert set(gained["change"]) == {"gained"}
    assert set(gained["code"]) == {B}
    per_cell = 3000 / (before.cells["code"] == B).sum()
    assert table.loc[(B, "market"), "newly_covered_residents"] == pytest.approx(
        len(gained) * per_cell)
    assert table.loc[(B, "market"), "share_before"] == 0
    assert table.loc[(B, "market"), "delta_pp"] == pytest.approx(
        100 * table.loc[(B, "market"), "share_after"])
    assert table.loc[(A, "market"), "newly_covered_residents"] == 0
    assert table.loc[(A, "parking"), "delta_pp"] == 0
    totals = newly_covered_total(compare_streets(before, after)).set_index("category")
    assert totals.loc["market", "newly_covered_residents"] == pytest.approx(
        len(gained) * per_cell)
    assert totals.loc["parking", "lost_residents"] == 0


def test_without_population_gains_are_area_not_zero(two_streets, baseline, targets, area):
    from geo.engine.hexgrid import cell_areas_km2
    from geo.plan.compare import gain_columns
    from geo.plan.wording import gain_words, share_words

    facilities, _ = baseline
    unknown = two_streets.assign(population=np.nan)
    before = compute_coverage(unknown, facilities, targets, resolution=10)
    scenario = Scenario("s").with_edit(Edit("add", facility_id="m2", category="market",
                                            name="东", **_at(1500, 500)))
    after_facilities, after_targets = apply_scenario(scenario, facilities=facilities,
                                                     targets=targets, area=area)
    after = recompute(before, after_facilities, after_targets, categories=["market"])
    assert gain_columns(after) == ("newly_covered_area_km2", "lost_area_km2")
    table = compare_streets(before, after).set_index(["code", "category"])
    assert "newly_covered_residents" not in table
    gained = changed_cells(before, after, "market")
    expected = cell_areas_km2(gained["cell"]).sum()
    assert table.loc[(B, "market"), "newly_covered_area_km2"] == pytest.approx(expected)
    assert expected > 0.1  # several hexagons of ~0.015 km²
    totals = newly_covered_total(compare_streets(before, after)).set_index("category")
    assert totals.loc["market", "newly_covered_area_km2"] == pytest.approx(expected)
    assert gain_words(after) == ("新增覆盖面积 km²", "newly covered area km²")
    assert share_words(after)[1] == "covered area (no population data)"
