"""Display tables built from a coverage result (pure frames; the pages only render them)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.config import METRIC_CRS
from geo.coverage import CoverageResult, district_summary
from geo.targets import Targets

__all__ = [
    "COLUMN_LABELS",
    "NUMBER_FORMATS",
    "district_table",
    "facility_counts",
    "street_table",
    "streets_table",
    "targets_table",
]

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
    "name_en": "英文名 English name",
    "area_km2": "面积 km² Area",
    "subtype": "子类 Subtype",
    "status": "状态 Status",
    "radius_m": "服务半径 m Radius",
    "radius_source": "半径依据 Radius source",
    "target_source": "目标依据 Target source",
}
#: Display formats (str.format) of the numeric columns, by display header.
NUMBER_FORMATS = {
    COLUMN_LABELS["residents"]: "{:,.0f}",
    COLUMN_LABELS["covered_residents_pct"]: "{:.1f}",
    COLUMN_LABELS["target_pct"]: "{:.0f}",
    COLUMN_LABELS["capacity"]: "{:,.0f}",
    COLUMN_LABELS["area_km2"]: "{:.2f}",
    COLUMN_LABELS["radius_m"]: "{:,.0f}",
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


def targets_table(targets: Targets) -> pd.DataFrame:
    """One row per category: radius (metres), target (percent) and the source of each."""
    return pd.DataFrame([{
        "category": targets[key].bilingual(),
        "radius_m": targets[key].radius_m,
        "target_pct": targets[key].target_share * 100,
        "radius_source": targets[key].radius_source,
        "target_source": targets[key].target_share_source,
    } for key in targets.keys()])


def streets_table(streets: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per street: code, names, residents and area (km², measured in UTM 51N)."""
    return pd.DataFrame({
        "code": streets["code"],
        "street": streets["name"],
        "name_en": streets["name_en"],
        "residents": streets["population"],
        "area_km2": streets.to_crs(METRIC_CRS).area.to_numpy() / 1e6,
    })


def facility_counts(facilities: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Facilities and total capacity per category, subtype and status; ``labels`` maps category
    to display name."""
    grouped = facilities.groupby(["category", "subtype", "status"], sort=False)
    counts = grouped.agg(facilities=("id", "size"), capacity=("capacity", "sum")).reset_index()
    counts["category"] = counts["category"].map(lambda c: labels.get(c, c))
    return counts
