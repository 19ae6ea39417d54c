"""The array engine: exact nearest facility by blocks of cells, and single-facility edits that
must equal a full recompute."""

from __future__ import annotations

import dataclasses
import pickle

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.engine.coverage import cell_coverage, compute_coverage, recompute
from geo.engine.hexgrid import metric_xy, spread_population, street_cells, street_grid
from geo.engine.incremental import CategoryState, nearest_in_blocks
from geo.engine.sums import street_coverage
from geo.model.config import METRIC_CRS, STORAGE_CRS
from geo.model.errors import InputError
from tests.conftest import ORIGIN_X, ORIGIN_Y, metric_to_lonlat, shared_file


def _brute_force(xy: np.ndarray, facility_xy: np.ndarray) -> np.ndarray:
    """Every pairwise distance (metres): the nearest one per point."""
    if len(facility_xy) == 0:
        return np.full(len(xy), np.inf)
    dx = xy[:, None, 0] - facility_xy[None, :, 0]
    dy = xy[:, None, 1] - facility_xy[None, :, 1]
    return np.sqrt(dx * dx + dy * dy).min(axis=1)


@pytest.fixture(scope="module")
def squares() -> gpd.GeoDataFrame:
    """Four 1.5 km squares in a row, west to east, with 100 to 400 residents (the third
    unknown)."""
    boxes = [shapely.box(ORIGIN_X + 1500 * i, ORIGIN_Y, ORIGIN_X + 1500 * (i + 1), ORIGIN_Y + 1500)
             for i in range(4)]
    return gpd.GeoDataFrame(
        {"code": [f"3101059000{i:02d}" for i in range(4)], "name": list("ABCD"),
         "name_en": list("ABCD"), "population": [100.0, 200.0, np.nan, 400.0]},
        geometry=boxes, crs=METRIC_CRS).to_crs(STORAGE_CRS)


def _random_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return metric_to_lonlat(rng.uniform(-800, 6800, n), rng.uniform(-800, 2300, n))


@pytest.mark.parametrize("facilities", [0, 1, 3, 17, 200])
def test_blocks_give_the_exact_nearest_distance(squares, facilities):
    grid = street_grid(squares, resolution=11)
    rng = np.random.default_rng(facilities)
    facility_xy = metric_xy(*_random_points(rng, facilities)).reshape(-1, 2)
    distance, position = nearest_in_blocks(grid.xy, facility_xy, blocks=grid.blocks)
    np.testing.assert_allclose(distance, _brute_force(grid.xy, facility_xy), rtol=1e-12)
    if facilities:
        picked = facility_xy[position]
        np.testing.assert_allclose(np.hypot(*(grid.xy - picked).T), distance, rtol=1e-12)
    else:
        assert (position == -1).all()


def test_blocks_agree_with_the_kd_tree_to_the_bit(squares):
    from scipy.spatial import cKDTree

    grid = street_grid(squares, resolution=11)
    facility_xy = metric_xy(*_random_points(np.random.default_rng(5), 60))
    distance, _ = nearest_in_blocks(grid.xy, facility_xy, blocks=grid.blocks, candidates=4)
    np.testing.assert_array_equal(distance, cKDTree(facility_xy).query(grid.xy)[0])


def _old_street_cells(streets: gpd.GeoDataFrame, resolution: int) -> pd.DataFrame:
    """The per-street h3-py loop the engine replaced."""
    import h3

    ordered = streets.sort_values("code", kind="stable")
    pairs = [(cell, code) for code, geom in zip(ordered["code"], ordered.geometry, strict=True)
             for cell in h3.geo_to_cells(geom.__geo_interface__, resolution)]
    frame = pd.DataFrame(pairs, columns=["cell", "code"]).drop_duplicates("cell", keep="first")
    centres = np.array([h3.cell_to_latlng(c) for c in frame["cell"]]).reshape(-1, 2)
    frame["lon"], frame["lat"] = centres[:, 1], centres[:, 0]
    return frame.set_index("cell")


def _assert_same_grid(new: pd.DataFrame, old: pd.DataFrame) -> None:
    assert new.index.is_unique and new.index.is_monotonic_increasing
    assert set(new.index) == set(old.index)
    old = old.reindex(new.index)
    assert (new["code"] == old["code"]).all()
    np.testing.assert_allclose(new[["lon", "lat"]].to_numpy(), old[["lon", "lat"]].to_numpy(),
                               rtol=0, atol=1e-12)


