"""Before/after comparison of two coverage results on the same grid (a scenario and its
baseline, or two scenarios)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.engine.hexgrid import cell_areas_km2
from geo.engine.result import CoverageResult
from geo.model.errors import InputError

__all__ = ["GAIN_COLUMNS", "changed_cells", "compare_streets", "gain_columns",
           "newly_covered_total", "side_by_side"]

#: The gain and loss columns of :func:`compare_streets`, by basis: residents, or km² of cells
#: when no population is known (never a 0 that reads as "nobody gains").
GAIN_COLUMNS = {"residents": ("newly_covered_residents", "lost_residents"),
                "area": ("newly_covered_area_km2", "lost_area_km2")}


def gain_columns(result: CoverageResult) -> tuple[str, str]:
    """The gain and loss columns :func:`compare_streets` gives for ``result``'s basis."""
    return GAIN_COLUMNS[result.basis]


def _check_same_grid(before: CoverageResult, after: CoverageResult) -> None:
    if before.resolution != after.resolution or not before.cells.index.equals(after.cells.index):
        raise InputError("compare: the two results are not on the same grid "
                         f"(resolutions {before.resolution} and {after.resolution})")


def _cell_states(before: CoverageResult, after: CoverageResult) -> pd.DataFrame:
    """Per (cell, category) present in either: covered before/after and the cell's street and
    residents (NaN counts as unknown)."""
    keys = ["cell", "category"]
    merged = (before.cell_coverage[[*keys, "covered"]]
              .merge(after.cell_coverage[[*keys, "covered"]], on=keys, how="outer",
                     suffixes=("_before", "_after")))
    merged[["covered_before", "covered_after"]] = (
        merged[["covered_before", "covered_after"]].fillna(False).astype(bool))
    return merged.join(after.cells[["code", "population"]], on="cell")


def compare_streets(before: CoverageResult, after: CoverageResult) -> pd.DataFrame:
    """Per street and category: covered share of residents before and after (0–1), the change
    in percentage points, whether the target is met before and after, and the residents newly
    covered and no longer covered (without any population: the km² of cells newly covered and
    no longer covered, see :func:`gain_columns`).

    Raises
    ------
    InputError
        When the two results are not on the same H3 grid.
    """
    _check_same_grid(before, after)
    keys = ["code", "category"]
    left = before.streets.set_index(keys)[["covered_population_share", "meets_target"]]
    right = after.streets.set_index(keys)[["name", "covered_population_share", "target_share",
                                           "meets_target"]]
    table = right.join(left, how="left", suffixes=("_after", "_before"))
    states = _cell_states(before, after)
    gained_name, lost_name = gain_columns(after)
    residents = (states["population"].fillna(0.0) if after.basis == "residents"
                 else pd.Series(cell_areas_km2(states["cell"]), index=states.index))
    states["gained"] = residents * (states["covered_after"] & ~states["covered_before"])
    states["lost"] = residents * (states["covered_before"] & ~states["covered_after"])
    moved = states.groupby(keys)[["gained", "lost"]].sum()
    table = table.join(moved).fillna({"gained": 0.0, "lost": 0.0}).reset_index()
    table["share_before"] = table["covered_population_share_before"]
    table["share_after"] = table["covered_population_share_after"]
    table["delta_pp"] = (table["share_after"] - table["share_before"].fillna(0.0)) * 100
    return pd.DataFrame({
        "code": table["code"], "street": table["name"], "category": table["category"],
        "share_before": table["share_before"], "share_after": table["share_after"],
        "delta_pp": table["delta_pp"].round(6), "target_share": table["target_share"],
        "meets_before": table["meets_target_before"].astype("boolean"),
        "meets_after": table["meets_target_after"].astype("boolean"),
        gained_name: table["gained"], lost_name: table["lost"],
    })


def newly_covered_total(comparison: pd.DataFrame) -> pd.DataFrame:
    """Residents (or km²) newly covered and no longer covered, per category over all
    streets."""
    columns = next(c for c in GAIN_COLUMNS.values() if c[0] in comparison)
    totals = comparison.groupby("category", sort=False)[list(columns)].sum()
    return totals.reset_index()


def changed_cells(before: CoverageResult, after: CoverageResult, category: str) -> pd.DataFrame:
    """The cells of ``category`` whose coverage changed: ``cell``, ``code``, ``population`` and
    ``change`` ("gained" or "lost")."""
    _check_same_grid(before, after)
    states = _cell_states(before, after)
    states = states[(states["category"] == category)
                    & (states["covered_before"] != states["covered_after"])]
    states = states.assign(change=np.where(states["covered_after"], "gained", "lost"))
    return states[["cell", "code", "population", "change"]].sort_values("cell").reset_index(
        drop=True)


def side_by_side(baseline: CoverageResult, a: CoverageResult, b: CoverageResult, *,
                 category: str) -> pd.DataFrame:
    """Per street, the covered share of residents (percent) for ``category`` in the baseline
    and in scenarios A and B, and whether each meets the target."""
    def shares(result: CoverageResult) -> pd.DataFrame:
        rows = result.streets[result.streets["category"] == category].set_index("code")
        return rows[["name", "covered_population_share", "meets_target"]]

    base, first, second = shares(baseline), shares(a), shares(b)
    return pd.DataFrame({
        "code": base.index,
        "street": base["name"].to_numpy(),
        "covered_before_pct": (base["covered_population_share"] * 100).round(1).to_numpy(),
        "scenario_a": (first["covered_population_share"].reindex(base.index) * 100).round(1)
        .to_numpy(),
        "scenario_b": (second["covered_population_share"].reindex(base.index) * 100).round(1)
        .to_numpy(),
    })
