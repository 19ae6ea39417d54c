"""Site suggestions: where k new facilities of a category would cover the most uncovered residents.

A greedy maximal covering over the analysis grid: the candidate sites are the H3 cell centres
(WGS-84 degrees, EPSG:4326) and the demand is the category's uncovered cells, each weighing its
residents. A site covers a cell when the walk between their centres along the result's walking
network (see :mod:`geo.engine.walk`), or without one the straight line in metres in the metric
CRS (UTM 51N, see :func:`geo.engine.hexgrid.metric_xy`) times the detour factor, is at most the
category's radius: the same rule as :func:`geo.engine.coverage.cell_coverage`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from geo.engine.hexgrid import metric_xy
from geo.engine.network import WalkingNetwork, snap_points
from geo.engine.result import CoverageResult
from geo.engine.walk import walks_within
from geo.model.errors import raise_if_problems
from geo.plan.json_output import json_number

__all__ = ["MAX_SITES", "SITE_COLUMNS", "coverage_matrix", "sites_to_dict", "suggest_sites"]

#: The most sites one call may suggest.
MAX_SITES = 20
#: The columns of :func:`suggest_sites`, in order.
SITE_COLUMNS = ["lon", "lat", "cell", "newly_covered_population", "newly_covered_cells"]
#: Two gains in residents closer than this (relative to the larger) count as a tie, so that
#: sums of the same residents in another order cannot decide the choice.
GAIN_TOLERANCE = 1e-9

_EMPTY_DTYPES = {"lon": "float64", "lat": "float64", "cell": "str",
                 "newly_covered_population": "float64", "newly_covered_cells": "int64"}


def _check_options(result: CoverageResult, k: Any, category: str, code: str | None) -> int:
    """``k`` as an int; raise :class:`InputError` naming every bad option."""
    problems = []
    k_ok = (not isinstance(k, bool) and isinstance(k, int | np.integer)
            and 1 <= k <= MAX_SITES)
    if not k_ok:
        problems.append(f"k must be an integer from 1 to {MAX_SITES}, got {k!r}")
    if category not in result.categories:
        known = ", ".join(result.categories)
        problems.append(f"unknown category {category!r} (known: {known})")
    if code is not None and code not in set(result.boundaries["code"]):
        problems.append(f"unknown street code {code!r}")
    raise_if_problems(problems, context="suggest")
    return int(k)


def _candidates(result: CoverageResult, code: str | None) -> pd.DataFrame:
    """The candidate cells (``lon``/``lat``, WGS-84 degrees), in cell id order, optionally of
    one street only."""
    cells = result.cells
    if code is not None:
        cells = cells[cells["code"] == code]
    return cells[["lon", "lat"]].sort_index()


def _demand(
    result: CoverageResult, category: str, code: str | None
) -> tuple[pd.DataFrame, float]:
    """The category's uncovered cells (``cell``, ``lon``/``lat`` in WGS-84 degrees,
    ``population``), optionally of one street only, and the category's radius in metres
    (NaN when the category has no cell)."""
    rows = result.cell_coverage[result.cell_coverage["category"] == category]
    radius = float(rows["radius_m"].iloc[0]) if len(rows) else np.nan
    rows = rows[~rows["covered"].astype(bool)]
    rows = rows[["cell"]].merge(result.cells[["code", "lon", "lat", "population"]],
                                left_on="cell", right_index=True)
    if code is not None:
        rows = rows[rows["code"] == code]
    return rows.reset_index(drop=True), radius


def coverage_matrix(candidates: pd.DataFrame, demand: pd.DataFrame, *, radius_m: float,
                    network: WalkingNetwork | None = None, detour: float = 1.0
                    ) -> csr_matrix:
    """Which candidate covers which demand cell.

    Parameters
    ----------
    candidates, demand
        ``lon``/``lat`` of cell centres, WGS-84 degrees.
    radius_m
        Coverage radius in metres; a pair is covered when the walk along ``network`` between
        the centres, or without one the straight-line distance in the metric CRS (UTM 51N)
        times ``detour``, is at most this.

    Returns
    -------
    Boolean CSR matrix of shape (candidates, demand).
    """
    shape = (len(candidates), len(demand))
    if 0 in shape:
        return csr_matrix(shape, dtype=bool)
    if network is not None:
        return csr_matrix(walks_within(
            network, snap_points(network, candidates["lon"], candidates["lat"]),
            snap_points(network, demand["lon"], demand["lat"]), radius_m=radius_m))
    tree = cKDTree(metric_xy(demand["lon"], demand["lat"]))
    hits = tree.query_ball_point(metric_xy(candidates["lon"], candidates["lat"]),
                                 r=radius_m / detour)
    counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    indptr = np.concatenate([[0], np.cumsum(counts)])
    indices = (np.concatenate([np.asarray(h, dtype=np.int64) for h in hits]) if indptr[-1]
               else np.zeros(0, dtype=np.int64))
    return csr_matrix((np.ones(len(indices), dtype=bool), indices, indptr), shape=shape)


def _best(gain_weight: np.ndarray, gain_cells: np.ndarray) -> int | None:
    """Position of the best candidate: most weight (within :data:`GAIN_TOLERANCE`), then most
    cells, then the first (candidates are in cell id order); None when none adds a cell."""
    if len(gain_cells) == 0 or gain_cells.max() == 0:
        return None
    top = gain_weight.max()
    tied = gain_weight >= top - GAIN_TOLERANCE * max(abs(top), 1.0)
    tied &= gain_cells == gain_cells[tied].max()
    return int(np.flatnonzero(tied)[0])


def _greedy(matrix: csr_matrix, weight: np.ndarray, k: int) -> list[tuple[int, np.ndarray]]:
    """Up to ``k`` greedy picks: (candidate position, demand positions it newly covers)."""
    matrix = matrix.astype(np.float64)
    open_ = np.ones(matrix.shape[1], dtype=np.float64)
    picks = []
    for _ in range(k):
        best = _best(matrix @ (weight * open_), matrix @ open_)
        if best is None:
            break
        row = matrix.indices[matrix.indptr[best]:matrix.indptr[best + 1]]
        new = row[open_[row] > 0]
        open_[new] = 0.0
        picks.append((best, np.sort(new)))
    return picks


def _newly_covered_population(population: np.ndarray) -> float:
    """Sum of the residents; NaN when any is unknown."""
    return float(population.sum()) if not np.isnan(population).any() else np.nan


def suggest_sites(result: CoverageResult, *, category: str, k: int, code: str | None = None
                  ) -> pd.DataFrame:
    """Up to ``k`` new sites of ``category`` that cover the most residents now uncovered.

    Greedy maximal covering: each step picks the candidate whose not-yet-covered demand weighs
    most, ties broken by more cells, then by the smallest cell id (string order); its demand is
    then covered. It stops early when no candidate covers a demand cell still open.

    Parameters
    ----------
    result
        A coverage run (see :func:`geo.engine.coverage.compute_coverage`).
    category
        One of ``result.categories``; its ``radius_m`` (metres) in ``result.cell_coverage`` is
        the coverage radius.
    k
        How many sites, 1–20.
    code
        Only this street (its code): the candidates are its cells and the demand its uncovered
        cells. None for the whole grid.

    Returns
    -------
    DataFrame with one row per site in the order chosen, columns :data:`SITE_COLUMNS`:
    ``lon``/``lat`` (the cell centre, WGS-84 degrees), ``cell`` (H3 id),
    ``newly_covered_population`` (residents of the demand cells the site covers that the sites
    before it did not; NaN when any of them has an unknown population) and
    ``newly_covered_cells``. A demand cell weighs its ``population``, or 1 when that is NaN.
    Fewer than ``k`` rows (none at all when every cell is covered) when nothing more can be
    covered.

    Raises
    ------
    InputError
        When ``k`` is not an integer from 1 to 20, ``category`` is not one of
        ``result.categories`` or ``code`` is not a street of ``result.boundaries``.
    """
    k = _check_options(result, k, category, code)
    candidates = _candidates(result, code)
    demand, radius = _demand(result, category, code)
    if len(candidates) == 0 or len(demand) == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _EMPTY_DTYPES.items()})
    population = demand["population"].to_numpy(dtype=float)
    matrix = coverage_matrix(candidates, demand, radius_m=radius, network=result.network,
                             detour=result.detour_factor)
    picks = _greedy(matrix, np.nan_to_num(population, nan=1.0), k)
    chosen = candidates.iloc[[best for best, _ in picks]]
    return pd.DataFrame({
        "lon": chosen["lon"].to_numpy(dtype=float),
        "lat": chosen["lat"].to_numpy(dtype=float),
        "cell": chosen.index.to_numpy(),
        "newly_covered_population": [_newly_covered_population(population[new])
                                     for _, new in picks],
        "newly_covered_cells": np.array([len(new) for _, new in picks], dtype=np.int64),
    }).astype(_EMPTY_DTYPES)


def sites_to_dict(sites: pd.DataFrame, *, category: str, resolution: int) -> dict:
    """The JSON shape of :func:`suggest_sites`: ``{"category", "resolution", "sites": [{"lon",
    "lat", "cell", "newly_covered_population", "newly_covered_cells"}]}``.

    ``lon``/``lat`` are WGS-84 degrees rounded to 6 decimals; an unknown population is None.
    """
    return {
        "category": category,
        "resolution": int(resolution),
        "sites": [
            {
                "lon": round(float(row.lon), 6),
                "lat": round(float(row.lat), 6),
                "cell": str(row.cell),
                "newly_covered_population": json_number(row.newly_covered_population),
                "newly_covered_cells": int(row.newly_covered_cells),
            }
            for row in sites.itertuples(index=False)
        ],
    }
