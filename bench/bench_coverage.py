"""Benchmark of the coverage engine: time per stage and a brute-force baseline in one process.

    python bench/bench_coverage.py [--resolutions 10 11 12] [--repeat 3]

Data: the embedded demo, and the real OSM Changning boundaries and POIs read in place from
../shared/data when present. The baseline computes every cell-to-facility distance (numpy,
chunked) instead of the KD-tree query; both must give the same covered cells.
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_scale import best_of  # noqa: E402

from geo.data.io import read_boundaries, read_demo, read_targets  # noqa: E402
from geo.engine.coverage import cell_coverage  # noqa: E402
from geo.engine.hexgrid import metric_xy, spread_population, street_cells  # noqa: E402
from geo.engine.result import active_facilities  # noqa: E402
from geo.engine.sums import street_coverage  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "osm"


def brute_force_covered(cells, facilities, targets, categories) -> int:
    """Covered (cell, category) pairs from every pairwise distance: the baseline."""
    covered = 0
    usable = active_facilities(facilities)
    cells_xy = metric_xy(cells["lon"], cells["lat"])
    for category in categories:
        points = usable[usable["category"] == category]
        fac_xy = metric_xy(points["lon"], points["lat"])
        radius = targets[category].radius_m
        for start in range(0, len(cells_xy), 20_000):
            chunk = cells_xy[start:start + 20_000]
            dist = np.sqrt(((chunk[:, None, :] - fac_xy[None, :, :]) ** 2).sum(axis=2))
            covered += int((dist.min(axis=1) <= radius).sum())
    return covered


def bench(label: str, streets, facilities, targets, resolution: int, repeat: int) -> None:
    categories = [c for c in targets.keys() if c in set(facilities["category"])]
    t_grid, cells = best_of(repeat, lambda: street_cells(streets, resolution=resolution))
    cells["population"] = spread_population(cells, streets)
    t_near, per_cell = best_of(repeat, lambda: cell_coverage(cells, facilities, targets,
                                                             categories=categories))
    t_street, _ = best_of(repeat, lambda: street_coverage(streets, cells, per_cell, facilities,
                                                          targets))
    t_brute, brute = best_of(1, lambda: brute_force_covered(cells, facilities, targets,
                                                            categories))
    engine = int(per_cell["covered"].sum())
    print(f"{label:<18} res {resolution:>2}  cells {len(cells):>8,}  facilities "
          f"{len(facilities):>5,}  grid {t_grid:7.3f} s  nearest {t_near:7.3f} s  "
          f"streets {t_street:6.3f} s  | brute force {t_brute:7.3f} s  "
          f"ratio {t_brute / t_near:6.1f}x  covered {engine:,} vs {brute:,} "
          f"({'same' if engine == brute else 'DIFFERENT'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolutions", type=int, nargs="+", default=[10, 11, 12])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    targets = read_targets()
    streets, facilities = read_demo(targets)
    datasets = [("demo", streets, facilities)]
    if (SHARED / "changning_streets.geojson").exists():
        import geopandas as gpd

        from geo.data.osm import osm_facilities
        from geo.data.schema import normalize_facilities

        real = read_boundaries(SHARED / "changning_streets.geojson")
        pois = normalize_facilities(osm_facilities(gpd.read_file(SHARED /
                                                                 "changning_pois.geojson")),
                                    known_categories=targets.keys())
        datasets.append(("osm changning", real, pois))
    else:
        print(f"skipping the real data: {SHARED} absent")
    for resolution in args.resolutions:
        for label, s, f in datasets:
            bench(label, s, f, targets, resolution, args.repeat)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS of this process): {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
