"""The dask engine equals the local engine exactly: on synthetic grids whose nearest facilities
lie across partition edges, beyond the halo or at the same distance, on the real 113 units,
and through the CLI (a local cluster, a running scheduler, a bad address)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.data.schema import normalize_facilities
from geo.engine.coverage import compute_coverage
from geo.engine.dask_engine import (
    choose_parent_resolution,
    compute_coverage_dask,
    dask_client,
    plan_partitions,
)
from geo.engine.hexgrid import BLOCK_LEVELS, metric_xy, street_cells, street_grid
from geo.model.config import METRIC_CRS, STORAGE_CRS
from geo.model.errors import InputError
from geo.model.targets import targets_from_mapping
from geo.plan.json_output import coverage_to_dict
from tests.conftest import ORIGIN_X, ORIGIN_Y, ROOT, facility_frame, shared_file

RESOLUTION = 10
PARENT = 7  # ~5 km² parents: the 6 km × 3 km fixture spans several partitions


@pytest.fixture(scope="module")
def client():
    with dask_client(n_workers=2, processes=False) as connected:
        yield connected


@pytest.fixture(scope="module")
def radii():
    return targets_from_mapping({
        "defaults": {"target_share": 0.9},
        "categories": {"market": {"radius_m": 300}, "parking": {"radius_m": 500},
                       "canteen": {"radius_m": 400}},
    })


@pytest.fixture(scope="module")
def streets() -> gpd.GeoDataFrame:
    """Two 3 km × 3 km streets side by side (west, east), EPSG:4326."""
    boxes = [shapely.box(ORIGIN_X, ORIGIN_Y, ORIGIN_X + 3000, ORIGIN_Y + 3000),
             shapely.box(ORIGIN_X + 3000, ORIGIN_Y, ORIGIN_X + 6000, ORIGIN_Y + 3000)]
    return gpd.GeoDataFrame({"code": ["310105900001", "310105900002"], "name": ["西", "东"],
                             "population": [30_000.0, 10_000.0]},
                            geometry=boxes, crs=METRIC_CRS).to_crs(STORAGE_CRS)


def _metres(lon: float, lat: float) -> tuple[float, float]:
    """dx/dy metres from the fixture origin of a WGS-84 point."""
    point = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=STORAGE_CRS).to_crs(METRIC_CRS)
    return float(point.x.iloc[0]) - ORIGIN_X, float(point.y.iloc[0]) - ORIGIN_Y


@pytest.fixture(scope="module")
def edge(streets):
    """A cell of the east street and its neighbour under another parent cell."""
    cells = street_cells(streets, resolution=RESOLUTION)
    east = cells[cells["code"] == "310105900002"]
    for cell in sorted(east.index):
        dx, dy = _metres(east.loc[cell, "lon"], east.loc[cell, "lat"])
        if not (3800 < dx < 5200 and 800 < dy < 2200):
            continue
        for other in sorted(h3.grid_disk(cell, 1)):
            if other in east.index and (h3.cell_to_parent(other, PARENT)
                                        != h3.cell_to_parent(cell, PARENT)):
                return cell, other
    raise AssertionError("no parent edge in the east street")


@pytest.fixture(scope="module")
def facilities(streets, edge, radii):
    """Markets scattered over the west street, some twice at one spot (ties); in the east one
    market at the centre of the edge's neighbour cell and one in the far corner; the only open
    car park 4 km south (beyond any halo); canteens all closed."""
    rng = np.random.default_rng(7)
    rows = []
    for i, (dx, dy) in enumerate(rng.uniform([0, 0], [3000, 3000], size=(40, 2))):
        rows.append({"id": f"m{i:02d}", "name": f"菜场{i}", "category": "market", "dx": dx,
                     "dy": dy})
        if i % 3 == 0:
            rows.append({"id": f"m{i:02d}-twin", "name": f"菜场{i}乙", "category": "market",
                         "dx": dx, "dy": dy})
    cells = street_cells(streets, resolution=RESOLUTION)
    dx, dy = _metres(cells.loc[edge[1], "lon"], cells.loc[edge[1], "lat"])
    rows += [
        {"id": "m-edge", "name": "边界菜场", "category": "market", "dx": dx, "dy": dy},
        {"id": "m-corner", "name": "角落菜场", "category": "market", "dx": 5950, "dy": 2950},
        {"id": "p-far", "name": "远停车场", "category": "parking", "dx": 3000, "dy": -4000},
        {"id": "p-shut", "name": "关停车场", "category": "parking", "dx": 1500, "dy": 1500,
         "status": "closed"},
        {"id": "c-shut", "name": "关食堂", "category": "canteen", "dx": 4500, "dy": 1500,
         "status": "closed"},
    ]
    frame = facility_frame(rows)
    frame["status"] = frame["status"].replace("nan", "existing")
    return normalize_facilities(frame, known_categories=radii.keys())


def assert_same(local, dask) -> None:
    """Cells, per-cell coverage, per-street numbers and the CLI's JSON are identical."""
    pd.testing.assert_frame_equal(dask.cells, local.cells, check_exact=True)
    pd.testing.assert_frame_equal(dask.cell_coverage, local.cell_coverage, check_exact=True)
    pd.testing.assert_frame_equal(dask.streets, local.streets, check_exact=True)
    assert dask.categories == local.categories
    assert coverage_to_dict(dask) == coverage_to_dict(local)


