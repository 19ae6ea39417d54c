"""Per-street and district sums of a coverage run: cells, covered cells and covered shares of
cells and of residents per (street, category), facilities inside each street, the target.

Sums come either from the per-cell frame (:func:`street_coverage`) or straight from the
engine's grid arrays (:func:`grid_street_coverage`); both give the same table.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.engine.hexgrid import Grid
from geo.engine.incremental import GridNearest
from geo.engine.result import CoverageResult, active_facilities
from geo.model.targets import Targets

__all__ = ["SHARE_TOLERANCE", "district_summary", "grid_street_coverage", "street_coverage"]

SHARE_TOLERANCE = 1e-12


def _street_category_groups(street_pos: np.ndarray, category_pos: np.ndarray,
                            n_categories: int) -> np.ndarray:
    """One group number per (street, category) pair: street-major, as the output is sorted."""
    return street_pos * n_categories + category_pos


def _facility_sums(streets: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
                   categories: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Count and total capacity of the not-closed facilities inside each street, per
    (street, category) group of :func:`_street_category_groups`."""
    size = len(streets) * len(categories)
    usable = active_facilities(facilities)
    usable = usable[usable["category"].isin(categories)]
    tree = shapely.STRtree(streets.geometry.to_numpy())
    point, street = tree.query(usable.geometry.to_numpy(), predicate="within")
    point, first = np.unique(point, return_index=True)  # a point counts in one street at most
    street = street[first]
    category = pd.Index(categories).get_indexer(usable["category"])[point]
    group = _street_category_groups(street, category, len(categories))
    capacity = usable["capacity"].fillna(0.0).to_numpy(dtype=float)[point]
    return (np.bincount(group, minlength=size),
            np.bincount(group, weights=capacity, minlength=size))


def _ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole``, NaN where ``whole`` is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, part / np.where(whole > 0, whole, 1), np.nan)


