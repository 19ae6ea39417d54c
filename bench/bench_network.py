"""Benchmark of walking along a network: cold coverage, one edit, and the shortest-path part
against networkx's multi-source Dijkstra on the same graph, in the same process.

    python bench/bench_network.py [--spacing 150] [--facilities 2000] [--skip-large]

Data: the embedded demo (its walking network and residential areas) at resolution 10; and a
generated street grid of about a million edges over the 113 Shanghai units read in place from
../shared/data (skipped with the reason when absent), resolution 10.

Goals (issue 14): demo cold coverage ≤ 1 s, one edit ≤ 50 ms; on the large network, three
categories' coverage once the network is loaded ≤ 3 s, and the shortest-path part ≥ 10×
networkx.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_scale import best_of  # noqa: E402

from geo.data.dataset_store import embedded_demo  # noqa: E402
from geo.data.io import read_boundaries, read_targets  # noqa: E402
from geo.engine.coverage import compute_coverage  # noqa: E402
from geo.engine.hexgrid import _GRIDS, street_grid  # noqa: E402
from geo.engine.incremental import grid_snap  # noqa: E402
from geo.engine.network import build_network, snap_xy, to_metric  # noqa: E402
from geo.engine.result import active_facilities  # noqa: E402
from geo.engine.walk import node_distances, source_arcs  # noqa: E402
from geo.engine.walk_edits import WalkCategoryState  # noqa: E402
from geo.model.config import METRIC_CRS, STORAGE_CRS  # noqa: E402

SHANGHAI = ROOT.parent / "shared" / "data" / "osm" / "shanghai_streets_113.geojson"
RESOLUTION = 10


def _cold(func):
    """``func`` timed with the grid and attachment caches emptied first."""
    _GRIDS.clear()
    grid_snap.cache_clear()
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def _networkx_seconds(network, sources) -> float:
    """networkx's multi-source Dijkstra over the same arcs, from the same source arcs (one
    super source joined to each facility's edge ends), timed."""
    row, col, length = network.arcs
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(zip(row.tolist(), col.tolist(), length.tolist(),
                                      strict=True))
    _, node, walked = source_arcs(network, sources)
    graph.add_weighted_edges_from((("s", int(n), float(w)) for n, w in zip(node, walked,
                                                                            strict=True)))
    start = time.perf_counter()
    nx.single_source_dijkstra_path_length(graph, "s")
    return time.perf_counter() - start


def _scipy_seconds(network, sources, repeat: int) -> float:
    seconds, _ = best_of(repeat, lambda: node_distances(network, sources))
    return seconds


def demo(repeat: int) -> None:
    targets = read_targets()
    dataset = embedded_demo(targets)
    network = dataset.network
    run = lambda: compute_coverage(dataset.streets, dataset.facilities, targets,  # noqa: E731
                                   resolution=RESOLUTION, network=network,
                                   population=dataset.population)
    cold, result = _cold(run)
    warm, _ = best_of(repeat, run)
    print(f"demo res {RESOLUTION}: {network.n_nodes:,} nodes, {network.n_edges:,} edges, "
          f"{len(result.cells):,} cells, {len(result.categories)} categories")
    print(f"  cold coverage (grid, attachments, residents, walks): {cold:.3f} s "
          f"(goal ≤ 1 s) {'OK' if cold <= 1 else 'MISSED'}; warm {warm:.3f} s")
    grid = street_grid(dataset.streets, resolution=RESOLUTION)
    usable = active_facilities(dataset.facilities)
    markets = usable[usable["category"] == "market"]
    state = WalkCategoryState(grid, network, weight=result.population.weight(),
                              ids=markets["id"], lon=markets["lon"].to_numpy(),
                              lat=markets["lat"].to_numpy(), radius_m=targets["market"].radius_m)
    rng = np.random.default_rng(14)
    times = []
    for step in range(30):
        lon, lat = grid.lon[rng.integers(len(grid))], grid.lat[rng.integers(len(grid))]
        start = time.perf_counter()
        if step % 3 == 0:
            state.add(f"bench{step}", lon, lat)
        elif step % 3 == 1:
            state.move(f"bench{step - 1}", lon, lat)
        else:
            state.close(f"bench{step - 2}")
        times.append(time.perf_counter() - start)
    worst, median = max(times), float(np.median(times))
    print(f"  one edit (add, move, close a market; covered cells and street sums exact): "
          f"median {1000 * median:.1f} ms, worst {1000 * worst:.1f} ms (goal ≤ 50 ms) "
          f"{'OK' if worst <= 0.05 else 'MISSED'}")
    sources = snap_xy(network, to_metric(usable["lon"], usable["lat"]))
    ours, theirs = _scipy_seconds(network, sources, repeat), _networkx_seconds(network, sources)
    print(f"  shortest paths from {len(usable)} facilities: scipy {1000 * ours:.1f} ms, "
          f"networkx {1000 * theirs:.1f} ms ({theirs / ours:.1f}×)")