def _facility_xy(facilities) -> dict[str, np.ndarray]:
    usable = facilities[facilities["status"] != "closed"]
    return {c: metric_xy(f["lon"], f["lat"]) for c, f in usable.groupby("category")}


def test_partitions_hold_every_cell_once_and_every_facility_near_them(streets, facilities):
    grid = street_grid(streets, resolution=RESOLUTION)
    facility_xy = _facility_xy(facilities)
    plan = plan_partitions(grid, facility_xy, parent_resolution=PARENT, halo_m=500)
    assert len(plan) > 2
    assert [p.start for p in plan] == [0] + [p.stop for p in plan[:-1]]
    assert plan[-1].stop == len(grid)
    for part in plan:
        cells = grid.frame.index[part.start:part.stop]
        assert {h3.cell_to_parent(c, PARENT) for c in cells} == {h3.int_to_str(part.parent)}
        for category, xy in facility_xy.items():
            gap = np.hypot(*(grid.xy[part.start:part.stop, None, :] - xy[None, :, :]).T)
            near = np.flatnonzero(gap.min(axis=1) <= 500)
            assert set(near) <= set(part.halo[category])
    everyone = {h3.cell_to_parent(c, PARENT) for c in grid.frame.index}
    assert len(plan) == len(everyone)  # one partition a parent: its cells are one run


def test_parent_resolution_gives_at_most_the_partitions_asked(streets):
    grid = street_grid(streets, resolution=RESOLUTION)
    for wanted in (1, 3, 10, 100):
        chosen = choose_parent_resolution(grid, partitions=wanted)
        assert 0 <= chosen <= RESOLUTION - BLOCK_LEVELS
        count = len({h3.cell_to_parent(c, chosen) for c in grid.frame.index})
        assert count <= wanted or chosen == 0
        if chosen < RESOLUTION - BLOCK_LEVELS:  # the finest such resolution
            assert len({h3.cell_to_parent(c, chosen + 1) for c in grid.frame.index}) > wanted


@pytest.fixture(scope="module")
def local(streets, facilities, radii):
    return compute_coverage(streets, facilities, radii, resolution=RESOLUTION)


@pytest.mark.parametrize("parent", [PARENT, 8, 9, None])  # 9: the kernel's blocks span parents
def test_equals_the_local_engine_across_partition_edges(streets, facilities, radii, local,
                                                        client, parent):
    dask = compute_coverage_dask(streets, facilities, radii, resolution=RESOLUTION,
                                 client=client, parent_resolution=parent)
    assert_same(local, dask)


def _rows(result, category: str) -> pd.DataFrame:
    rows = result.cell_coverage
    return rows[rows["category"] == category].set_index("cell")