def test_grid_equals_the_per_street_h3_loop_with_holes_and_shared_borders():
    square = shapely.box(ORIGIN_X, ORIGIN_Y, ORIGIN_X + 1200, ORIGIN_Y + 1200)
    hole = shapely.box(ORIGIN_X + 400, ORIGIN_Y + 400, ORIGIN_X + 800, ORIGIN_Y + 800)
    parts = shapely.MultiPolygon([
        shapely.box(ORIGIN_X + 1300, ORIGIN_Y, ORIGIN_X + 1600, ORIGIN_Y + 300),
        shapely.box(ORIGIN_X + 1300, ORIGIN_Y + 600, ORIGIN_X + 1700, ORIGIN_Y + 900)])
    streets = gpd.GeoDataFrame(
        {"code": ["3", "1", "2"], "name": list("abc"), "population": [1.0, 2.0, 3.0]},
        geometry=[square.difference(hole), parts, hole], crs=METRIC_CRS).to_crs(STORAGE_CRS)
    for resolution in (10, 11, 12):
        _assert_same_grid(street_cells(streets, resolution=resolution),
                          _old_street_cells(streets, resolution))


@pytest.mark.realdata
def test_grid_equals_the_per_street_h3_loop_on_the_real_boundaries():
    from geo.data.io import read_boundaries

    streets = read_boundaries(shared_file("data", "osm", "changning_streets.geojson"))
    for resolution in (10, 11):
        _assert_same_grid(street_grid(streets, resolution=resolution, cached=False).frame,
                          _old_street_cells(streets, resolution))


def test_the_grid_is_cached_per_boundaries_and_resolution(squares):
    first = street_grid(squares, resolution=10)
    assert street_grid(squares.copy(), resolution=10) is first
    assert street_grid(squares, resolution=11) is not first
    moved = squares.copy()
    moved.loc[0, "geometry"] = shapely.affinity.translate(moved.geometry[0], 1e-6)
    assert street_grid(moved, resolution=10) is not first
    renamed = squares.assign(code=squares["code"].str.replace("31", "32"))
    assert street_grid(renamed, resolution=10) is not first
    cells = street_cells(squares, resolution=10)
    cells["population"] = 1.0
    cells.loc[cells.index[0], "lon"] = 0.0
    assert "population" not in first.frame and first.frame["lon"].iloc[0] != 0.0
    with pytest.raises(ValueError, match="read-only"):
        first.xy[0, 0] = 0.0


def test_the_grid_cache_keeps_the_newest_grids_within_its_bounds(squares, monkeypatch):
    from geo.engine import hexgrid

    cache = hexgrid._GridCache(size=2, cells=len(street_grid(squares, resolution=11)) + 1)
    monkeypatch.setattr(hexgrid, "_GRIDS", cache)
    fine = street_grid(squares, resolution=11)
    coarse = street_grid(squares, resolution=10)
    assert [len(g) for g in cache.grids.values()] == [len(coarse)]  # over the cells: one left
    assert street_grid(squares, resolution=10) is coarse
    street_grid(squares, resolution=9)
    assert len(cache.grids) == 2 and street_grid(squares, resolution=11) is not fine


def _facilities(rng: np.random.Generator, counts: dict[str, int]) -> gpd.GeoDataFrame:
    rows = []
    for category, count in counts.items():
        lon, lat = _random_points(rng, count)
        rows += [{"id": f"{category[0]}{i}", "name": f"{category} {i}", "category": category,
                  "subtype": "", "capacity": float(i % 3), "address": "", "lon": x, "lat": y,
                  "crs": "wgs84", "status": "closed" if i % 7 == 6 else "existing",
                  "source": "test"} for i, (x, y) in enumerate(zip(lon, lat, strict=True))]
    frame = pd.DataFrame(rows)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                            crs=STORAGE_CRS)


def test_engine_equals_the_frame_functions(squares, targets):
    facilities = _facilities(np.random.default_rng(1), {"market": 9, "parking": 4})
    result = compute_coverage(squares, facilities, targets, resolution=11)
    cells = street_cells(squares, resolution=11)
    cells["population"] = spread_population(cells, squares)
    per_cell = cell_coverage(cells, facilities, targets, categories=["market", "parking"])
    pd.testing.assert_frame_equal(result.cells, cells)
    engine = result.cell_coverage
    assert engine["cell"].tolist() == per_cell["cell"].tolist()
    for column in ["distance_m", "radius_m", "covered"]:
        np.testing.assert_array_equal(engine[column].to_numpy(), per_cell[column].to_numpy())
    assert engine["nearest_id"].tolist() == per_cell["nearest_id"].tolist()
    pd.testing.assert_frame_equal(
        result.streets, street_coverage(squares, cells, per_cell, facilities, targets))


