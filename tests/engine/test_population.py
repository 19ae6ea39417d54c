"""Residents where they live: polygons shared by area, points and pixels to their cell, what
falls on no cell reported (assigned + outside = input), each street the sum of its cells, 60+
counts judging the categories weighted by them."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from geo.data.population_io import read_population
from geo.data.schema import normalize_facilities
from geo.engine.coverage import compute_coverage, recompute
from geo.engine.hexgrid import cell_polygons, street_grid
from geo.engine.population import PopulationLayer, layer_population
from geo.model.config import METRIC_CRS, STORAGE_CRS
from geo.model.targets import targets_from_mapping
from geo.plan.json_output import coverage_to_dict
from tests.conftest import ORIGIN_X, ORIGIN_Y, facility_frame, metric_to_lonlat

A, B = "310105900001", "310105900002"
RESOLUTION = 10
#: Areas of intersections in UTM 51N (coordinates in the millions of metres) add up to the
#: polygon's area within this relative error.
AREAS = 1e-7


def _polygons(rows: list[tuple[shapely.Geometry, float, float]]) -> gpd.GeoDataFrame:
    """(box in metres from the origin, residents, 60+) rows, written as a layer would be."""
    return gpd.GeoDataFrame(
        {"population": [r[1] for r in rows], "age60": [r[2] for r in rows]},
        geometry=[shapely.affinity.translate(r[0], ORIGIN_X, ORIGIN_Y) for r in rows],
        crs=METRIC_CRS)


def _write(frame: gpd.GeoDataFrame, tmp_path, name="people.gpkg"):
    path = tmp_path / name
    frame.to_file(path)
    return path


def _covered_by_grid(grid, shape: shapely.Geometry) -> float:
    """The share of ``shape`` (metres) that the grid's hexagons cover, measured with shapely
    in UTM 51N (independently of tobler)."""
    hexes = shapely.union_all(cell_polygons(grid.frame.index).to_crs(METRIC_CRS).to_numpy())
    return shape.intersection(hexes).area / shape.area


def test_a_polygon_inside_one_street_gives_it_all_its_residents(two_streets, tmp_path):
    inner = shapely.box(200, 200, 600, 700)
    layer = read_population(_write(_polygons([(inner, 600.0, 90.0)]), tmp_path))
    grid = street_grid(two_streets, resolution=RESOLUTION)
    people = layer_population(grid, layer)
    assert people.input == 600.0
    assert people.assigned == pytest.approx(600.0, rel=AREAS)
    on_a = people.residents[grid.street == 0].sum()
    assert on_a == pytest.approx(600.0, rel=AREAS)
    assert people.residents[grid.street == 1].sum() == 0.0
    # only the cells the polygon overlaps hold residents, each by its overlap's area
    hexes = cell_polygons(grid.frame.index).to_crs(METRIC_CRS)
    box = shapely.affinity.translate(inner, ORIGIN_X, ORIGIN_Y)
    expected = 600.0 * hexes.intersection(box).area.to_numpy() / box.area
    assert people.residents == pytest.approx(expected, rel=AREAS, abs=1e-9)


def test_polygons_are_shared_as_tobler_shares_them(two_streets, tmp_path):
    from tobler.area_weighted import area_interpolate

    rng = np.random.default_rng(5)
    boxes = [(shapely.box(x, y, x + w, y + h), float(v), float(e)) for x, y, w, h, v, e in
             zip(rng.uniform(-300, 1800, 12), rng.uniform(-300, 800, 12),
                 rng.uniform(50, 700, 12), rng.uniform(50, 700, 12),
                 rng.integers(10, 900, 12), rng.integers(0, 200, 12), strict=True)]
    layer = read_population(_write(_polygons(boxes), tmp_path), elderly_field="age60")
    grid = street_grid(two_streets, resolution=RESOLUTION)
    people = layer_population(grid, layer)
    hexagons = gpd.GeoDataFrame(geometry=cell_polygons(grid.frame.index).to_numpy(),
                                crs=STORAGE_CRS).to_crs(METRIC_CRS)
    source = layer.polygons.to_crs(METRIC_CRS)
    expected = area_interpolate(source, hexagons, extensive_variables=["residents", "elderly"],
                                allocate_total=False)
    assert people.residents == pytest.approx(expected["residents"].to_numpy(), rel=AREAS,
                                             abs=1e-9)
    assert people.elderly == pytest.approx(expected["elderly"].to_numpy(), rel=AREAS, abs=1e-9)
    assert people.assigned + people.outside == people.input == sum(b[1] for b in boxes)
    assert 0 < people.outside < people.input


def test_the_part_of_a_polygon_on_no_cell_falls_outside_and_is_reported(two_streets, tmp_path):
    straddling = shapely.box(1700, 600, 2600, 1400)  # over B's east and north edges
    layer = read_population(_write(_polygons([(straddling, 900.0, 0.0)]), tmp_path))
    grid = street_grid(two_streets, resolution=RESOLUTION)
    people = layer_population(grid, layer)
    share = _covered_by_grid(grid, shapely.affinity.translate(straddling, ORIGIN_X, ORIGIN_Y))
    assert 0.05 < share < 0.5
    assert people.assigned == pytest.approx(900.0 * share, rel=AREAS)
    assert people.assigned + people.outside == 900.0
    assert people.outside > 0


def test_points_go_to_the_cell_that_holds_them(two_streets, tmp_path):
    lon, lat = metric_to_lonlat([100, 1500, 1510, 5000], [100, 500, 500, 5000])
    frame = gpd.GeoDataFrame({"population": [10, 20, 30, 40], "age60": [1, 2, 3, 4]},
                             geometry=gpd.points_from_xy(lon, lat), crs=STORAGE_CRS)
    layer = read_population(_write(frame, tmp_path, "compounds.geojson"),
                            elderly_field="age60")
    grid = street_grid(two_streets, resolution=RESOLUTION)
    people = layer_population(grid, layer)
    assert (people.input, people.assigned, people.outside) == (100.0, 60.0, 40.0)
    assert (people.elderly_input, people.elderly_assigned, people.elderly_outside) == (
        10.0, 6.0, 4.0)
    assert people.residents[grid.street == 0].sum() == 10.0
    assert people.residents[grid.street == 1].sum() == 50.0
    assert np.count_nonzero(people.residents) in (2, 3)  # 1500 and 1510 m may share a cell


def test_a_raster_gives_each_pixel_to_the_cell_of_its_centre(two_streets, tmp_path):
    path = tmp_path / "grid.tif"
    # 3 × 2 pixels of 400 m from (0, 800) down to (1200, 0); -1 is nodata
    values = np.array([[5.0, -1.0, 7.0], [11.0, 0.0, -3.0]], dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", height=2, width=3, count=1, dtype="float32",
                       crs="EPSG:32651", transform=from_origin(ORIGIN_X, ORIGIN_Y + 800, 400,
                                                               400), nodata=-1) as out:
        out.write(values, 1)
    layer = read_population(path)
    assert layer.ignored == {"nodata pixels": 1, "negative pixels": 1}
    grid = street_grid(two_streets, resolution=RESOLUTION)
    people = layer_population(grid, layer)
    # centres (200, 600) and (200, 200) in A, (1000, 600) on the A|B border's east side: B
    assert people.input == 23.0
    assert people.assigned + people.outside == 23.0
    assert people.residents[grid.street == 0].sum() == 16.0
    assert people.residents[grid.street == 1].sum() + people.outside == 7.0


def test_a_raster_centre_outside_the_grid_falls_outside(two_streets, tmp_path):
    path = tmp_path / "far.tif"
    with rasterio.open(path, "w", driver="GTiff", height=1, width=1, count=1, dtype="float32",
                       crs="EPSG:32651", transform=from_origin(ORIGIN_X + 5000, ORIGIN_Y, 100,
                                                               100)) as out:
        out.write(np.array([[42.0]], dtype="float32"), 1)
    grid = street_grid(two_streets, resolution=RESOLUTION)
    people = layer_population(grid, read_population(path))
    assert (people.input, people.assigned, people.outside) == (42.0, 0.0, 42.0)


# --- coverage weighted by where people live -----------------------------------------------------

@pytest.fixture
def canteen_targets():
    return targets_from_mapping({"categories": {
        "canteen": {"radius_m": 300, "target_share": 0.7, "weight": "elderly"},
        "market": {"radius_m": 300, "target_share": 0.7}}})


def _at_centre_of_a(targets):
    return normalize_facilities(facility_frame([
        {"id": "c1", "name": "食堂", "category": "canteen", "dx": 500, "dy": 500},
        {"id": "m1", "name": "菜场", "category": "market", "dx": 500, "dy": 500}]),
        known_categories=targets.keys())


def _homes(tmp_path):
    """Near A's centre: 100 residents, 80 aged 60+; towards A's north-west corner (410 m
    away, 100 m inside its edges): 900 residents, 20 aged 60+; B: an airport, no one."""
    return read_population(_write(_polygons([
        (shapely.box(450, 450, 550, 550), 100.0, 80.0),
        (shapely.box(100, 780, 200, 900), 900.0, 20.0)]), tmp_path), elderly_field="age60")


def test_the_layer_sets_each_streets_population_and_the_weights(two_streets, canteen_targets,
                                                                tmp_path):
    result = compute_coverage(two_streets, _at_centre_of_a(canteen_targets), canteen_targets,
                              resolution=RESOLUTION, population=_homes(tmp_path))
    rows = result.streets.set_index(["code", "category"])
    assert rows.loc[(A, "market"), "population"] == pytest.approx(1000.0, rel=AREAS)
    assert rows.loc[(B, "market"), "population"] == 0.0  # the boundary's 3,000 no longer
    market, canteen = rows.loc[(A, "market")], rows.loc[(A, "canteen")]
    assert market["covered_population_share"] == pytest.approx(0.1, rel=AREAS)
    assert market["judged_on"] == "residents" and market["meets_target"] == False  # noqa: E712
    assert canteen["covered_elderly_share"] == pytest.approx(0.8, rel=AREAS)
    assert canteen["judged_on"] == "elderly" and canteen["meets_target"] == True  # noqa: E712
    assert pd.isna(rows.loc[(B, "market"), "covered_population_share"])  # nobody lives there
    out = coverage_to_dict(result)
    assert out["population"]["basis"] == "residents"
    assert out["population"]["input"] == 1000
    assert out["elderly"]["input"] == 100
    assert out["streets"][0]["coverage"]["canteen"]["covered_elderly_share"] == pytest.approx(
        0.8, rel=AREAS)


def test_recompute_keeps_the_layers_weights(two_streets, canteen_targets, tmp_path):
    facilities = _at_centre_of_a(canteen_targets)
    first = compute_coverage(two_streets, facilities, canteen_targets, resolution=RESOLUTION,
                             population=_homes(tmp_path))
    moved = facilities.copy()
    moved.loc[moved["id"] == "c1", "status"] = "closed"
    again = recompute(first, moved, canteen_targets, categories=["canteen"])
    full = compute_coverage(two_streets, moved, canteen_targets, resolution=RESOLUTION,
                            population=_homes(tmp_path))
    pd.testing.assert_frame_equal(again.streets, full.streets)
    assert again.population is first.population


def test_without_any_population_shares_are_of_area(two_streets, canteen_targets):
    streets = two_streets.assign(population=np.nan)
    result = compute_coverage(streets, _at_centre_of_a(canteen_targets), canteen_targets,
                              resolution=RESOLUTION)
    assert result.basis == "area"
    assert set(result.streets["judged_on"]) == {"area"}


def test_an_empty_layer_is_zero_residents_not_area():
    layer = PopulationLayer(polygons=gpd.GeoDataFrame(
        {"residents": [], "elderly": []}, geometry=[], crs=STORAGE_CRS),
        points=pd.DataFrame({"lon": [], "lat": [], "residents": [], "elderly": []}),
        has_elderly=False, source="x", ignored={})
    assert layer.total() == 0.0
