"""Benchmark at scale: this engine against the naive notebook pipeline, on the same data.

    python bench/bench_scale.py [--repeat 3] [--edits 30] [--datasets changning shanghai113]

Datasets, read in place from ../shared/data/osm (skipped with a message when absent):

- ``changning``: the 10 Changning units and their OSM points, resolution 10;
- ``shanghai113``: the 113 central-Shanghai units at resolution 11, with the Shanghai OSM
  points and areas of ``shanghai_pois/`` mapped to categories by ``geo.data.osm`` (an area counts at
  its centroid, taken in UTM 51N).

Each measurement runs in its own process, so its peak memory (max RSS, from ``wait4``) is its own;
data loading is not timed but is in the peak. The engine process times cold runs (grid from the
boundaries, every category), warm runs (grid cached, facilities changed), building the per-cell
frame, single-facility edits through ``geo.engine.incremental.CategoryState``, and checks the engine
against exact distances: a KD-tree query with no upper bound (and, on Changning, every
cell-to-facility distance with numpy). The naive process loops over h3 per cell for the grid and the
centres, buffers each facility by the radius with geopandas and ``sjoin``s the centre points with
the buffers; its inscribed buffer polygons miss a few cells at the edge, counted here. Last,
``cli.py coverage`` runs as a whole process on the 113 units, with the facilities written to a
temporary CSV outside the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data" / "osm"
DATASETS = {
    "changning": ("changning_streets.geojson", 10),
    "shanghai113": ("shanghai_streets_113.geojson", 11),
}
SHANGHAI_POI_LAYERS = ["gis_osm_pois_free_1", "gis_osm_pois_a_free_1", "gis_osm_traffic_free_1",
                       "gis_osm_traffic_a_free_1"]


# -- data -----------------------------------------------------------------------------------

def load(name: str):
    """Streets, facilities (data model, EPSG:4326), targets and resolution of a dataset."""
    import geopandas as gpd
    import pandas as pd

    from geo.data.io import read_boundaries, read_targets
    from geo.data.osm import OSM_CLASS_CATEGORIES, osm_facilities
    from geo.data.schema import normalize_facilities
    from geo.model.config import METRIC_CRS

    targets = read_targets()
    file, resolution = DATASETS[name]
    streets = read_boundaries(SHARED / file)
    if name == "changning":
        pois = gpd.read_file(SHARED / "changning_pois.geojson")
    else:
        layers = []
        for layer in SHANGHAI_POI_LAYERS:
            frame = gpd.read_file(SHARED / "shanghai_pois" / f"{layer}.shp")
            frame = frame[frame["fclass"].isin(list(OSM_CLASS_CATEGORIES))]
            centroids = frame.geometry.to_crs(METRIC_CRS).centroid.to_crs(frame.crs)
            layers.append(frame.set_geometry(centroids))
        pois = gpd.GeoDataFrame(pd.concat(layers, ignore_index=True), crs=layers[0].crs)
    facilities = normalize_facilities(osm_facilities(pois), known_categories=targets.keys(),
                                      first_row=1, row_noun="feature")
    return streets, facilities, targets, resolution


def best_of(repeat: int, func: Callable[[], object]) -> tuple[float, object]:
    """The fastest of ``repeat`` runs in seconds, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


# -- the engine -----------------------------------------------------------------------------

