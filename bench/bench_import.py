"""Benchmark: importing 10,000 facility rows with coordinates (goal ≤ 5 s).

    python bench/bench_import.py [--rows 10000]

A synthetic sheet in GCJ-02 with Chinese headers (2% bad rows) is imported in-process and by the
CLI as a whole process; the baseline, in the same process, is reading the same CSV with pandas.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.data.area import placement_area  # noqa: E402
from geo.data.coords import wgs84_to_gcj02  # noqa: E402
from geo.data.importer import import_facilities  # noqa: E402
from geo.data.io import read_demo, read_table, read_targets  # noqa: E402


def synthetic_sheet(rows: int) -> pd.DataFrame:
    """Rows spread over the district, GCJ-02 coordinates, a few bad ones."""
    rng = np.random.default_rng(7)
    lon, lat = wgs84_to_gcj02(rng.uniform(121.36, 121.44, rows), rng.uniform(31.19, 31.23, rows))
    frame = pd.DataFrame({
        "编号": [f"F{i:05d}" for i in range(rows)], "名称": [f"设施{i}" for i in range(rows)],
        "类型": rng.choice(["充电桩", "菜市场", "停车场", "长者食堂", "体育场馆"], rows),
        "容量": rng.integers(1, 500, rows).astype(str), "地址": "长宁区示意地址",
        "经度": np.round(lon, 6).astype(str), "纬度": np.round(lat, 6).astype(str)})
    bad = rng.choice(rows, rows // 50, replace=False)
    frame.loc[bad, "经度"] = ""
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    targets = read_targets()
    streets, _ = read_demo(targets)
    area = placement_area(streets, targets)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sheet.csv"
        synthetic_sheet(args.rows).to_csv(path, index=False, encoding="utf-8-sig")
        start = time.perf_counter()
        pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        report = import_facilities(read_table(path).frame, known_categories=targets.keys(),
                                   crs="gcj02", category_field="类型", area=area)
        in_process = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "cli.py"), "import", "--facilities",
                        str(path), "--crs", "gcj02", "--category-field", "类型", "--out",
                        str(Path(folder) / "out")], check=True, capture_output=True)
        whole = time.perf_counter() - start
    summary = report.summary()
    print(f"{args.rows:,} rows: {summary['accepted']:,} accepted, {summary['rejected']:,} "
          f"rejected {summary['reasons']}")
    print(f"in process {in_process:.2f} s; the CLI as a whole process {whole:.2f} s "
          f"(goal ≤ 5 s); reading the CSV alone {baseline:.3f} s "
          f"(import / read ratio {in_process / baseline:.0f}x)")


if __name__ == "__main__":
    main()
