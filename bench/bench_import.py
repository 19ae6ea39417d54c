"""Benchmark: importing 200,000 facility rows (goal ≤ 10 s and ≤ 1 GB each).

    python bench/bench_import.py [--rows 200000]

A synthetic sheet in GCJ-02 with Chinese headers (2% rows without coordinates) goes, each in
its own process so its peak memory (max RSS, from ``wait4``) is its own:

- the Data page's parse and check: the upload read through the allow-list (``read_table``)
  and every row checked (``import_facilities``), as the page does once per upload;
- ``cli.py dataset import`` as a whole process, into a fresh state folder: read, check,
  merge with the demo dataset and save a new version.

The baseline, in the first process, is reading the same CSV with pandas alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.data.coords import wgs84_to_gcj02  # noqa: E402

GOAL_S, GOAL_MB = 10.0, 1024


def synthetic_sheet(rows: int) -> pd.DataFrame:
    """Rows spread over the district, GCJ-02 coordinates, a few without coordinates."""
    rng = np.random.default_rng(7)
    lon, lat = wgs84_to_gcj02(rng.uniform(121.36, 121.44, rows), rng.uniform(31.19, 31.23, rows))
    frame = pd.DataFrame({
        "编号": [f"F{i:06d}" for i in range(rows)], "名称": [f"设施{i}" for i in range(rows)],
        "类型": rng.choice(["充电桩", "菜市场", "停车场", "长者食堂", "体育场馆"], rows),
        "容量": rng.integers(1, 500, rows).astype(str), "地址": "长宁区示意地址",
        "经度": np.round(lon, 6).astype(str), "纬度": np.round(lat, 6).astype(str)})
    bad = rng.choice(rows, rows // 50, replace=False)
    frame.loc[bad, "经度"] = ""
    return frame


def page_worker(path: str) -> None:
    """The page's work on one upload, timed: parse once, check every row."""
    from geo.data.area import placement_area
    from geo.data.importer import import_facilities
    from geo.data.io import read_demo, read_table, read_targets

    targets = read_targets()
    streets, _ = read_demo(targets)
    start = time.perf_counter()
    pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    read = read_table(path)
    parsed = time.perf_counter() - start
    report = import_facilities(read.frame, known_categories=targets.keys(), crs="gcj02",
                               category_field="类型", area=placement_area(streets, targets),
                               labels={k: targets[k].label("zh") for k in targets.keys()})
    print(json.dumps({"baseline_s": baseline, "parse_s": parsed,
                      "total_s": time.perf_counter() - start, "summary": report.summary()}))


def _measured(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Seconds, peak megabytes and stdout of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{err}")
    return elapsed, usage.ru_maxrss / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        page_worker(args.worker)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sheet.csv"
        synthetic_sheet(args.rows).to_csv(path, index=False, encoding="utf-8-sig")
        size = path.stat().st_size / 2**20
        page_s, page_mb, out = _measured([sys.executable, __file__, "--worker", str(path)])
        page = json.loads(out)
        cli_s, cli_mb, out = _measured(
            [sys.executable, str(ROOT / "cli.py"), "dataset", "import", "--facilities",
             str(path), "--crs", "gcj02", "--category-field", "类型", "--format", "json"],
            env={"CHANGNING_STATE_DIR": str(Path(folder) / "state")})
        done = json.loads(out)
    summary = page["summary"]
    print(f"{args.rows:,} rows ({size:.1f} MB CSV): {summary['accepted']:,} accepted, "
          f"{summary['rejected']:,} rejected {summary['reasons']}; version {done['version']}")
    print(f"page parse + check: {page['total_s']:.2f} s (parse {page['parse_s']:.2f} s; "
          f"pandas read alone {page['baseline_s']:.2f} s), process peak {page_mb:,.0f} MB, "
          f"whole process {page_s:.2f} s (goal ≤ {GOAL_S:.0f} s, ≤ {GOAL_MB:,} MB)")
    print(f"cli.py dataset import, whole process: {cli_s:.2f} s, peak {cli_mb:,.0f} MB "
          f"(goal ≤ {GOAL_S:.0f} s, ≤ {GOAL_MB:,} MB)")


if __name__ == "__main__":
    main()