def engine(name: str, repeat: int, edits: int) -> dict:
    from scipy.spatial import cKDTree

    from geo.engine import hexgrid
    from geo.engine.coverage import compute_coverage
    from geo.engine.hexgrid import metric_xy, spread_over_cells, street_grid
    from geo.engine.incremental import CategoryState, nearest_on_grid
    from geo.engine.result import active_facilities, categories_present
    from geo.engine.sums import grid_street_coverage

    streets, facilities, targets, resolution = load(name)
    categories = categories_present(facilities, targets)
    usable = active_facilities(facilities)
    by_category = {c: usable[usable["category"] == c] for c in categories}
    out: dict = {"facilities": {c: len(f) for c, f in by_category.items()}}

    def cold():
        hexgrid._GRIDS.clear()
        return compute_coverage(streets, facilities, targets, resolution=resolution)

    out["cold_s"], result = best_of(repeat, cold)
    out["cells"] = len(result.cells)
    # the stages of a cold run, one by one
    out["grid_s"], fresh = best_of(repeat, lambda: street_grid(streets, resolution=resolution,
                                                               cached=False))
    out["blocks_s"], _ = best_of(1, lambda: fresh.blocks)
    grid = street_grid(streets, resolution=resolution)
    weight = np.nan_to_num(spread_over_cells(grid.street, streets["population"].to_numpy(float)),
                           nan=1.0)
    nearest = {}
    for c in categories:  # one at a time here; a run computes them on parallel threads
        out[f"nearest_{c}_s"], nearest[c] = best_of(
            repeat, lambda c=c: nearest_on_grid(grid, by_category[c],
                                                radius_m=targets[c].radius_m, weight=weight))
    out["streets_s"], _ = best_of(repeat, lambda: grid_street_coverage(
        streets, grid, weight, nearest, facilities, targets))
    # warm: same boundaries and resolution, other facilities each time
    rng = np.random.default_rng(0)
    variants = [facilities.drop(index=rng.choice(facilities.index, 5, replace=False))
                for _ in range(repeat)]
    runs = iter(variants)
    out["warm_s"], warm = best_of(repeat, lambda: compute_coverage(
        streets, next(runs), targets, resolution=resolution))
    out["cell_frame_s"], frame = best_of(1, lambda: warm.cell_coverage)
    out["cell_frame_rows"] = len(frame)
    # exactness: covered cells and distances against an exact computation
    out["covered"], out["exact_covered"], out["distances_identical"] = {}, {}, True
    for c in categories:
        near = nearest[c]
        out["covered"][c] = int((near.distance <= near.radius_m).sum())
        facility_xy = metric_xy(by_category[c]["lon"], by_category[c]["lat"])
        exact = cKDTree(facility_xy).query(grid.xy, workers=-1)[0]
        out["exact_covered"][c] = int((exact <= near.radius_m).sum())
        out["distances_identical"] &= bool(np.array_equal(exact, near.distance))
        if name == "changning":
            brute = np.concatenate([
                np.sqrt(((chunk[:, None, :] - facility_xy[None]) ** 2).sum(axis=2)).min(axis=1)
                for chunk in np.array_split(grid.xy, max(1, len(grid.xy) // 2000))])
            out.setdefault("numpy_covered", {})[c] = int((brute <= near.radius_m).sum())
    assert result.streets["covered_cells"].sum() == sum(out["covered"].values())
    # single-facility edits
    out["prepare_s"], _ = best_of(1, lambda: (grid.tree, grid.by_street))
    out["state_s"], _ = best_of(1, lambda: CategoryState(
        grid, weight=weight, ids=by_category[categories[0]]["id"],
        lon=by_category[categories[0]]["lon"], lat=by_category[categories[0]]["lat"],
        radius_m=targets[categories[0]].radius_m))
    times: dict[str, list[float]] = {"add": [], "move": [], "close": []}

    def timed(action: str, call: Callable[[], object]) -> None:
        start = time.perf_counter()
        call()
        times[action].append(time.perf_counter() - start)

    for c in categories:
        f = by_category[c]
        state = CategoryState(grid, weight=weight, ids=f["id"], lon=f["lon"], lat=f["lat"],
                              radius_m=targets[c].radius_m)
        for i in range(edits):
            cell = rng.integers(len(grid))
            lon, lat = float(grid.lon[cell]), float(grid.lat[cell])
            moved = str(rng.choice(state.open_facilities()))
            timed("add", partial(state.add, f"bench-{i}", lon, lat))
            timed("move", partial(state.move, moved, lon + 0.003, lat))  # ~300 m east
            timed("close", partial(state.close, f"bench-{i}"))
    out["edit_ms"] = {a: {"median": 1e3 * float(np.median(t)), "max": 1e3 * float(np.max(t))}
                      for a, t in times.items()}
    return out


# -- the naive pipeline ---------------------------------------------------------------------

def naive(name: str, repeat: int) -> dict:
    import geopandas as gpd
    import h3
    import pandas as pd
    from scipy.spatial import cKDTree

    from geo.engine.result import active_facilities, categories_present
    from geo.model.config import METRIC_CRS, STORAGE_CRS

    streets, facilities, targets, resolution = load(name)
    categories = categories_present(facilities, targets)
    usable = active_facilities(facilities)
    out: dict = {}

    def grid():
        cells, codes = [], []
        for code, geometry in zip(streets["code"], streets.geometry, strict=True):
            for cell in h3.geo_to_cells(geometry.__geo_interface__, resolution):
                cells.append(cell)
                codes.append(code)
        return pd.DataFrame({"cell": cells, "code": codes}).drop_duplicates("cell")

    def centres(cells):
        lat, lon = [], []
        for cell in cells["cell"]:
            y, x = h3.cell_to_latlng(cell)
            lat.append(y)
            lon.append(x)
        return gpd.GeoDataFrame(cells, geometry=gpd.points_from_xy(lon, lat),
                                crs=STORAGE_CRS).to_crs(METRIC_CRS)

    def cover(points):
        covered = {}
        for c in categories:
            places = usable[usable["category"] == c].to_crs(METRIC_CRS)
            buffers = gpd.GeoDataFrame(geometry=places.buffer(targets[c].radius_m))
            joined = gpd.sjoin(points[["cell", "geometry"]], buffers, predicate="within")
            covered[c] = set(joined["cell"])
        return covered

    out["grid_s"], cells = best_of(repeat, grid)
    out["centres_s"], points = best_of(repeat, lambda: centres(cells))
    out["buffers_sjoin_s"], covered = best_of(repeat, lambda: cover(points))
    out["cells"] = len(cells)
    out["covered"] = {c: len(v) for c, v in covered.items()}
    # which covered cells the inscribed buffers miss, and whether they cover any extra
    xy = np.column_stack([points.geometry.x, points.geometry.y])
    out["missed"], out["extra"] = {}, {}
    for c in categories:
        places = usable[usable["category"] == c].to_crs(METRIC_CRS)
        exact = cKDTree(np.column_stack([places.geometry.x, places.geometry.y])).query(xy)[0]
        within = set(cells["cell"].to_numpy()[exact <= targets[c].radius_m])
        out["missed"][c] = len(within - covered[c])
        out["extra"][c] = len(covered[c] - within)
    return out


# -- the CLI --------------------------------------------------------------------------------

def write_facilities_csv(name: str, directory: Path) -> tuple[Path, Path]:
    """The dataset's facilities as a CSV in the data model, and its boundaries file."""
    _, facilities, _, _ = load(name)
    path = directory / f"{name}_facilities.csv"
    facilities.drop(columns="geometry").to_csv(path, index=False)
    return path, SHARED / DATASETS[name][0]


def measured(args: list[str]) -> tuple[float, float, str]:
    """Run a process: its wall time (s), its peak memory (MB) and its stdout."""
    start = time.perf_counter()
    with subprocess.Popen(args, stdout=subprocess.PIPE, cwd=ROOT, text=True) as child:
        stdout = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited with {child.returncode}")
    return elapsed, usage.ru_maxrss / 1024, stdout


def worker(kind: str, name: str, repeat: int, edits: int) -> tuple[dict, float]:
    args = [sys.executable, __file__, "--worker", kind, "--datasets", name,
            "--repeat", str(repeat), "--edits", str(edits)]
    _, peak_mb, stdout = measured(args)
    return json.loads(stdout.strip().splitlines()[-1]), peak_mb


def report(name: str, repeat: int, edits: int) -> None:
    _, resolution = DATASETS[name]
    eng, eng_mb = worker("engine", name, repeat, edits)
    nai, nai_mb = worker("naive", name, repeat, edits)
    categories = list(eng["covered"])
    naive_total = nai["grid_s"] + nai["centres_s"] + nai["buffers_sjoin_s"]
    nearest = " + ".join(f"{c} {eng[f'nearest_{c}_s']:.3f}" for c in categories)
    print(f"\n== {name}: resolution {resolution}, {eng['cells']:,} cells, facilities "
          + ", ".join(f"{c} {n:,}" for c, n in eng["facilities"].items()))
    print(f"engine  cold {eng['cold_s']:.3f} s (grid {eng['grid_s']:.3f}, blocks "
          f"{eng['blocks_s']:.3f}, nearest {nearest}, streets {eng['streets_s']:.3f}); "
          f"warm {eng['warm_s']:.3f} s; per-cell frame on first use {eng['cell_frame_s']:.3f} s "
          f"({eng['cell_frame_rows']:,} rows); peak {eng_mb:,.0f} MB")
    print(f"naive   total {naive_total:.3f} s (grid {nai['grid_s']:.3f}, centres "
          f"{nai['centres_s']:.3f}, buffers + sjoin {nai['buffers_sjoin_s']:.3f}); "
          f"peak {nai_mb:,.0f} MB")
    print(f"ratio   naive / engine cold {naive_total / eng['cold_s']:.1f}x, "
          f"naive / engine warm {naive_total / eng['warm_s']:.1f}x")
    for c in categories:
        numpy_check = (f", numpy pairwise {eng['numpy_covered'][c]:,}"
                       if "numpy_covered" in eng else "")
        print(f"covered {c:<8} engine {eng['covered'][c]:,}  exact KD-tree "
              f"{eng['exact_covered'][c]:,}{numpy_check}  naive {nai['covered'][c]:,} "
              f"(misses {nai['missed'][c]:,} edge cells = "
              f"{nai['missed'][c] / max(1, eng['covered'][c]):.3%}, extra {nai['extra'][c]})")
    print(f"exact   engine distances identical to the unbounded KD-tree: "
          f"{eng['distances_identical']}; engine covered == exact: "
          f"{eng['covered'] == eng['exact_covered']}")
    print(f"edits   one facility ({edits} per category and action): "
          + ", ".join(f"{a} median {t['median']:.2f} ms / max {t['max']:.2f} ms"
                      for a, t in eng["edit_ms"].items())
          + f"; prepared once per grid (cell KD-tree, cells by street) {eng['prepare_s']:.3f} s, "
          f"then per category {eng['state_s']:.3f} s")


def cli(name: str, repeat: int) -> None:
    _, resolution = DATASETS[name]
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as directory:
        facilities, boundaries = write_facilities_csv(name, Path(directory))
        args = [sys.executable, str(ROOT / "cli.py"), "coverage", "--boundaries",
                str(boundaries), "--facilities", str(facilities), "--resolution",
                str(resolution), "--format", "json"]
        runs = [measured(args) for _ in range(repeat)]
    best = min(runs, key=lambda run: run[0])
    streets = len(json.loads(best[2])["streets"])
    print(f"cli     {name}: python cli.py coverage … --resolution {resolution}: best of {repeat} "
          f"{best[0]:.3f} s whole process, peak {best[1]:,.0f} MB, {streets} streets")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--worker", choices=["engine", "naive"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run = engine if args.worker == "engine" else naive
        extra = {"edits": args.edits} if args.worker == "engine" else {}
        print(json.dumps(run(args.datasets[0], args.repeat, **extra)))
        return
    if not SHARED.exists():
        print(f"skipping: {SHARED} absent (the real OSM data is read in place from ../shared)")
        return
    print(f"bench_scale: {os.cpu_count()} cores; times are the best of {args.repeat}")
    for name in args.datasets:
        report(name, args.repeat, args.edits)
    if "shanghai113" in args.datasets:
        cli("shanghai113", args.repeat)


if __name__ == "__main__":
    main()
