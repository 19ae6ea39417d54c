"""Display tables built from a coverage result (pure frames; the pages only render them)."""

from __future__ import annotations

import pandas as pd

from geo.coverage import CoverageResult, district_summary

__all__ = ["COLUMN_LABELS", "NUMBER_FORMATS", "district_table", "street_table"]

#: Bilingual display headers of the table columns.
COLUMN_LABELS = {
    "code": "代码 Code",
    "street": "街道 Street",
    "category": "类别 Category",
    "residents": "常住人口 Residents",
    "cells": "网格 Cells",
    "covered_cells": "覆盖网格 Covered cells",
    "covered_residents_pct": "覆盖人口% Covered residents %",
    "target_pct": "目标% Target %",
    "facilities": "设施 Facilities",
    "capacity": "容量 Capacity",
    "meets_target": "达标 Meets target",
    "streets_below_target": "未达标街道 Streets below target",
}
#: Display formats (str.format) of the numeric columns, by display header.
NUMBER_FORMATS = {
    COLUMN_LABELS["residents"]: "{:,.0f}",
    COLUMN_LABELS["covered_residents_pct"]: "{:.1f}",
    COLUMN_LABELS["target_pct"]: "{:.0f}",
    COLUMN_LABELS["capacity"]: "{:,.0f}",
}


def street_table(result: CoverageResult, category: str) -> pd.DataFrame:
    """One row per street for ``category``: residents, cells, covered shares (percent), target
    (percent), facilities inside and whether the target is met; lowest coverage first."""
    rows = result.streets[result.streets["category"] == category]
    table = pd.DataFrame({
        "code": rows["code"],
        "street": rows["name"],
        "residents": rows["population"],
        "cells": rows["cells"],
        "covered_cells": rows["covered_cells"],
        "covered_residents_pct": (rows["covered_population_share"] * 100).round(1),
        "target_pct": (rows["target_share"] * 100).round(1),
        "facilities": rows["facilities"],
        "capacity": rows["capacity"],
        "meets_target": rows["meets_target"],
    })
    return table.sort_values(["covered_residents_pct", "code"]).reset_index(drop=True)


def district_table(result: CoverageResult, labels: dict[str, str]) -> pd.DataFrame:
    """One row per category over the district: covered residents (percent) against target
    (percent), facilities, and streets below target. ``labels`` maps category to display name."""
    summary = district_summary(result)
    return pd.DataFrame({
        "category": [labels.get(c, c) for c in summary.index],
        "covered_residents_pct": (summary["covered_population_share"] * 100).round(1).to_numpy(),
        "target_pct": (summary["target_share"] * 100).round(1).to_numpy(),
        "facilities": summary["facilities"].to_numpy(),
        "streets_below_target": summary["streets_below_target"].to_numpy(),
    })
