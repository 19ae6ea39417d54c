"""Benchmark: one scenario edit → updated per-street numbers, against a full recomputation.

    python bench/bench_scenario.py [--resolution 10] [--repeat 20]

Demo data (Changning). For each category, one edit (a planned facility added in the district's
south-west) is applied and only that category is recomputed (goal: ≤ 50 ms at resolution 10);
the baseline is computing every category from scratch with the same edit, in the same process.
Both must give the same per-street numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.data.area import placement_area  # noqa: E402
from geo.data.io import read_demo, read_targets  # noqa: E402
from geo.engine.coverage import compute_coverage  # noqa: E402
from geo.plan.scenario import Edit, Scenario, apply_scenario, evaluate  # noqa: E402


def timed(func, repeat: int) -> tuple[float, object]:
    """Median seconds over ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    targets = read_targets()
    streets, facilities = read_demo(targets)
    baseline = compute_coverage(streets, facilities, targets, resolution=args.resolution)
    area = placement_area(streets, targets)
    print(f"Changning demo, resolution {args.resolution}: {len(baseline.cells):,} cells, "
          f"{len(facilities)} facilities")
    for category in baseline.categories:
        scenario = Scenario("bench").with_edit(Edit(
            "add", facility_id="BENCH-1", category=category, name="bench",
            lon=121.372, lat=31.199))
        quick, (result, _, _) = timed(lambda s=scenario: evaluate(
            s, baseline=baseline, facilities=facilities, targets=targets, area=area),
            args.repeat)

        def full(s: Scenario = scenario) -> object:
            after, new_targets = apply_scenario(s, facilities=facilities, targets=targets,
                                                area=area)
            return compute_coverage(streets, after, new_targets, resolution=args.resolution)

        slow, reference = timed(full, max(3, args.repeat // 4))
        pd.testing.assert_frame_equal(result.streets, reference.streets)
        untouched = result.cell_coverage["category"] != category
        same = result.cell_coverage[untouched].reset_index(drop=True).equals(
            baseline.cell_coverage[baseline.cell_coverage["category"] != category]
            .reset_index(drop=True))
        print(f"{category:<8} one edit {1000 * quick:6.1f} ms (goal ≤ 50 ms) | full "
              f"recomputation {1000 * slow:6.1f} ms | ratio {slow / quick:4.1f}x | same "
              f"per-street numbers | other categories reused as they were: {same}")


if __name__ == "__main__":
    main()
