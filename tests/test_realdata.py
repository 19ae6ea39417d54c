"""Invariants on the real OSM boundaries and POIs of Changning, read in place from ../shared."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from geo.data.io import read_boundaries
from geo.data.osm import osm_facilities
from geo.data.schema import normalize_facilities
from geo.engine.coverage import compute_coverage
from geo.engine.hexgrid import cells_area_km2
from geo.model.config import METRIC_CRS
from tests.conftest import shared_file

pytestmark = pytest.mark.realdata
CODES = ["310105001000", "310105002000", "310105004000", "310105005000", "310105006000",
         "310105008000", "310105009000", "310105010000", "310105011000", "310105102000"]


@pytest.fixture(scope="module")
def streets():
    return read_boundaries(shared_file("data", "osm", "changning_streets.geojson"),
                           code_field="official_control_code_2023",
                           name_field="official_control_name_2023")


@pytest.fixture(scope="module")
def facilities(targets_all):
    pois = gpd.read_file(shared_file("data", "osm", "changning_pois.geojson"))
    return normalize_facilities(osm_facilities(pois), known_categories=targets_all.keys(),
                                first_row=1, row_noun="feature")


@pytest.fixture(scope="module")
def targets_all():
    from geo.data.io import read_targets

    return read_targets()


@pytest.fixture(scope="module")
def result(streets, facilities, targets_all):
    return compute_coverage(streets, facilities, targets_all, resolution=10)


def test_real_boundaries_import_with_their_own_field_names(streets):
    assert streets["code"].tolist() == CODES
    assert streets.loc[0, "name"] == "华阳路街道"
    assert streets.loc[9, "name"] == "新泾镇"
    assert streets["population"].isna().all()
    area = streets.to_crs(METRIC_CRS).area.sum() / 1e6
    assert area == pytest.approx(37.16, abs=0.05)


def test_osm_classes_map_to_categories(facilities):
    counts = facilities["category"].value_counts().to_dict()
    assert set(counts) == {"market", "sports", "parking"}
    assert counts["parking"] == 45  # every OSM parking point in Changning
    assert counts["market"] == 31 + 28 + (facilities["subtype"] == "marketplace").sum()
    assert facilities["id"].is_unique
    assert (facilities["name"] != "").all()


def test_every_cell_is_in_exactly_one_street(result):
    cells = result.cells
    assert cells.index.is_unique
    assert set(cells["code"]) == set(CODES)
    for category in result.categories:
        per = result.cell_coverage[result.cell_coverage["category"] == category]
        assert per["cell"].is_unique and len(per) == len(cells)


def test_cell_areas_add_up_to_the_district_area(result, streets):
    district = streets.to_crs(METRIC_CRS).area.sum() / 1e6
    assert cells_area_km2(result.cells.index) == pytest.approx(district, rel=0.02)


def test_distances_equal_an_exact_geodesic_computation(result, facilities):
    geod = Geod(ellps="WGS84")
    cells = result.cells.sample(300, random_state=1)
    for category in result.categories:
        points = facilities[(facilities["category"] == category)
                            & (facilities["status"] != "closed")]
        engine = (result.cell_coverage.query("category == @category").set_index("cell")
                  .loc[cells.index, "distance_m"])
        lon1 = np.repeat(cells["lon"].to_numpy(), len(points))
        lat1 = np.repeat(cells["lat"].to_numpy(), len(points))
        lon2 = np.tile(points["lon"].to_numpy(), len(cells))
        lat2 = np.tile(points["lat"].to_numpy(), len(cells))
        exact = geod.inv(lon1, lat1, lon2, lat2)[2].reshape(len(cells), -1).min(axis=1)
        # UTM 51N measures ~0.01% short here: well under a metre at these distances
        np.testing.assert_allclose(engine.to_numpy(), exact, rtol=3e-4, atol=0.01)


def _covered(streets, facilities, targets, radius: float) -> pd.Series:
    result = compute_coverage(streets, facilities, targets.with_radii({"market": radius}),
                              resolution=10, categories=["market"])
    return result.streets.set_index("code")["covered_cells"]


def test_coverage_never_falls_when_the_radius_grows(streets, facilities, targets_all):
    series = [_covered(streets, facilities, targets_all, r) for r in (200, 400, 500, 800, 1500)]
    for smaller, larger in itertools.pairwise(series):
        assert (larger >= smaller).all()
    assert series[-1].sum() > series[0].sum()


def test_adding_a_facility_never_lowers_coverage(result, streets, facilities, targets_all):
    gaps = result.cell_coverage.query("category == 'market' and not covered")
    farthest = result.cells.loc[gaps.sort_values("distance_m").iloc[-1]["cell"]]
    extra = facilities.iloc[[0]].copy()
    extra["id"], extra["category"], extra["status"] = "new-market", "market", "planned"
    extra["lon"], extra["lat"] = farthest["lon"], farthest["lat"]
    extra = extra.set_geometry(gpd.points_from_xy(extra["lon"], extra["lat"]), crs="EPSG:4326")
    more = pd.concat([facilities, extra], ignore_index=True)
    after = compute_coverage(streets, more, targets_all, resolution=10)
    before_rows = result.streets.set_index(["code", "category"])
    after_rows = after.streets.set_index(["code", "category"])
    assert (after_rows["covered_cells"] >= before_rows["covered_cells"]).all()
    market = after_rows.xs("market", level="category")["covered_cells"]
    assert market.sum() > before_rows.xs("market", level="category")["covered_cells"].sum()
