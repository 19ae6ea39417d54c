from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.data.schema import normalize_facilities
from geo.engine.coverage import cell_coverage, compute_coverage, nearest_facility
from geo.engine.sums import district_summary, street_coverage
from geo.model.errors import InputError
from geo.plan.gaps import gap_cells, streets_below_target
from geo.plan.json_output import coverage_to_dict
from tests.conftest import facility_frame, metric_to_lonlat


def _cells(offsets: dict[str, tuple[float, float]], code: str = "s") -> pd.DataFrame:
    lon, lat = metric_to_lonlat([o[0] for o in offsets.values()], [o[1] for o in offsets.values()])
    return pd.DataFrame({"code": code, "lon": lon, "lat": lat, "population": np.nan},
                        index=pd.Index(list(offsets), name="cell"))


def _facilities(rows: list[dict], targets) -> pd.DataFrame:
    return normalize_facilities(facility_frame(rows), known_categories=targets.keys())


def test_nearest_distance_is_the_straight_line_in_metres(targets):
    cells = _cells({"a": (0, 0), "b": (300, 0), "c": (0, 400), "d": (3000, 4000)})
    facilities = _facilities([
        {"id": "m1", "name": "一号", "category": "market", "dx": 0, "dy": 0},
        {"id": "m2", "name": "二号", "category": "market", "dx": 3000, "dy": 4100},
    ], targets)
    near = nearest_facility(cells, facilities)
    assert near["distance_m"].to_numpy() == pytest.approx([0, 300, 400, 100], abs=1e-3)
    assert near["nearest_id"].tolist() == ["m1", "m1", "m1", "m2"]
    assert near["nearest_name"].tolist() == ["一号", "一号", "一号", "二号"]


def test_no_facility_means_infinite_distance(targets):
    near = nearest_facility(_cells({"a": (0, 0)}), _facilities(
        [{"id": "m1", "name": "x", "category": "market", "dx": 0, "dy": 0}], targets).iloc[:0])
    assert near.loc["a", "distance_m"] == np.inf
    assert near.loc["a", "nearest_id"] is None


def test_closed_facilities_do_not_count_planned_ones_do(targets):
    cells = _cells({"a": (0, 0), "b": (1000, 0)})
    facilities = _facilities([
        {"id": "m1", "name": "closed", "category": "market", "status": "closed", "dx": 0, "dy": 0},
        {"id": "m2", "name": "planned", "category": "market", "status": "planned",
         "dx": 1000, "dy": 0},
        {"id": "p1", "name": "car park", "category": "parking", "dx": 0, "dy": 0},
    ], targets)
    cov = cell_coverage(cells, facilities, targets, categories=["market", "parking"])
    market = cov[cov["category"] == "market"].set_index("cell")
    assert market.loc["a", "distance_m"] == pytest.approx(1000, abs=1e-3)
    assert market.loc["a", "nearest_name"] == "planned"
    assert market["covered"].tolist() == [False, True]
    parking = cov[cov["category"] == "parking"].set_index("cell")
    assert parking["covered"].tolist() == [True, False]
    assert parking["radius_m"].unique().tolist() == [500.0]


def test_coverage_is_inclusive_at_exactly_the_radius(targets):
    cells = _cells({"a": (299.999, 0), "b": (300.01, 0)})
    facilities = _facilities([{"id": "m", "name": "m", "category": "market", "dx": 0, "dy": 0}],
                             targets)
    cov = cell_coverage(cells, facilities, targets, categories=["market"])
    assert cov["covered"].tolist() == [True, False]


@pytest.fixture
def two_street_result(two_streets, targets):
    """Market in the west square's centre: only street A is partly covered at radius 300 m."""
    facilities = _facilities([
        {"id": "m1", "name": "西菜场", "category": "market", "capacity": "80",
         "dx": 500, "dy": 500},
        {"id": "m2", "name": "远处", "category": "market", "capacity": "20", "dx": 9000, "dy": 500},
        {"id": "p1", "name": "停车", "category": "parking", "capacity": "100", "dx": 1500,
         "dy": 500},
    ], targets)
    return compute_coverage(two_streets, facilities, targets, resolution=10)


def test_street_summary_counts_and_shares(two_street_result):
    result = two_street_result
    cells = result.cells
    market = result.cell_coverage.query("category == 'market'").merge(cells, left_on="cell",
                                                                      right_index=True)
    per_street = market.groupby("code")["covered"].agg(["size", "sum"])
    rows = result.streets.set_index(["code", "category"])
    a, b = "310105900001", "310105900002"
    assert rows.loc[(a, "market"), "cells"] == per_street.loc[a, "size"]
    assert rows.loc[(a, "market"), "covered_cells"] == per_street.loc[a, "sum"] > 0
    assert rows.loc[(b, "market"), "covered_cells"] == 0
    share = per_street.loc[a, "sum"] / per_street.loc[a, "size"]
    assert rows.loc[(a, "market"), "covered_cell_share"] == pytest.approx(share)
    # population is spread evenly, so the population share equals the cell share
    assert rows.loc[(a, "market"), "covered_population_share"] == pytest.approx(share)
    assert rows.loc[(a, "market"), "facilities"] == 1  # m2 lies outside both streets
    assert rows.loc[(a, "market"), "capacity"] == 80.0
    assert rows.loc[(b, "parking"), "facilities"] == 1
    assert rows.loc[(a, "parking"), "facilities"] == 0
    assert not rows.loc[(a, "market"), "meets_target"]
    assert list(result.categories) == ["market", "parking"]
    assert len(result.streets) == 4


