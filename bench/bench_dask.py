"""Benchmark of the dask engine against the local one, on the same data in one process.

    python bench/bench_dask.py [--datasets shanghai113 changning] [--resolutions 10 11]
                               [--repeat 3] [--workers 2] [--processes] [--scheduler ADDRESS]

Data as in ``bench/bench_scale.py`` (read in place from ../shared/data/osm; skipped with a
message when absent). The grid is built once and cached first, so both engines are timed warm:
the nearest-facility search and the per-street numbers. The cluster (a LocalCluster of
``--workers`` one-thread workers, threads unless ``--processes``, or ``--scheduler``) is
started once and timed on its own. Every dask result is checked equal to the local one.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scale import DATASETS, SHARED, best_of, load  # noqa: E402

from geo.engine.coverage import compute_coverage  # noqa: E402
from geo.engine.dask_engine import compute_coverage_dask, dask_client  # noqa: E402
from geo.engine.hexgrid import street_grid  # noqa: E402


def same(local, dask) -> bool:
    """Whether the two results are identical: cells, per-cell frame, per-street numbers."""
    try:
        pd.testing.assert_frame_equal(dask.cells, local.cells, check_exact=True)
        pd.testing.assert_frame_equal(dask.cell_coverage, local.cell_coverage, check_exact=True)
        pd.testing.assert_frame_equal(dask.streets, local.streets, check_exact=True)
    except AssertionError:
        return False
    return True


def bench(name: str, streets, facilities, targets, *, resolution: int, repeat: int,
          client) -> None:
    """Time both engines on one dataset and resolution; print one line."""
    t_grid, grid = best_of(1, partial(street_grid, streets, resolution=resolution))
    t_local, local = best_of(repeat, partial(compute_coverage, streets, facilities, targets,
                                             resolution=resolution))
    t_dask, dask = best_of(repeat, partial(compute_coverage_dask, streets, facilities, targets,
                                           resolution=resolution, client=client))
    print(f"{name:<12} res {resolution:>2}  cells {len(grid):>9,}  facilities "
          f"{len(facilities):>5,}  grid {t_grid:6.2f} s  | local {t_local:6.2f} s  "
          f"dask {t_dask:6.2f} s  ratio {t_dask / t_local:5.1f}x  "
          f"{'identical' if same(local, dask) else 'DIFFERENT'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["shanghai113"], choices=list(DATASETS))
    parser.add_argument("--resolutions", type=int, nargs="+", default=[10, 11])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--processes", action="store_true", help="worker processes, not threads")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="a running scheduler instead")
    args = parser.parse_args()
    if not SHARED.exists():
        print(f"skipping: {SHARED} absent")
        return
    start = time.perf_counter()
    with dask_client(args.scheduler, n_workers=args.workers, processes=args.processes) as client:
        kind = args.scheduler or (f"LocalCluster {args.workers} workers, "
                                  f"{'processes' if args.processes else 'threads'}")
        print(f"cluster ({kind}) up in {time.perf_counter() - start:.2f} s")
        for name in args.datasets:
            streets, facilities, targets, _ = load(name)
            for resolution in args.resolutions:
                bench(name, streets, facilities, targets, resolution=resolution,
                      repeat=args.repeat, client=client)

if __name__ == "__main__":
    main()
