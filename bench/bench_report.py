"""Benchmark: all 10 street PDFs plus PNGs (and the district's), as `cli.py report` writes them.

    python bench/bench_report.py [--resolution 10] [--dpi 150]

Goal (issue 5): ≤ 60 s on this machine. Baseline in the same process: the maps alone (PNG
drawing), to show what the PDF assembly adds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.data.io import read_demo, read_targets  # noqa: E402
from geo.engine.coverage import compute_coverage  # noqa: E402
from layers.report import ReportInputs, write_reports  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=10)
    parser.add_argument("--dpi", type=int, default=150)
    args = parser.parse_args()
    start = time.perf_counter()
    targets = read_targets()
    streets, facilities = read_demo(targets)
    result = compute_coverage(streets, facilities, targets, resolution=args.resolution)
    inputs = ReportInputs(result=result, facilities=facilities, targets=targets)
    codes = list(streets["code"])
    prepared = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        pngs = write_reports(inputs, codes=codes, formats=["png"], out_dir=Path(folder),
                             dpi=args.dpi)
        maps_only = time.perf_counter() - start
        start = time.perf_counter()
        both = write_reports(inputs, codes=codes, formats=["pdf", "png"], out_dir=Path(folder),
                             dpi=args.dpi)
        full = time.perf_counter() - start
        sizes = sum(p.stat().st_size for p in both) / 1e6
    print(f"data and coverage (res {args.resolution}): {prepared:.1f} s")
    print(f"{len(pngs)} PNG maps alone: {maps_only:.1f} s")
    print(f"{len(both)} files, 10 street PDFs + PNGs and the district's: {full:.1f} s "
          f"(goal ≤ 60 s); PDF assembly adds {full / maps_only:.2f}x over the maps; "
          f"{sizes:.1f} MB in all")


if __name__ == "__main__":
    main()
