"""Display tables built from a coverage result (pure frames; the pages only render them)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.engine.hexgrid import cell_polygons
from geo.engine.result import CoverageResult
from geo.engine.sums import district_summary
from geo.model.config import METRIC_CRS, STORAGE_CRS
from geo.model.targets import Targets

__all__ = [
    "category_cells",
    "district_table",
    "facility_counts",
    "street_facilities",
    "street_profile",
    "street_table",
    "streets_table",
    "targets_table",
]

def _judged_share(rows: pd.DataFrame) -> pd.Series:
    """Each row's covered share the target is judged on: of those aged 60+ where
    ``judged_on`` says so, else of residents (or area)."""
    return rows["covered_population_share"].where(rows["judged_on"] != "elderly",
                                                  rows["covered_elderly_share"])


def street_table(result: CoverageResult, category: str) -> pd.DataFrame:
    """One row per street for ``category``: residents, cells, covered shares (percent, of
    what the target is judged on: ``judged_on``), target (percent), facilities inside and
    whether the target is met; lowest coverage first."""
    rows = result.streets[result.streets["category"] == category]
    table = pd.DataFrame({
        "code": rows["code"],
        "street": rows["name"],
        "residents": rows["population"],
        "cells": rows["cells"],
        "covered_cells": rows["covered_cells"],
        "covered_residents_pct": (_judged_share(rows) * 100).round(1),
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
    elderly = result.streets.groupby("category")["judged_on"].agg(
        lambda judged: bool((judged == "elderly").any())).reindex(summary.index).to_numpy(
        dtype=bool)
    share = np.where(elderly, summary["covered_elderly_share"],
                     summary["covered_population_share"])
    return pd.DataFrame({
        "category": [labels.get(c, c) for c in summary.index],
        "covered_residents_pct": (share * 100).round(1),
        "judged_on": np.where(elderly, "elderly", result.basis),
        "target_pct": (summary["target_share"] * 100).round(1).to_numpy(),
        "facilities": summary["facilities"].to_numpy(),
        "streets_below_target": summary["streets_below_target"].to_numpy(),
    })


def targets_table(targets: Targets, labels: dict[str, str]) -> pd.DataFrame:
    """One row per category: radius (metres), target (percent) and the source of each;
    ``labels`` maps category to display name."""
    return pd.DataFrame([{
        "category": labels.get(key, key),
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


def street_profile(result: CoverageResult, code: str, labels: dict[str, str]) -> pd.DataFrame:
    """One street's coverage per category (percent of residents) next to the district average
    and the target, with the facilities inside it; ``labels`` maps category to display name."""
    rows = result.streets[result.streets["code"] == code].set_index("category")
    district = district_summary(result)
    categories = list(result.categories)
    elderly = (rows.loc[categories, "judged_on"] == "elderly").to_numpy()
    whole = np.where(elderly, district.loc[categories, "covered_elderly_share"],
                     district.loc[categories, "covered_population_share"])
    return pd.DataFrame({
        "category": [labels.get(c, c) for c in categories],
        "covered_residents_pct": (_judged_share(rows.loc[categories]) * 100)
        .round(1).to_numpy(),
        "district_pct": (whole * 100).round(1),
        "target_pct": (rows.loc[categories, "target_share"] * 100).round(1).to_numpy(),
        "meets_target": rows.loc[categories, "meets_target"].to_numpy(),
        "facilities": rows.loc[categories, "facilities"].to_numpy(),
        "capacity": rows.loc[categories, "capacity"].to_numpy(),
    })


def street_facilities(streets: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
                      code: str) -> pd.DataFrame:
    """The facilities inside one street (EPSG:4326 frames), by category and name."""
    polygon = streets.loc[streets["code"] == code].geometry.iloc[0]
    inside = facilities[facilities.geometry.within(polygon)]
    columns = ["id", "name", "category", "subtype", "capacity", "status", "address"]
    return inside[columns].sort_values(["category", "name"]).reset_index(drop=True)


def category_cells(result: CoverageResult, category: str) -> gpd.GeoDataFrame:
    """Cells of one category with their hexagon polygons (EPSG:4326), street code and name,
    residents, distance (metres) to the nearest facility, its name, and whether covered."""
    rows = result.cell_coverage[result.cell_coverage["category"] == category]
    rows = rows.merge(result.cells, left_on="cell", right_index=True)
    rows = rows.join(result.boundaries.set_index("code")["name"].rename("street"), on="code")
    polygons = cell_polygons(rows["cell"])
    return gpd.GeoDataFrame(rows.reset_index(drop=True), geometry=polygons.to_numpy(),
                            crs=STORAGE_CRS)
