"""The embedded demo dataset: what the app opens with, checked against the seed's figures."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys

import pytest
import shapely

from geo.data.io import read_demo, read_targets
from geo.model.config import (
    DATA_DIR,
    DEMO_BOUNDARIES,
    DEMO_FACILITY_FILES,
    DEMO_NETWORK,
    DEMO_POPULATION,
    METRIC_CRS,
)
from tests.conftest import ROOT

CODES = {
    "310105001000": "华阳路街道", "310105002000": "江苏路街道", "310105004000": "新华路街道",
    "310105005000": "周家桥街道", "310105006000": "天山路街道", "310105008000": "仙霞新村街道",
    "310105009000": "虹桥街道", "310105010000": "程家桥街道", "310105011000": "北新泾街道",
    "310105102000": "新泾镇",
}


@pytest.fixture(scope="module")
def demo():
    return read_demo(read_targets())


def test_ten_units_with_official_codes_names_and_populations(demo):
    streets, _ = demo
    assert dict(zip(streets["code"], streets["name"], strict=True)) == CODES
    assert (streets["name_en"] != "").all()
    assert (streets["population"] > 0).all()
    assert streets["population"].sum() == pytest.approx(693_000, rel=0.05)


def test_streets_tile_a_37_to_38_km2_outline_without_gaps_or_overlaps(demo):
    streets, _ = demo
    metric = streets.to_crs(METRIC_CRS)
    total = metric.area.sum()
    union = shapely.union_all(metric.geometry.to_numpy())
    assert 37e6 <= total <= 38e6
    assert union.area == pytest.approx(total, rel=1e-9)  # no overlaps
    assert union.geom_type == "Polygon" and len(union.interiors) == 0  # no gaps
    assert shapely.coverage_is_valid(metric.geometry.to_numpy())


def test_every_feature_says_it_is_demo_data(demo):
    _, facilities = demo
    features = json.loads(DEMO_BOUNDARIES.read_text(encoding="utf-8"))["features"]
    assert len(features) == 10
    assert all(f["properties"]["source"].startswith("demo:") for f in features)
    assert facilities["source"].str.startswith("demo:").all()
    assert facilities["name"].str.contains("示意").all()


def test_counts_match_the_seed(demo):
    _, facilities = demo
    by = facilities.groupby(["category", "subtype"])
    chargers = facilities[facilities["category"] == "charger"]
    assert chargers["capacity"].sum() == 932
    assert chargers.loc[chargers["subtype"] == "fast", "capacity"].sum() == 104
    assert by.size()[("market", "smart")] == 4
    assert by.size()[("market", "ordinary")] > 0
    assert set(facilities.loc[facilities["subtype"] == "smart", "name"]) >= {
        "美天玉屏智慧菜场（示意）", "美天新渔智慧菜场（示意）"}
    assert by.size()[("sports", "smart_venue")] == 10
    assert by.size()[("sports", "elder_sport_home")] == 6
    assert by.size()[("canteen", "ai_canteen")] >= 1
    assert by.size()[("canteen", "elderly_canteen")] > 0
    parking = facilities[facilities["category"] == "parking"]
    assert len(parking) == 120
    assert (parking["capacity"] > 0).all()
    assert (parking["networked"] == "true").all()  # 联网全覆盖: every public car park
    assert (parking["off_peak_booking"] == "true").sum() == 21
    assert (parking["status"] == "existing").all()


def test_every_facility_lies_in_a_street(demo):
    streets, facilities = demo
    outline = shapely.union_all(streets.geometry.to_numpy())
    assert facilities.geometry.within(outline).all()


def test_the_generator_rebuilds_the_shipped_files_exactly(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_data.py"),
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    shipped = [DEMO_BOUNDARIES, *DEMO_FACILITY_FILES.values(), DEMO_POPULATION, DEMO_NETWORK]
    for path in shipped:
        rebuilt = tmp_path / path.relative_to(DATA_DIR)
        assert filecmp.cmp(rebuilt, path, shallow=False), f"{path.name} differs from the generator"


def test_the_demo_residents_live_in_their_streets_and_walks_meet_barriers():
    """The residential areas hold each street's demo population exactly, say they are demo,
    leave the airport empty; the walking network makes walks longer than straight lines
    across the rail corridor and the river."""
    import numpy as np

    from geo.data.dataset_store import embedded_demo
    from geo.data.io import read_targets
    from geo.engine.coverage import compute_coverage

    areas = json.loads(DEMO_POPULATION.read_text(encoding="utf-8"))["features"]
    assert all(a["properties"]["source"].startswith("demo:") for a in areas)
    assert all("演示" in a["properties"]["name"] for a in areas)
    targets = read_targets()
    demo = embedded_demo(targets)
    by_street = {}
    for area in areas:
        code = area["properties"]["street"]
        by_street[code] = by_street.get(code, 0) + area["properties"]["population"]
    assert by_street == dict(zip(demo.streets["code"], demo.streets["population"].astype(int),
                                 strict=True))
    result = compute_coverage(demo.streets, demo.facilities, targets, resolution=10,
                              network=demo.network, population=demo.population)
    straight = compute_coverage(demo.streets, demo.facilities, targets, resolution=10)
    walk = result.cell_coverage["distance_m"].to_numpy()
    line = straight.cell_coverage["distance_m"].to_numpy()
    finite = np.isfinite(walk)
    assert (walk[finite] >= line[finite] - 1e-6).all()
    assert np.median(walk[finite] / np.maximum(line[finite], 1.0)) > 1.15  # streets and barriers
    assert result.unreachable_cells > 0  # the airport is closed to walkers
    airport = result.cells[result.population.residents == 0]
    assert len(airport) > result.unreachable_cells  # and nobody lives there, nor in parks
