"""Author the embedded demo dataset: approximate street outlines, made-up facilities,
residential areas and a walking network.

Everything here is drawn by hand from general knowledge of Changning District, Shanghai; no
outside data is read. The district outline is a rough polygon, scaled to the district's area;
the ten streets (街道/镇) are the Voronoi cells of one hand-placed seed point each, clipped to
it. Facilities are random points (fixed seeds) inside the streets, in numbers that match the
district's 2023 figures, with demo names and addresses.

Run from the repository root::

    python scripts/make_demo_data.py

The output is deterministic: running twice writes byte-identical files.

The streets are drawn in :mod:`demo_streets`, the facilities in :mod:`demo_facilities`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from demo_facilities import (  # noqa: E402
    CATEGORIES,
    build_rows,
    check_counts,
    check_points,
    write_facilities,
)
from demo_living import (  # noqa: E402
    build_areas,
    check_areas,
    write_areas,
    write_network,
)
from demo_living import build_network as build_walks  # noqa: E402
from demo_streets import (  # noqa: E402
    STREETS,
    build_streets,
    check_tiling,
    to_metric,
    write_boundaries,
)

from geo.model.config import (  # noqa: E402
    DATA_DIR,
    DEMO_BOUNDARIES,
    DEMO_FACILITY_FILES,
    DEMO_NETWORK,
    DEMO_POPULATION,
)

# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    """Build, check and write the streets and the five facility files under ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR,
                        help="data directory to write into (default: the app's data/)")
    out = parser.parse_args(argv).out
    polygons, outline = build_streets()
    stats = check_tiling(polygons, outline)
    boundaries = out / DEMO_BOUNDARIES.relative_to(DATA_DIR)
    write_boundaries(boundaries, polygons)
    print(f"{boundaries}: {len(polygons)} streets, "
          f"{stats['total_m2'] / 1e6:.3f} km², "
          f"population {sum(s.population for s in STREETS)}, "
          f"worst overlap {stats['worst_overlap_m2']:.6f} m²")

    by_code = {s.code: p for s, p in zip(STREETS, polygons, strict=True)}
    by_code_m = {code: to_metric(p) for code, p in by_code.items()}
    for category in CATEGORIES:
        rows = build_rows(category, by_code_m)
        check_counts(category, rows)
        check_points(rows, by_code, by_code_m)
        path = out / DEMO_FACILITY_FILES[category.key].relative_to(DATA_DIR)
        write_facilities(path, category, rows)
        counts = {g.subtype: sum(r.subtype == g.subtype for r in rows) for g in category.groups}
        print(f"{path}: {len(rows)} rows {counts}, capacity {sum(r.capacity for r in rows)}")
    write_living(out, polygons)


def write_living(out: Path, polygons: list) -> None:
    """The walking network and the residential areas."""
    import shapely

    outline_m = to_metric(shapely.union_all(polygons))
    network, grid = build_walks(outline_m)
    path = out / DEMO_NETWORK.relative_to(DATA_DIR)
    write_network(path, network)
    print(f"{path}: {len(network)} walking streets, "
          f"{sum(line.length for line in network) / 1000:.1f} km")
    areas = build_areas(polygons, grid)
    check_areas(areas)
    path = out / DEMO_POPULATION.relative_to(DATA_DIR)
    write_areas(path, areas)
    print(f"{path}: {len(areas)} residential areas, "
          f"{sum(a['population'] for a in areas)} residents, "
          f"{sum(a['elderly'] for a in areas)} aged 60+")


if __name__ == "__main__":
    main()
