"""Display tables built from a coverage result (pure frames; the pages only render them)."""

from __future__ import annotations

import pandas as pd

from geo.coverage import CoverageResult, district_summary

__all__ = ["district_table", "street_table"]


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
