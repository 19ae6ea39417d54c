"""Edits of one facility along a walking network equal a full recomputation, and touch only
what the edited point reaches within the radius."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.engine.hexgrid import spread_population, street_grid
from geo.engine.incremental import CategoryState
from geo.engine.network import build_network
from geo.engine.walk_edits import WalkCategoryState, category_state
from geo.model.config import METRIC_CRS, STORAGE_CRS
from tests.conftest import ORIGIN_X, ORIGIN_Y, metric_to_lonlat

RADIUS = 400.0


@pytest.fixture(scope="module")
def streets() -> gpd.GeoDataFrame:
    """Two 1.2 km squares side by side, 300 and 500 residents."""
    boxes = [shapely.box(ORIGIN_X + 1200 * i, ORIGIN_Y, ORIGIN_X + 1200 * (i + 1),
                         ORIGIN_Y + 1200) for i in range(2)]
    return gpd.GeoDataFrame({"code": ["310105900001", "310105900002"], "name": ["A", "B"],
                             "name_en": ["A", "B"], "population": [300.0, 500.0]},
                            geometry=boxes, crs=METRIC_CRS).to_crs(STORAGE_CRS)


def _network(seed: int):
    """A jittered street grid about 150 m apart over both squares, a fifth of its streets
    missing, and a river between x = 1100 and 1300 m that only two streets cross."""
    rng = np.random.default_rng(seed)
    nodes = {(i, j): (ORIGIN_X + i * 150 + rng.uniform(-20, 20),
                      ORIGIN_Y + j * 150 + rng.uniform(-20, 20))
             for i in range(17) for j in range(9)}
    edges = []
    for (i, j), _ in nodes.items():
        for other in ((i + 1, j), (i, j + 1)):
            if other not in nodes or rng.random() < 0.2:
                continue
            crossing = i == 7 and other == (8, j)
            if crossing and j not in (2, 6):
                continue
            edges.append(((i, j), other))
    ids = list(nodes)
    index = {k: n for n, k in enumerate(ids)}
    return build_network(
        pd.DataFrame({"id": range(len(ids)), "x": [nodes[k][0] for k in ids],
                      "y": [nodes[k][1] for k in ids]}),
        pd.DataFrame({"u": [index[u] for u, _ in edges], "v": [index[v] for _, v in edges]}),
        max_snap_m=120.0)


def _point(rng) -> tuple[float, float]:
    lon, lat = metric_to_lonlat(rng.uniform(-300, 2700), rng.uniform(-300, 1500))
    return float(lon), float(lat)


def _fresh(state: WalkCategoryState, lonlat: dict) -> WalkCategoryState:
    ids = list(lonlat)
    return WalkCategoryState(state.grid, state.network, weight=state.weight, ids=ids,
                             lon=np.array([lonlat[i][0] for i in ids]),
                             lat=np.array([lonlat[i][1] for i in ids]), radius_m=state.radius_m)


def _assert_equal(state: WalkCategoryState, lonlat: dict) -> None:
    full = _fresh(state, lonlat)
    np.testing.assert_array_equal(state.covered, full.covered)
    pd.testing.assert_frame_equal(state.street_numbers(), full.street_numbers())
    distance, position = state.nearest()
    expected, where = full.nearest()
    np.testing.assert_allclose(distance, expected, rtol=0, atol=1e-9)
    named = np.array([*state.ids, None], dtype=object)[position]
    assert named.tolist() == np.array([*full.ids, None], dtype=object)[where].tolist()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_edits_equal_a_full_recompute(streets, seed):
    rng = np.random.default_rng(seed)
    grid = street_grid(streets, resolution=11)
    weight = spread_population(grid.frame, streets).to_numpy()
    lonlat = {f"f{i}": _point(rng) for i in range(5)}
    network = _network(seed)
    ids = list(lonlat)
    state = WalkCategoryState(grid, network, weight=weight, ids=ids,
                              lon=np.array([lonlat[i][0] for i in ids]),
                              lat=np.array([lonlat[i][1] for i in ids]), radius_m=RADIUS)
    assert 0 < state.covered.mean() < 1
    for step in range(24):
        action = rng.choice(["add", "move", "close"]) if lonlat else "add"
        if action == "add":
            lonlat[f"n{step}"] = _point(rng)
            state.add(f"n{step}", *lonlat[f"n{step}"])
        elif action == "move":
            fid = str(rng.choice(sorted(lonlat)))
            lonlat[fid] = _point(rng)
            state.move(fid, *lonlat[fid])
            lonlat[fid] = lonlat.pop(fid)  # a moved facility is listed last, as its slot is
        else:
            fid = str(rng.choice(sorted(lonlat)))
            state.close(fid)
            del lonlat[fid]
        # covered cells and sums are exact after every edit, before nearest() catches up
        full = _fresh(state, lonlat)
        np.testing.assert_array_equal(state.covered, full.covered)
        pd.testing.assert_frame_equal(state.street_numbers(), full.street_numbers())
        if step % 6 == 5:
            _assert_equal(state, lonlat)
    _assert_equal(state, lonlat)


def test_an_edit_walks_only_near_the_edited_point(streets):
    grid = street_grid(streets, resolution=11)
    weight = spread_population(grid.frame, streets).to_numpy()
    lon, lat = metric_to_lonlat(np.array([100.0, 2300.0]), np.array([100.0, 1100.0]))
    state = WalkCategoryState(grid, _network(0), weight=weight, ids=["w", "e"], lon=lon,
                              lat=lat, radius_m=RADIUS)
    before, covered_before = state.distance.copy(), state.covered.copy()
    state.add("mid", *metric_to_lonlat(600.0, 600.0))
    changed = np.flatnonzero(state.distance != before)
    newly = np.flatnonzero(state.covered & ~covered_before)
    assert len(newly) > 0 and set(newly) <= set(changed)
    point = np.array([ORIGIN_X + 600, ORIGIN_Y + 600])
    crow = np.hypot(*(grid.xy - point).T)
    # a walk is never shorter than the straight line: the newly covered are within the radius,
    # and no cell changed beyond what a walk of the radius, one edge and a snap can touch
    assert (crow[newly] <= RADIUS + 1e-6).all()
    reach = RADIUS + state.network.edge_length.max() + state.network.max_snap_m
    assert (crow[changed] <= reach).all()
    assert len(changed) < len(grid) / 4


def test_the_factory_picks_straight_lines_without_a_network(streets):
    grid = street_grid(streets, resolution=10)
    weight = np.ones(len(grid))
    lon, lat = metric_to_lonlat(np.array([600.0]), np.array([600.0]))
    straight = category_state(grid, weight=weight, ids=["a"], lon=lon, lat=lat, radius_m=300,
                              detour=1.25)
    assert type(straight) is CategoryState
    plain = CategoryState(grid, weight=weight, ids=["a"], lon=lon, lat=lat, radius_m=300)
    np.testing.assert_allclose(straight.distance, plain.distance * 1.25)
    assert straight.covered.sum() < plain.covered.sum()
    straight.add("b", *metric_to_lonlat(1800.0, 600.0))
    plain.add("b", *metric_to_lonlat(1800.0, 600.0))
    np.testing.assert_allclose(straight.nearest()[0], plain.nearest()[0] * 1.25)
    assert isinstance(category_state(grid, weight=weight, ids=["a"], lon=lon, lat=lat,
                                     radius_m=300, network=_network(0)), WalkCategoryState)