def test_coverage_from_nearest_computed_elsewhere_equals_a_run(squares, targets):
    from scipy.spatial import cKDTree

    from geo.engine.coverage import coverage_from_nearest
    from geo.engine.result import active_facilities

    facilities = _facilities(np.random.default_rng(6), {"parking": 5, "market": 8})
    grid = street_grid(squares, resolution=10)
    usable = active_facilities(facilities)
    nearest = {}
    for category in ["market", "parking"]:
        rows = usable[usable["category"] == category]
        nearest[category] = cKDTree(metric_xy(rows["lon"], rows["lat"])).query(grid.xy)
    result = coverage_from_nearest(squares, facilities, targets, grid=grid, nearest=nearest)
    run = compute_coverage(squares, facilities, targets, resolution=10)
    pd.testing.assert_frame_equal(result.streets, run.streets)
    pd.testing.assert_frame_equal(result.cell_coverage, run.cell_coverage)


def test_recompute_on_the_grid_equals_a_fresh_run(squares, targets):
    rng = np.random.default_rng(2)
    before = _facilities(rng, {"market": 9, "parking": 4})
    after = pd.concat([before[before["category"] == "market"],
                       _facilities(rng, {"parking": 6})], ignore_index=True)
    baseline = compute_coverage(squares, before, targets, resolution=11)
    again = recompute(baseline, after, targets, categories=["parking"])
    fresh = compute_coverage(squares, after, targets, resolution=11)
    pd.testing.assert_frame_equal(again.streets, fresh.streets)
    pd.testing.assert_frame_equal(again.cell_coverage, fresh.cell_coverage)


@pytest.mark.parametrize("how", ["own arrays", "unpickled", "other cells"])
def test_recompute_after_pickling_or_replacing_the_cells(squares, targets, how):
    rng = np.random.default_rng(4)
    targets = targets.with_radii({"canteen": 400.0})
    before = _facilities(rng, {"market": 9, "parking": 4})
    after = pd.concat([before[before["category"] == "parking"],
                       _facilities(rng, {"market": 6, "canteen": 3})], ignore_index=True)
    baseline = compute_coverage(squares, before, targets, resolution=11)
    if how == "unpickled":
        baseline = pickle.loads(pickle.dumps(baseline))
        assert "_engine" not in baseline.__dict__
    elif how == "other cells":
        baseline = dataclasses.replace(baseline, cells=baseline.cells.iloc[::-1])
    again = recompute(baseline, after, targets, categories=["market", "canteen"])
    fresh = compute_coverage(squares, after, targets, resolution=11,
                             categories=["market", "parking", "canteen"])
    assert again.categories == ("market", "parking", "canteen")
    assert ("_engine" in again.__dict__) == (how != "other cells")
    pd.testing.assert_frame_equal(again.streets, fresh.streets)
    ordered = again.cell_coverage.sort_values(["category", "cell"], ignore_index=True)
    pd.testing.assert_frame_equal(
        ordered, fresh.cell_coverage.sort_values(["category", "cell"], ignore_index=True))


def test_a_result_pickles_and_replaces_with_its_cells_computed(squares, targets):
    result = compute_coverage(squares, _facilities(np.random.default_rng(3), {"market": 5}),
                              targets, resolution=10)
    copy = pickle.loads(pickle.dumps(result))
    pd.testing.assert_frame_equal(copy.cell_coverage, result.cell_coverage)
    replaced = dataclasses.replace(result, streets=result.streets.head(1))
    pd.testing.assert_frame_equal(replaced.cell_coverage, result.cell_coverage)
    assert len(replaced.streets) == 1


def _full(grid, weight, ids, xy_lonlat, radius) -> CategoryState:
    lon, lat = xy_lonlat
    return CategoryState(grid, weight=weight, ids=ids, lon=lon, lat=lat, radius_m=radius)


def _assert_state_equals_full(state: CategoryState, lonlat: dict[str, tuple[float, float]]):
    ids = list(lonlat)
    lon = np.array([lonlat[i][0] for i in ids])
    lat = np.array([lonlat[i][1] for i in ids])
    full = _full(state.grid, state.weight, ids, (lon, lat), state.radius_m)
    pd.testing.assert_frame_equal(state.street_numbers(), full.street_numbers())
    np.testing.assert_array_equal(state.covered, full.covered)
    distance, position = state.nearest()
    np.testing.assert_array_equal(distance, full.nearest()[0])
    named = np.array(state.ids, dtype=object)[position] if len(ids) else []
    assert np.array_equal(named, np.array(ids, dtype=object)[full.position]) or len(ids) == 0