def large_network(spacing: float, facilities: int, repeat: int) -> None:
    if not SHANGHAI.exists():
        print(f"large network: skipped, {SHANGHAI} absent (the real data in ../shared is not "
              "on this machine)")
        return
    streets = read_boundaries(SHANGHAI)
    start = time.perf_counter()
    network = _grid_network(streets, spacing)
    built = time.perf_counter() - start
    start = time.perf_counter()
    network.segments.probes  # noqa: B018  (the network's spatial index, built once)
    indexed = time.perf_counter() - start
    rng = np.random.default_rng(113)
    frames = []
    area = shapely.union_all(streets.to_crs(METRIC_CRS).geometry.to_numpy())
    xmin, ymin, xmax, ymax = area.bounds
    for category in ("market", "canteen", "charger"):
        xy = np.column_stack([rng.uniform(xmin, xmax, 4 * facilities),
                              rng.uniform(ymin, ymax, 4 * facilities)])
        xy = xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])][:facilities]
        points = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=METRIC_CRS
                               ).to_crs(STORAGE_CRS)
        frames.append(pd.DataFrame({"id": [f"{category}{i}" for i in range(len(xy))],
                                    "name": "bench", "category": category,
                                    "lon": points.x, "lat": points.y, "status": "open",
                                    "capacity": np.nan}))
    facility_frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True),
                                      geometry=gpd.points_from_xy(
                                          pd.concat(frames)["lon"], pd.concat(frames)["lat"]),
                                      crs=STORAGE_CRS)
    targets = read_targets()
    street_grid(streets, resolution=RESOLUTION)  # the grid is not the network's part
    grid_snap.cache_clear()
    run = lambda: compute_coverage(streets, facility_frame, targets,  # noqa: E731
                                   resolution=RESOLUTION, network=network,
                                   categories=["market", "canteen", "charger"])
    start = time.perf_counter()
    result = run()
    cold = time.perf_counter() - start
    grid = street_grid(streets, resolution=RESOLUTION)
    snapped, _ = best_of(1, lambda: snap_xy(network, grid.xy))
    warm, _ = best_of(repeat, run)
    print(f"large network: {network.n_nodes:,} nodes, {network.n_edges:,} edges "
          f"(built in {built:.1f} s, indexed for attaching in {indexed:.1f} s), "
          f"{len(result.cells):,} cells at res {RESOLUTION}, "
          f"{len(facility_frame):,} facilities in 3 categories")
    print(f"  three categories' coverage once the network is loaded: {cold:.2f} s, of which "
          f"attaching the cells {snapped:.2f} s (goal ≤ 3 s) {'OK' if cold <= 3 else 'MISSED'}; "
          f"again with the cells attached {warm:.2f} s")
    usable = facility_frame[facility_frame["category"] == "market"]
    sources = snap_xy(network, to_metric(usable["lon"], usable["lat"]))
    ours, theirs = _scipy_seconds(network, sources, repeat), _networkx_seconds(network, sources)
    print(f"  shortest paths from {len(usable):,} facilities: scipy {ours:.2f} s, networkx "
          f"{theirs:.2f} s: {theirs / ours:.1f}× (goal ≥ 10×) "
          f"{'OK' if theirs / ours >= 10 else 'MISSED'}")


def _grid_network(streets: gpd.GeoDataFrame, spacing: float):
    """A jittered street grid ``spacing`` metres apart over the units (generated here)."""
    area = shapely.union_all(streets.to_crs(METRIC_CRS).geometry.to_numpy()).buffer(spacing)
    xmin, ymin, xmax, ymax = area.bounds
    xs, ys = np.arange(xmin, xmax, spacing), np.arange(ymin, ymax, spacing)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    rng = np.random.default_rng(7)
    gx = gx + rng.uniform(-spacing / 6, spacing / 6, gx.shape)
    gy = gy + rng.uniform(-spacing / 6, spacing / 6, gy.shape)
    inside = shapely.contains_xy(area, gx, gy)
    ids = np.full(gx.shape, -1)
    ids[inside] = np.arange(inside.sum())
    u = np.concatenate([ids[:-1, :].ravel(), ids[:, :-1].ravel()])
    v = np.concatenate([ids[1:, :].ravel(), ids[:, 1:].ravel()])
    keep = (u >= 0) & (v >= 0)
    nodes = pd.DataFrame({"id": np.arange(inside.sum()), "x": gx[inside], "y": gy[inside]})
    return build_network(nodes, pd.DataFrame({"u": u[keep], "v": v[keep]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spacing", type=float, default=60.0,
                        help="metres between the large grid's streets (default 60: about a "
                             "million edges over the 113 units)")
    parser.add_argument("--facilities", type=int, default=2000,
                        help="facilities per category on the large network")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    demo(args.repeat)
    if not args.skip_large:
        large_network(args.spacing, args.facilities, args.repeat)


if __name__ == "__main__":
    main()
