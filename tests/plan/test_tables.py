from __future__ import annotations

import pandas as pd
import pytest

from geo.engine.coverage import compute_coverage
from geo.plan.tables import (
    district_table,
    facility_counts,
    street_table,
    streets_table,
    targets_table,
)


@pytest.fixture
def result(two_streets, targets, market_and_parking):
    return compute_coverage(two_streets, market_and_parking, targets, resolution=10)


def test_street_table_lowest_coverage_first(result):
    table = street_table(result, "parking")
    assert table["code"].tolist() == ["310105900001", "310105900002"]
    assert table["covered_residents_pct"].iloc[0] == 0.0
    assert table["target_pct"].tolist() == [50.0, 50.0]
    assert table["residents"].tolist() == [1000.0, 3000.0]
    assert table["meets_target"].tolist() == [False, True]


def test_district_table_weights_by_residents(result):
    table = district_table(result, {"market": "菜市场"})
    assert table["category"].tolist() == ["菜市场", "parking"]
    rows = result.streets.set_index(["code", "category"])
    share_b = rows.loc[("310105900002", "parking"), "covered_population_share"]
    assert table["covered_residents_pct"].iloc[1] == pytest.approx(
        round(share_b * 3000 / 4000 * 100, 1))
    assert table["streets_below_target"].tolist() == [2, 1]
    assert table["facilities"].tolist() == [1, 1]


def test_targets_streets_and_counts(targets, two_streets):
    table = targets_table(targets, {"market": "菜市场"})
    assert table["category"].tolist() == ["菜市场", "parking"]
    assert table["radius_m"].tolist() == [300.0, 500.0]
    assert table["target_pct"].tolist() == pytest.approx([90.0, 50.0])
    assert streets_table(two_streets)["area_km2"].tolist() == pytest.approx([1.0, 1.0], rel=1e-6)
    facilities = pd.DataFrame({"id": ["a", "b", "c"], "category": ["market"] * 3,
                               "subtype": ["smart", "smart", ""], "status": ["existing"] * 3,
                               "capacity": [10.0, 5.0, float("nan")]})
    counts = facility_counts(facilities, {"market": "菜市场"})
    assert counts[["category", "subtype", "facilities", "capacity"]].values.tolist() == [
        ["菜市场", "smart", 2, 15.0], ["菜市场", "", 1, 0.0]]