def _random_edits(state: CategoryState, lonlat: dict, rng: np.random.Generator,
                  random_point, count: int) -> None:
    for step in range(count):
        action = rng.choice(["add", "move", "close"]) if lonlat else "add"
        if action == "add":
            point = random_point()
            state.add(f"new{step}", *point)
            lonlat[f"new{step}"] = point
        elif action == "move":
            fid = rng.choice(sorted(lonlat))
            point = random_point()
            state.move(fid, *point)
            lonlat[fid] = point
        else:
            fid = rng.choice(sorted(lonlat))
            state.close(fid)
            del lonlat[fid]
        if step % 5 == 4:
            _assert_state_equals_full(state, lonlat)
    _assert_state_equals_full(state, lonlat)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_single_edits_equal_a_full_recompute(squares, seed):
    rng = np.random.default_rng(seed)
    grid = street_grid(squares, resolution=11)
    weight = spread_population(grid.frame, squares).fillna(1.0).to_numpy()
    lon, lat = _random_points(rng, 6)
    lonlat = {f"f{i}": (lon[i], lat[i]) for i in range(6)}
    state = _full(grid, weight, list(lonlat), (lon, lat), 400.0)

    def random_point() -> tuple[float, float]:
        x, y = _random_points(rng, 1)
        return float(x[0]), float(y[0])

    _random_edits(state, lonlat, rng, random_point, 30)


def test_closing_the_last_facility_leaves_nothing_covered(squares):
    grid = street_grid(squares, resolution=10)
    lon, lat = metric_to_lonlat(np.array([750.0]), np.array([750.0]))
    state = _full(grid, np.ones(len(grid)), ["only"], (lon, lat), 500.0)
    assert state.street_numbers()["covered_cells"].iloc[0] > 0
    numbers = state.close("only")
    assert (numbers["covered_cells"] == 0).all()
    assert np.isinf(state.nearest()[0]).all() and (state.nearest()[1] == -1).all()
    state.add("again", float(lon[0]), float(lat[0]))
    assert state.street_numbers()["covered_cells"].iloc[0] > 0


def test_edits_name_unknown_and_duplicate_facilities(squares):
    grid = street_grid(squares, resolution=10)
    lon, lat = metric_to_lonlat(np.array([750.0]), np.array([750.0]))
    state = _full(grid, np.ones(len(grid)), ["a"], (lon, lat), 500.0)
    with pytest.raises(InputError, match="facility 'a' already exists"):
        state.add("a", float(lon[0]), float(lat[0]))
    with pytest.raises(InputError, match="no open facility 'b'"):
        state.move("b", float(lon[0]), float(lat[0]))
    state.close("a")
    with pytest.raises(InputError, match="no open facility 'a'"):
        state.close("a")
    with pytest.raises(InputError, match="facility ids must be unique"):
        _full(grid, np.ones(len(grid)), ["a", "a"], (np.r_[lon, lon], np.r_[lat, lat]), 5.0)
    with pytest.raises(InputError, match="weight has 1 values"):
        _full(grid, np.ones(1), ["a"], (lon, lat), 5.0)


@pytest.mark.realdata
def test_single_edits_equal_a_full_recompute_on_the_real_data(targets):
    from geo.data.io import read_boundaries, read_targets
    from geo.data.osm import osm_facilities
    from geo.data.schema import normalize_facilities

    known = read_targets()
    streets = read_boundaries(shared_file("data", "osm", "changning_streets.geojson"))
    pois = gpd.read_file(shared_file("data", "osm", "changning_pois.geojson"))
    facilities = normalize_facilities(osm_facilities(pois), known_categories=known.keys(),
                                      first_row=1, row_noun="feature")
    markets = facilities[facilities["category"] == "market"]
    grid = street_grid(streets, resolution=11)
    weight = np.ones(len(grid))
    lonlat = dict(zip(markets["id"], zip(markets["lon"], markets["lat"], strict=True),
                      strict=True))
    state = _full(grid, weight, list(lonlat), (markets["lon"], markets["lat"]),
                  known["market"].radius_m)
    result = compute_coverage(streets, facilities, known, resolution=11, categories=["market"])
    np.testing.assert_array_equal(state.street_numbers()["covered_cells"],
                                  result.streets["covered_cells"])
    rng = np.random.default_rng(7)
    west, south, east, north = streets.total_bounds

    def random_point() -> tuple[float, float]:
        return float(rng.uniform(west, east)), float(rng.uniform(south, north))

    _random_edits(state, lonlat, rng, random_point, 20)
