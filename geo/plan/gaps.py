"""Gap blocks: the uncovered H3 cells of a coverage result, grouped into connected blocks.

A block is a connected component of uncovered cells of one category in one street; two cells
are connected when they are H3 neighbours. Cell centres are WGS-84 degrees (EPSG:4326);
distances are the straight-line metres of :func:`geo.engine.coverage.cell_coverage`.
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.engine.result import CoverageResult
from geo.model.errors import raise_if_problems

__all__ = [
    "BLOCK_COLUMNS",
    "gap_blocks",
    "gap_cells",
    "missing_categories",
    "streets_below_target",
]

#: The columns of :func:`gap_blocks`, in order.
BLOCK_COLUMNS = [
    "block", "code", "street", "category", "cells", "residents", "nearest_id", "nearest_name",
    "nearest_distance_m", "max_distance_m", "lon", "lat", "cell_ids",
]

_EMPTY_DTYPES = {
    "block": "int64", "code": "str", "street": "str", "category": "str",
    "cells": "int64", "residents": "float64", "nearest_id": "str", "nearest_name": "str",
    "nearest_distance_m": "float64", "max_distance_m": "float64", "lon": "float64",
    "lat": "float64", "cell_ids": "object",
}


def _check_filters(result: CoverageResult, category: str | None, code: str | None) -> None:
    """Raise :class:`InputError` for a category or street code the result does not know."""
    problems = []
    if category is not None and category not in result.categories:
        known = ", ".join(result.categories)
        problems.append(f"unknown category {category!r} (known: {known})")
    if code is not None and code not in set(result.boundaries["code"]):
        problems.append(f"unknown street code {code!r}")
    raise_if_problems(problems, context="gaps")


def _uncovered_cells(
    result: CoverageResult, *, category: str | None, code: str | None
) -> pd.DataFrame:
    """The uncovered (cell, category) rows with the cell's ``code``, ``lon``/``lat`` (WGS-84
    degrees) and ``population``, optionally limited to one category and one street."""
    rows = result.cell_coverage[~result.cell_coverage["covered"].astype(bool)]
    if category is not None:
        rows = rows[rows["category"] == category]
    rows = rows.merge(result.cells[["code", "lon", "lat", "population"]], left_on="cell",
                      right_index=True)
    if code is not None:
        rows = rows[rows["code"] == code]
    return rows.reset_index(drop=True)


def _block_labels(rows: pd.DataFrame) -> np.ndarray:
    """A component label per row: rows of the same category and street whose cells are H3
    neighbours share a label."""
    n = len(rows)
    nodes = pd.DataFrame({"cell": rows["cell"].astype(object), "category": rows["category"],
                          "code": rows["code"], "target": np.arange(n)})
    pairs = pd.DataFrame({"source": np.arange(n),
                          "cell": [h3.grid_disk(cell, 1) for cell in rows["cell"]],
                          "category": rows["category"], "code": rows["code"]})
    pairs = pairs.explode("cell").astype({"cell": object})
    edges = pairs.merge(nodes, on=["cell", "category", "code"], how="inner")
    source = edges["source"].to_numpy(dtype=np.int64)
    target = edges["target"].to_numpy(dtype=np.int64)
    graph = coo_matrix((np.ones(len(source), dtype=np.int8), (source, target)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def _summarise_blocks(rows: pd.DataFrame, streets: pd.Series) -> pd.DataFrame:
    """One row per ``label`` of ``rows``: street, size, residents, nearest facility, distances,
    centre and cell ids (unsorted, without ``block``)."""
    groups = rows.groupby("label", sort=True)
    closest = (rows.sort_values(["distance_m", "cell"], kind="stable")
               .drop_duplicates("label").set_index("label").sort_index())
    cells = groups.size()
    known = groups["population"].count() == cells
    blocks = pd.DataFrame({
        "code": closest["code"],
        "category": closest["category"],
        "cells": cells.astype("int64"),
        "residents": groups["population"].sum().astype(float).where(known),
        "nearest_id": closest["nearest_id"],
        "nearest_name": closest["nearest_name"],
        "nearest_distance_m": closest["distance_m"].astype(float),
        "max_distance_m": groups["distance_m"].max().astype(float),
        "lon": groups["lon"].mean(),
        "lat": groups["lat"].mean(),
        "cell_ids": rows.sort_values("cell").groupby("label", sort=True)["cell"].agg(tuple),
    })
    blocks.insert(1, "street", blocks["code"].map(streets))
    return blocks


def _rank_blocks(blocks: pd.DataFrame) -> pd.DataFrame:
    """Sort: residents (NaN last), cells and farthest distance descending, then code, category
    and first cell id; number the blocks 1..n."""
    keyed = blocks.assign(_first=blocks["cell_ids"].map(lambda ids: ids[0]))
    keyed = keyed.sort_values(
        ["residents", "cells", "max_distance_m", "code", "category", "_first"],
        ascending=[False, False, False, True, True, True], na_position="last", kind="stable")
    keyed = keyed.reset_index(drop=True)
    keyed.insert(0, "block", np.arange(1, len(keyed) + 1, dtype=np.int64))
    return keyed[BLOCK_COLUMNS]


def gap_blocks(
    result: CoverageResult, *, category: str | None = None, code: str | None = None
) -> pd.DataFrame:
    """The uncovered cells grouped into connected blocks per category and street.

    Two uncovered cells of the same category and street belong to one block when a chain of
    H3 neighbours (``h3.grid_disk(cell, 1)``) of such cells joins them; cells of different
    streets never share a block.

    Parameters
    ----------
    result
        A coverage run (see :func:`geo.engine.coverage.compute_coverage`).
    category
        Only this category's gaps; None for every category of the result.
    code
        Only this street's gaps (its code); None for every street.

    Returns
    -------
    DataFrame with one row per block, columns :data:`BLOCK_COLUMNS`: ``block`` (rank, 1-based),
    ``code``, ``street`` (the street's name), ``category``, ``cells``, ``residents`` (sum of the
    cells' population; NaN when any is unknown), ``nearest_id`` and ``nearest_name`` (the
    nearest facility of the block's cell closest to one; on a tie the lowest cell id),
    ``nearest_distance_m`` and ``max_distance_m`` (least and greatest cell distance, metres),
    ``lon``/``lat`` (mean of the cell centres, WGS-84 degrees) and ``cell_ids`` (sorted tuple of
    H3 ids). Sorted by residents (NaN last), cells and ``max_distance_m`` descending, then code,
    category and first cell id.
    Empty (same columns) when no cell is uncovered.

    Raises
    ------
    InputError
        When ``category`` is not one of ``result.categories`` or ``code`` is not a street of
        ``result.boundaries``.
    """
    _check_filters(result, category, code)
    rows = _uncovered_cells(result, category=category, code=code)
    if len(rows) == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _EMPTY_DTYPES.items()})
    rows["label"] = _block_labels(rows)
    streets = result.boundaries.drop_duplicates("code").set_index("code")["name"]
    return _rank_blocks(_summarise_blocks(rows, streets))


def missing_categories(result: CoverageResult) -> pd.DataFrame:
    """Per cell: its street ``code``, ``population`` and ``missing`` — how many of the
    result's categories do not cover it (0 = all do); indexed by cell id, in grid order."""
    uncovered = result.cell_coverage.loc[~result.cell_coverage["covered"], "cell"]
    counts = uncovered.value_counts().reindex(result.cells.index, fill_value=0)
    return pd.DataFrame({"code": result.cells["code"], "population": result.cells["population"],
                         "missing": counts.astype(int)})


def streets_below_target(result: CoverageResult, category: str) -> pd.DataFrame:
    """The streets whose covered population share is below the category's target, lowest
    share first."""
    rows = result.streets[(result.streets["category"] == category)
                          & (result.streets["meets_target"] == False)]  # noqa: E712
    return rows.sort_values(["covered_population_share", "code"]).reset_index(drop=True)


def gap_cells(result: CoverageResult, category: str) -> pd.DataFrame:
    """Uncovered cells of a category, with their street, residents, the distance (metres) to the
    nearest facility and its name; farthest first."""
    rows = result.cell_coverage[(result.cell_coverage["category"] == category)
                                & ~result.cell_coverage["covered"]]
    rows = rows.merge(result.cells, left_on="cell", right_index=True)
    return rows.sort_values(["distance_m", "cell"], ascending=[False, True]).reset_index(drop=True)