def test_population_weights_the_district_share(two_street_result):
    summary = district_summary(two_street_result)
    rows = two_street_result.streets.set_index(["code", "category"])
    share_a = rows.loc[("310105900001", "market"), "covered_population_share"]
    # street A has 1,000 of the 4,000 residents and B none covered
    assert summary.loc["market", "covered_population_share"] == pytest.approx(share_a * 0.25)
    assert summary.loc["market", "streets_below_target"] == 2
    assert summary.loc["market", "facilities"] == 1


def test_shares_approach_the_circle_area(two_street_result):
    """A 500 m circle centred in a 1 km² square covers π/4 of it; a 300 m one 0.09π."""
    rows = two_street_result.streets.set_index(["code", "category"])
    a, b = "310105900001", "310105900002"
    assert rows.loc[(b, "parking"), "covered_population_share"] == pytest.approx(
        np.pi / 4, abs=0.03)
    assert rows.loc[(a, "market"), "covered_population_share"] == pytest.approx(
        0.09 * np.pi, abs=0.03)
    assert rows.loc[(b, "parking"), "meets_target"]
    assert rows.loc[(a, "parking"), "covered_cells"] == 0
    below = streets_below_target(two_street_result, "parking")
    assert below["code"].tolist() == [a]


def test_gap_cells_are_the_uncovered_ones_farthest_first(two_street_result):
    gaps = gap_cells(two_street_result, "market")
    uncovered = two_street_result.cell_coverage.query("category == 'market' and not covered")
    assert set(gaps["cell"]) == set(uncovered["cell"])
    assert gaps["distance_m"].is_monotonic_decreasing
    assert (gaps["distance_m"] > 300).all()
    assert set(gaps["nearest_name"]) <= {"西菜场", "远处"}


def test_unknown_population_gives_equal_weights_and_null_output(two_streets, targets):
    two_streets["population"] = np.nan
    facilities = _facilities([{"id": "m1", "name": "m", "category": "market", "dx": 500,
                               "dy": 500}], targets)
    result = compute_coverage(two_streets, facilities, targets, resolution=10)
    out = coverage_to_dict(result)
    first = out["streets"][0]
    assert first["population"] is None
    market = first["coverage"]["market"]
    assert market["covered_population_share"] == pytest.approx(market["covered_cell_share"])
    assert market["judged_on"] == "area"
    assert out["population"] == {"basis": "area", "input": None, "assigned": None,
                                 "outside": None}


def test_json_shape_is_the_cli_contract(two_street_result):
    out = coverage_to_dict(two_street_result)
    assert list(out) == ["resolution", "distance", "detour_factor", "unreachable_cells",
                         "population", "streets"]
    assert out["resolution"] == 10
    assert (out["distance"], out["detour_factor"], out["unreachable_cells"]) == ("straight", 1, 0)
    assert out["population"] == {"basis": "residents", "input": 4000, "assigned": 4000,
                                 "outside": 0}
    assert [s["code"] for s in out["streets"]] == ["310105900001", "310105900002"]
    street = out["streets"][0]
    assert list(street) == ["code", "name", "cells", "population", "unreachable_cells",
                            "coverage"]
    assert street["name"] == "甲街道"
    assert street["population"] == 1000
    assert list(street["coverage"]) == ["market", "parking"]
    assert list(street["coverage"]["market"]) == [
        "radius_m", "facilities", "covered_cells", "covered_cell_share",
        "covered_population_share", "target_share", "judged_on", "meets_target"]
    assert street["coverage"]["market"]["radius_m"] == 300
    assert street["coverage"]["market"]["meets_target"] is False


def test_a_street_without_cells_has_null_shares(two_streets, targets):
    import shapely

    tiny = two_streets.iloc[[0]].copy()
    tiny["code"], tiny["name"] = "310105999999", "小"
    tiny["geometry"] = [shapely.box(121.0, 31.0, 121.00001, 31.00001)]
    streets = pd.concat([two_streets, tiny], ignore_index=True)
    facilities = _facilities([{"id": "m1", "name": "m", "category": "market", "dx": 0, "dy": 0}],
                             targets)
    result = compute_coverage(streets, facilities, targets, resolution=10)
    row = result.streets.set_index("code").loc["310105999999"]
    assert row["cells"] == 0
    assert pd.isna(row["covered_population_share"])
    assert row["meets_target"] is pd.NA
    out = coverage_to_dict(result)
    assert out["streets"][2]["coverage"]["market"]["meets_target"] is None
    # its residents live on no cell: reported, not dropped
    assert out["population"] == {"basis": "residents", "input": 5000, "assigned": 4000,
                                 "outside": 1000}


def test_category_without_a_target_is_refused(two_streets, targets):
    facilities = _facilities([{"id": "m1", "name": "m", "category": "market", "dx": 0, "dy": 0}],
                             targets)
    with pytest.raises(InputError, match=r"category 'school' has no radius"):
        compute_coverage(two_streets, facilities, targets, resolution=10,
                         categories=["school"])


def test_street_coverage_reindexes_every_street_and_category(two_street_result, targets):
    result = two_street_result
    again = street_coverage(result.boundaries, result.cells, result.cell_coverage,
                            _facilities([{"id": "x", "name": "x", "category": "market",
                                          "dx": 0, "dy": 0}], targets), targets)
    assert again[["code", "category"]].values.tolist() == [
        ["310105900001", "market"], ["310105900001", "parking"],
        ["310105900002", "market"], ["310105900002", "parking"]]
