"""Residents and walks on the real OSM boundaries and POIs of Changning (read in place from
../shared), with a population layer and a walking network generated here: conservation of
residents, walks never shorter than the straight line, unreachable cells counted, the JSON
saying what it measured."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from geo.data.io import read_boundaries, read_targets
from geo.data.network_io import read_network
from geo.data.osm import osm_facilities
from geo.data.population_io import read_population
from geo.data.schema import normalize_facilities
from geo.engine.coverage import compute_coverage
from geo.engine.hexgrid import street_grid
from geo.model.config import METRIC_CRS, STORAGE_CRS
from geo.plan.json_output import coverage_to_dict
from geo.plan.reach import isochrones
from tests.cli_helpers import run_cli
from tests.conftest import shared_file

pytestmark = pytest.mark.realdata
RESOLUTION = 10
MAX_SNAP = 150.0


@pytest.fixture(scope="module")
def streets():
    return read_boundaries(shared_file("data", "osm", "changning_streets.geojson"),
                           code_field="official_control_code_2023",
                           name_field="official_control_name_2023")


@pytest.fixture(scope="module")
def targets():
    return read_targets()


@pytest.fixture(scope="module")
def facilities(targets):
    pois = gpd.read_file(shared_file("data", "osm", "changning_pois.geojson"))
    return normalize_facilities(osm_facilities(pois), known_categories=targets.keys(),
                                first_row=1, row_noun="feature")


@pytest.fixture(scope="module")
def files(streets, tmp_path_factory):
    """A walking network (a 200 m street grid over the district, a stretch of it removed) and
    blocks with residents, both generated over the real boundaries, in a temporary folder."""
    folder = tmp_path_factory.mktemp("generated")
    area = shapely.union_all(streets.to_crs(METRIC_CRS).geometry.to_numpy())
    xmin, ymin, xmax, ymax = area.bounds
    rng = np.random.default_rng(20261202)
    lines, blocks = [], []
    for x in np.arange(xmin, xmax, 200.0):
        for y in np.arange(ymin, ymax, 200.0):
            if not area.intersects(shapely.box(x, y, x + 200, y + 200)):
                continue
            if rng.random() > 0.1:
                lines.append(shapely.LineString([(x, y), (x + 200, y)]))
            if rng.random() > 0.1:
                lines.append(shapely.LineString([(x, y), (x, y + 200)]))
            blocks.append((shapely.box(x + 20, y + 20, x + 180, y + 180),
                           int(rng.integers(0, 900)), int(rng.integers(0, 300))))
    network = gpd.GeoDataFrame(geometry=lines, crs=METRIC_CRS).to_crs(STORAGE_CRS)
    people = gpd.GeoDataFrame({"居民": [b[1] for b in blocks], "老人": [b[2] for b in blocks]},
                              geometry=[b[0] for b in blocks], crs=METRIC_CRS)
    paths = {"network": folder / "walk.geojson", "population": folder / "blocks.gpkg"}
    network.to_file(paths["network"])
    people.to_file(paths["population"])
    raster = folder / "grid.tif"
    width, height = int((xmax - xmin) // 250) + 1, int((ymax - ymin) // 250) + 1
    with rasterio.open(raster, "w", driver="GTiff", height=height, width=width, count=1,
                       dtype="float32", crs=METRIC_CRS, nodata=-1,
                       transform=from_origin(xmin, ymax, 250, 250)) as out:
        out.write(rng.integers(-1, 50, (height, width)).astype("float32"), 1)
    paths["raster"] = raster
    return paths


@pytest.fixture(scope="module")
def walked(streets, facilities, targets, files):
    network = read_network(files["network"]).with_max_snap(MAX_SNAP)
    layer = read_population(files["population"], field="居民", elderly_field="老人")
    return compute_coverage(streets, facilities, targets, resolution=RESOLUTION,
                            network=network, population=layer), layer


def test_residents_are_conserved_and_each_street_is_its_cells(walked, streets):
    result, layer = walked
    people = result.population
    assert people.input == layer.total() > 0
    assert people.assigned + people.outside == pytest.approx(people.input, rel=1e-12)
    assert 0 <= people.outside < 0.2 * people.input  # blocks along the edge of the district
    sums = result.cells.groupby("code")["population"].sum()
    per_street = result.streets.drop_duplicates("code").set_index("code")["population"]
    assert per_street.to_numpy() == pytest.approx(sums.reindex(per_street.index).to_numpy())
    assert people.elderly_assigned <= people.assigned


@pytest.mark.parametrize("name", ["raster"])
def test_a_raster_over_the_district_is_conserved(streets, files, name):
    from geo.engine.population import layer_population

    layer = read_population(files[name])
    people = layer_population(street_grid(streets, resolution=RESOLUTION), layer)
    assert people.assigned + people.outside == pytest.approx(people.input, rel=1e-12)
    assert 0 < people.assigned < people.input  # the grid's corners lie outside the district
    assert layer.ignored["nodata pixels"] > 0


def test_walks_are_never_shorter_than_the_straight_line(walked, streets, facilities, targets):
    result, _ = walked
    straight = compute_coverage(streets, facilities, targets, resolution=RESOLUTION)
    walk = result.cell_coverage.set_index(["cell", "category"])["distance_m"]
    line = straight.cell_coverage.set_index(["cell", "category"])["distance_m"]
    finite = np.isfinite(walk.to_numpy())
    assert (walk.to_numpy()[finite] >= line.reindex(walk.index).to_numpy()[finite] - 1e-6).all()
    assert finite.mean() > 0.8
    covered = result.streets.set_index(["code", "category"])["covered_cells"]
    assert (covered <= straight.streets.set_index(["code", "category"])["covered_cells"]).all()


def test_unreachable_cells_are_those_far_from_every_street(walked, files):
    result, _ = walked
    lines = gpd.read_file(files["network"]).to_crs(METRIC_CRS)
    tree = shapely.STRtree(lines.geometry.to_numpy())
    centres = gpd.GeoSeries(gpd.points_from_xy(result.cells["lon"], result.cells["lat"]),
                            crs=STORAGE_CRS).to_crs(METRIC_CRS).to_numpy()
    _, gap = tree.query_nearest(centres, return_distance=True, all_matches=False)
    assert result.unreachable_cells == int((gap > MAX_SNAP).sum())
    far = result.cell_coverage[result.cell_coverage["cell"].isin(
        result.cells.index[gap > MAX_SNAP])]
    assert np.isinf(far["distance_m"]).all()


def test_isochrones_of_a_category_are_its_covered_cells(walked, facilities):
    result, _ = walked
    outlines = isochrones(result, facilities, category="market")
    rows = result.cell_coverage[result.cell_coverage["category"] == "market"]
    assert outlines.iloc[0]["cells"] == int(rows["covered"].sum())
    assert (outlines["scope"] == "facility").sum() == int(
        ((facilities["category"] == "market") & (facilities["status"] != "closed")).sum())


def test_cli_says_what_it_measured_on_the_real_boundaries(walked, files, tmp_path):
    boundaries = shared_file("data", "osm", "changning_streets.geojson")
    done = run_cli("coverage", "--boundaries", str(boundaries), "--code-field",
                   "official_control_code_2023", "--name-field", "official_control_name_2023",
                   "--network", str(files["network"]), "--max-snap", str(MAX_SNAP),
                   "--population", str(files["population"]), "--population-field", "居民",
                   "--elderly-field", "老人", "--resolution", str(RESOLUTION))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["distance"] == "network" and out["population"]["basis"] == "residents"
    result, _ = walked
    assert out["unreachable_cells"] == result.unreachable_cells
    expected = coverage_to_dict(result)["population"]
    assert out["population"]["input"] == expected["input"]
    assert out["population"]["assigned"] == pytest.approx(expected["assigned"], rel=1e-9)
    canteen = out["streets"][0]["coverage"]["canteen"]
    assert canteen["judged_on"] == "elderly" and "covered_elderly_share" in canteen
    assert pd.notna(canteen["covered_elderly_share"])