def _shares(group: np.ndarray, size: int, *, covered: np.ndarray,
            weight: np.ndarray, elderly: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Cells, covered cells and covered shares of cells, of residents and of 60+ residents
    per group number.

    ``weight`` is each row's residents, 1 where unknown; ``elderly`` each row's 60+ residents
    (None: unknown); a group with no cell or no weight has NaN shares.
    """
    cells = np.bincount(group, minlength=size)
    covered_cells = np.bincount(group, weights=covered, minlength=size)
    total = np.bincount(group, weights=weight, minlength=size)
    covered_weight = np.bincount(group, weights=weight * covered, minlength=size)
    elderly_share = (np.full(size, np.nan) if elderly is None else _ratio(
        np.bincount(group, weights=elderly * covered, minlength=size),
        np.bincount(group, weights=elderly, minlength=size)))
    return {
        "cells": cells,
        "covered_cells": np.rint(covered_cells).astype(int),
        "covered_cell_share": _ratio(covered_cells, cells),
        "covered_population_share": _ratio(covered_weight, total),
        "covered_elderly_share": elderly_share,
    }


def _row_weights(cells: pd.DataFrame, coverage: pd.DataFrame
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """For each coverage row: the position of its cell in ``cells``, the cell's residents
    (1 where unknown) and its 60+ residents (None when ``cells`` has none)."""
    position = cells.index.get_indexer(coverage["cell"])
    elderly = (cells["elderly"].to_numpy(dtype=float)[position] if "elderly" in cells
               else None)
    return position, cells["population"].fillna(1.0).to_numpy(dtype=float)[position], elderly


def street_coverage(
    streets: gpd.GeoDataFrame,
    cells: pd.DataFrame,
    coverage: pd.DataFrame,
    facilities: gpd.GeoDataFrame,
    targets: Targets,
) -> pd.DataFrame:
    """Per street and category: cells, covered cells and shares, facilities inside, target.

    Returns
    -------
    DataFrame with one row per (street, category), streets in the frame's order and categories
    in the coverage frame's order: ``code``, ``name``, ``category``, ``population``, ``cells``,
    ``covered_cells``, ``covered_cell_share``, ``covered_population_share``, ``facilities``,
    ``capacity``, ``radius_m``, ``target_share`` and ``meets_target`` (NA for a street with no
    cell). A share weighs cells by ``cells["population"]``, or equally where it is unknown.
    """
    categories = list(pd.unique(coverage["category"]))
    position, weight, elderly = _row_weights(cells, coverage)
    street_of_cell = pd.Index(streets["code"].to_numpy()).get_indexer(cells["code"])
    group = _street_category_groups(street_of_cell[position],
                                    pd.Index(categories).get_indexer(coverage["category"]),
                                    len(categories))
    shares = _shares(group, len(streets) * len(categories),
                     covered=coverage["covered"].to_numpy(dtype=float), weight=weight,
                     elderly=elderly)
    return _street_table(streets, categories, shares, facilities=facilities, targets=targets,
                         elderly=elderly is not None)


def _street_table(streets: gpd.GeoDataFrame, categories: list[str],
                  shares: dict[str, np.ndarray], *, facilities: gpd.GeoDataFrame,
                  targets: Targets, elderly: bool) -> pd.DataFrame:
    """:func:`street_coverage` from the :func:`_shares` of each (street, category) group (see
    :func:`_street_category_groups`)."""
    codes = streets["code"].to_numpy()
    stats = pd.DataFrame(shares)
    stats.insert(0, "category", np.tile(np.array(categories, dtype=object), len(codes)))
    stats.insert(0, "code", np.repeat(codes, len(categories)))
    stats["facilities"], stats["capacity"] = _facility_sums(streets, facilities, categories)
    street_info = streets.set_index("code")[["name", "population"]]
    stats = stats.join(street_info, on="code")
    radius = {c: targets[c].radius_m for c in categories}
    share = {c: targets[c].target_share for c in categories}
    stats["radius_m"] = stats["category"].map(radius).astype(float)
    stats["target_share"] = stats["category"].map(share).astype(float)
    stats["judged_on"] = _judged_on(stats, targets, elderly=elderly)
    judged = stats["covered_population_share"].where(stats["judged_on"] != "elderly",
                                                     stats["covered_elderly_share"])
    meets = judged + SHARE_TOLERANCE >= stats["target_share"]
    stats["meets_target"] = meets.astype("boolean").mask(judged.isna())
    columns = ["code", "name", "category", "population", "cells", "covered_cells",
               "covered_cell_share", "covered_population_share", "covered_elderly_share",
               "judged_on", "facilities", "capacity", "radius_m", "target_share", "meets_target"]
    return stats[columns]


def _judged_on(stats: pd.DataFrame, targets: Targets, *, elderly: bool) -> np.ndarray:
    """What each row's target is judged on: "elderly" (the category's weight, where 60+
    counts are known), "residents", or "area" (the street's population is unknown)."""
    wants_elderly = stats["category"].map(
        {c: c in targets and targets[c].weight == "elderly"
         for c in pd.unique(stats["category"])}).to_numpy(dtype=bool)
    known = stats["population"].notna().to_numpy()
    return np.where(known & wants_elderly & elderly, "elderly",
                    np.where(known, "residents", "area"))


def grid_street_coverage(streets: gpd.GeoDataFrame, grid: Grid, weight: np.ndarray,
                         nearest: dict[str, GridNearest], facilities: gpd.GeoDataFrame,
                         targets: Targets, *, elderly: np.ndarray | None = None
                         ) -> pd.DataFrame:
    """:func:`street_coverage` of the categories in ``nearest``, from the grid's arrays
    (``weight``: each cell's residents, 1 where unknown; ``elderly``: its 60+ residents)."""
    size = len(streets)
    cells = np.bincount(grid.street, minlength=size)[:, None]
    total = np.bincount(grid.street, weights=weight, minlength=size)[:, None]
    old = (np.bincount(grid.street, weights=elderly, minlength=size)[:, None]
           if elderly is not None else None)
    covered = np.zeros((size, len(nearest)))
    covered_weight = np.zeros((size, len(nearest)))
    covered_old = np.zeros((size, len(nearest)))
    for j, near in enumerate(nearest.values()):
        covered[:, j], covered_weight[:, j] = near.covered_cells, near.covered_weight
        if old is not None and near.covered_elderly is not None:
            covered_old[:, j] = near.covered_elderly
    shares = {  # street-major, as _street_category_groups numbers them
        "cells": np.repeat(cells, len(nearest), axis=1).ravel(),
        "covered_cells": np.rint(covered).astype(int).ravel(),
        "covered_cell_share": _ratio(covered, cells).ravel(),
        "covered_population_share": _ratio(covered_weight, total).ravel(),
        "covered_elderly_share": (_ratio(covered_old, old).ravel() if old is not None
                                  else np.full(size * len(nearest), np.nan)),
    }
    return _street_table(streets, list(nearest), shares, facilities=facilities,
                         targets=targets, elderly=old is not None)


def district_summary(result: CoverageResult) -> pd.DataFrame:
    """Per category over the whole district: cells, covered share of cells and of residents,
    facilities, and the number of streets below target. Indexed by category."""
    categories = list(result.categories)
    coverage = result.cell_coverage
    _, weight, elderly = _row_weights(result.cells, coverage)
    group = pd.Index(categories).get_indexer(coverage["category"])
    summary = pd.DataFrame(_shares(group, len(categories),
                                   covered=coverage["covered"].to_numpy(dtype=float),
                                   weight=weight, elderly=elderly),
                           index=pd.Index(categories, name="category"))
    by_category = result.streets.groupby("category", sort=False)
    summary["facilities"] = by_category["facilities"].sum()
    summary["streets_below_target"] = by_category["meets_target"].agg(
        lambda meets: int((meets == False).sum()))  # noqa: E712
    summary["target_share"] = by_category["target_share"].first()
    return summary