def test_nearest_across_a_parent_edge_is_found(streets, facilities, radii, local, client,
                                               edge):
    cell, neighbour = edge
    dask = compute_coverage_dask(streets, facilities, radii, resolution=RESOLUTION,
                                 client=client, parent_resolution=PARENT)
    markets = _rows(dask, "market")
    assert h3.cell_to_parent(cell, PARENT) != h3.cell_to_parent(neighbour, PARENT)
    assert markets.loc[cell, "nearest_id"] == markets.loc[neighbour, "nearest_id"] == "m-edge"
    assert markets.loc[cell, "covered"]
    assert markets.loc[cell, "distance_m"] == _rows(local, "market").loc[cell, "distance_m"]


def test_nearest_beyond_the_halo_is_the_exact_global_one(streets, facilities, radii, local,
                                                         client):
    dask = compute_coverage_dask(streets, facilities, radii, resolution=RESOLUTION,
                                 client=client, parent_resolution=PARENT)
    parking = _rows(dask, "parking")
    assert (parking["distance_m"] > 1000).all()  # beyond the halo of the largest radius
    assert (parking["nearest_id"] == "p-far").all() and not parking["covered"].any()
    expected = _rows(local, "parking")
    np.testing.assert_array_equal(parking["distance_m"], expected["distance_m"])
    canteens = _rows(dask, "canteen")  # every canteen is closed: none is nearest
    assert np.isinf(canteens["distance_m"]).all() and canteens["nearest_id"].isna().all()


def test_a_farther_facility_in_the_halo_does_not_hide_a_nearer_one_outside_it(streets, client):
    sports = targets_from_mapping({"categories": {"sports": {"radius_m": 200}}})
    grid = street_grid(streets, resolution=RESOLUTION)
    part = max(plan_partitions(grid, {}, parent_resolution=PARENT, halo_m=200),
               key=lambda p: p.stop - p.start)
    xy = grid.xy[part.start:part.stop]
    cell = part.start + int(np.argmax(xy[:, 0]))  # on the partition's east edge
    x, y = grid.xy[cell]
    rows = [{"id": "s-halo", "name": "圈内", "category": "sports",  # in the halo, ~2 km west
             "dx": xy[:, 0].min() - ORIGIN_X, "dy": y - ORIGIN_Y},
            {"id": "s-out", "name": "圈外", "category": "sports",  # 400 m east, past the halo
             "dx": x + 400 - ORIGIN_X, "dy": y - ORIGIN_Y}]
    facilities = normalize_facilities(facility_frame(rows), known_categories=["sports"])
    plan = plan_partitions(grid, _facility_xy(facilities), parent_resolution=PARENT,
                           halo_m=200)
    halo = next(p.halo["sports"] for p in plan if p.start == part.start)
    assert list(facilities["id"].iloc[halo]) == ["s-halo"]
    local = compute_coverage(streets, facilities, sports, resolution=RESOLUTION)
    dask = compute_coverage_dask(streets, facilities, sports, resolution=RESOLUTION,
                                 client=client, parent_resolution=PARENT)
    assert_same(local, dask)
    nearest = _rows(dask, "sports").loc[grid.frame.index[cell]]
    assert nearest["nearest_id"] == "s-out"
    assert nearest["distance_m"] == pytest.approx(400, abs=0.01)


def test_ties_go_to_the_facility_the_local_engine_chooses(streets, facilities, radii, local,
                                                          client):
    markets = _rows(local, "market")
    tied = markets[markets["nearest_id"].str.endswith("-twin")
                   | (markets["nearest_id"] + "-twin").isin(facilities["id"])]
    assert len(tied) > 50  # cells whose nearest market stands twice at one spot
    for parent in (PARENT, 8):
        dask = compute_coverage_dask(streets, facilities, radii, resolution=RESOLUTION,
                                     client=client, parent_resolution=parent)
        pd.testing.assert_series_equal(_rows(dask, "market").loc[tied.index, "nearest_id"],
                                       tied["nearest_id"])


def test_a_dask_result_recomputes_as_a_local_one(streets, facilities, radii, local, client):
    from geo.engine.coverage import recompute

    dask = compute_coverage_dask(streets, facilities, radii, resolution=RESOLUTION,
                                 client=client, parent_resolution=PARENT)
    moved = facilities.copy()
    moved.loc[moved["id"] == "m-corner", ["lon", "lat"]] = moved.loc[
        moved["id"] == "m-edge", ["lon", "lat"]].to_numpy()
    assert_same(recompute(local, moved, radii, categories=["market"]),
                recompute(dask, moved, radii, categories=["market"]))


def test_a_bad_parent_resolution_is_refused(streets, facilities, radii, client):
    with pytest.raises(InputError, match="parent resolution must be from 0 to 9, got 10"):
        compute_coverage_dask(streets, facilities, radii, resolution=RESOLUTION, client=client,
                              parent_resolution=RESOLUTION)


def test_an_unreachable_scheduler_is_one_clear_error():
    with pytest.raises(InputError, match="dask scheduler 'no-port': cannot connect"):
        with dask_client("no-port"):
            pass


@pytest.mark.realdata
def test_the_113_units_equal_the_local_engine(client):
    from geo.data.io import read_boundaries, read_targets
    from geo.data.osm import OSM_CLASS_CATEGORIES, osm_facilities

    streets = read_boundaries(shared_file("data", "osm", "shanghai_streets_113.geojson"))
    folder = shared_file("data", "osm", "shanghai_pois")
    targets = read_targets()
    parts = []
    for layer in ("pois", "pois_a", "traffic", "traffic_a"):
        pois = gpd.read_file(folder / f"gis_osm_{layer}_free_1.shp",
                             columns=["osm_id", "fclass", "name"])
        pois = pois[pois["fclass"].isin(list(OSM_CLASS_CATEGORIES))]
        parts.append(osm_facilities(pois.set_geometry(pois.representative_point())))
    pois = pd.concat(parts, ignore_index=True).drop_duplicates("id")
    facilities = normalize_facilities(gpd.GeoDataFrame(pois, crs=STORAGE_CRS),
                                      known_categories=targets.keys())
    assert len(streets) == 113 and len(facilities) > 5000
    local = compute_coverage(streets, facilities, targets, resolution=9)
    for parent in (None, 5):
        dask = compute_coverage_dask(streets, facilities, targets, resolution=9, client=client,
                                     parent_resolution=parent)
        assert_same(local, dask)


# --- the CLI -----------------------------------------------------------------------------------

def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def local_json() -> dict:
    done = _cli("coverage", "--resolution", "9", "--straight")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_cli_dask_engine_prints_the_local_json(local_json):
    done = _cli("coverage", "--resolution", "9", "--engine", "dask", "--straight")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == local_json
    assert local_json["population"]["basis"] == "residents"  # the demo's residential areas
    walking = _cli("coverage", "--resolution", "9", "--engine", "dask")
    assert walking.returncode == 2
    assert "the dask engine measures straight lines: add --straight" in walking.stderr


def test_cli_uses_the_scheduler_it_is_given(local_json):
    from distributed import Client, LocalCluster

    with (LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                       host="127.0.0.1", dashboard_address=":0") as cluster,
          Client(cluster) as watcher):
        done = _cli("coverage", "--resolution", "9", "--engine", "dask", "--straight",
                    "--scheduler", cluster.scheduler_address)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == local_json
        worked = watcher.run_on_scheduler(
            lambda dask_scheduler: len(dask_scheduler.task_prefixes))
    assert worked > 0  # the partitions ran on this cluster


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:{port}", "http://127.0.0.1:{port}"])
def test_cli_bad_scheduler_exits_2_with_one_message(address):
    address = address.format(port=_closed_port())
    done = _cli("coverage", "--resolution", "9", "--engine", "dask", "--straight",
                "--scheduler", address, env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"})
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: dask scheduler '{address}': cannot connect (")
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_cli_scheduler_needs_the_dask_engine():
    done = _cli("coverage", "--scheduler", "tcp://127.0.0.1:8786")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --scheduler needs --engine dask"
