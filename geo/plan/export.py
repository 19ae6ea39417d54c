"""The data downloads of the report exports, as frames (no file I/O; see :mod:`geo.data.export_io`).

Numbers are the coverage engine's, unrounded: distances and radii in metres (straight lines,
measured in the metric CRS), shares from 0 to 1, capacity in the facilities' own unit.
Geometries are in EPSG:4326 (WGS-84 degrees): hexagons for H3 cells, points for facilities.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.data.schema import FACILITY_COLUMNS
from geo.engine.hexgrid import cell_polygons
from geo.engine.result import CoverageResult
from geo.model.config import STORAGE_CRS
from geo.model.errors import raise_if_problems

__all__ = [
    "CELL_COLUMNS",
    "COVERAGE_COLUMNS",
    "cells_frame",
    "coverage_table",
    "facilities_frame",
    "gaps_frame",
]

#: The columns of :func:`coverage_table`, in order.
COVERAGE_COLUMNS = [
    "code", "name", "category", "population", "cells", "covered_cells", "covered_cell_share",
    "covered_population_share", "facilities", "capacity", "radius_m", "target_share",
    "meets_target", "covered_elderly_share", "judged_on",
]

#: The attribute columns of :func:`cells_frame` (before ``geometry``), in order.
CELL_COLUMNS = [
    "cell", "code", "street", "category", "population", "distance_m", "nearest_id",
    "nearest_name", "radius_m", "covered",
]


def _check_code(result: CoverageResult, code: str | None) -> None:
    """Raise :class:`~geo.model.errors.InputError` for a street code the result does not know."""
    if code is not None and code not in set(result.boundaries["code"]):
        raise_if_problems([f"unknown street code {code!r}"], context="export")


def _optional_bools(values: pd.Series) -> pd.Series:
    """Values as Python True/False, None where missing (object dtype)."""
    return pd.Series([None if pd.isna(v) else bool(v) for v in values], index=values.index,
                     dtype=object, name=values.name)


def coverage_table(result: CoverageResult, *, code: str | None = None) -> pd.DataFrame:
    """Per street and category: the coverage summary of :attr:`CoverageResult.streets`.

    Parameters
    ----------
    result
        A coverage run (see :func:`geo.engine.coverage.compute_coverage`).
    code
        Only this street (its code); None for every street.

    Returns
    -------
    DataFrame with one row per (street, category), columns :data:`COVERAGE_COLUMNS`: the
    engine's values unrounded (``radius_m`` in metres, shares from 0 to 1, ``population`` in
    residents); ``meets_target`` is True, False or None (a street with no cell), object dtype.

    Raises
    ------
    InputError
        When ``code`` is not a street of ``result.boundaries``.
    """
    _check_code(result, code)
    table = result.streets[COVERAGE_COLUMNS]
    if code is not None:
        table = table[table["code"] == code]
    table = table.reset_index(drop=True)
    table["meets_target"] = _optional_bools(table["meets_target"])
    return table


def _cell_rows(result: CoverageResult, code: str | None) -> pd.DataFrame:
    """The (cell, category) rows of the coverage run with each cell's street and residents."""
    rows = result.cell_coverage.merge(result.cells[["code", "population"]], left_on="cell",
                                      right_index=True, how="left")
    if code is not None:
        rows = rows[rows["code"] == code]
    streets = result.boundaries.drop_duplicates("code").set_index("code")["name"]
    rows = rows.assign(street=rows["code"].map(streets),
                       distance_m=rows["distance_m"].astype(float).replace(np.inf, np.nan),
                       covered=rows["covered"].astype(bool))
    return rows[CELL_COLUMNS].reset_index(drop=True)


def cells_frame(result: CoverageResult, *, code: str | None = None) -> gpd.GeoDataFrame:
    """One row per (H3 cell, category) with the cell's hexagon.

    Parameters
    ----------
    result
        A coverage run (see :func:`geo.engine.coverage.compute_coverage`).
    code
        Only this street's cells (its code); None for every street.

    Returns
    -------
    GeoDataFrame in EPSG:4326, columns :data:`CELL_COLUMNS` then ``geometry`` (the cell's
    hexagon): ``street`` is the street's name, ``population`` the cell's residents (NaN when
    unknown), ``distance_m`` the straight line in metres to the nearest not-closed facility of
    the category (NaN when there is none), ``radius_m`` in metres and ``covered``
    (``distance_m`` ≤ ``radius_m``). Rows in the engine's order (by category, then cell).

    Raises
    ------
    InputError
        When ``code`` is not a street of ``result.boundaries``.
    """
    _check_code(result, code)
    rows = _cell_rows(result, code)
    hexagons = cell_polygons(pd.unique(rows["cell"]))
    geometry = hexagons.reindex(pd.Index(rows["cell"], name="cell")).to_numpy()
    return gpd.GeoDataFrame(rows, geometry=geometry, crs=STORAGE_CRS)


def gaps_frame(result: CoverageResult, *, code: str | None = None) -> gpd.GeoDataFrame:
    """The uncovered rows of :func:`cells_frame`: same columns, CRS (EPSG:4326) and order.

    Raises
    ------
    InputError
        When ``code`` is not a street of ``result.boundaries``.
    """
    cells = cells_frame(result, code=code)
    return cells[~cells["covered"]].reset_index(drop=True)


def facilities_frame(facilities: pd.DataFrame) -> gpd.GeoDataFrame:
    """Facilities in the data model's column order, closed ones included.

    Parameters
    ----------
    facilities
        Normalised facilities (see :func:`geo.data.schema.normalize_facilities`), e.g. after a
        scenario's edits (:func:`geo.plan.scenario.apply_scenario`); ``lon``/``lat`` in WGS-84
        degrees.

    Returns
    -------
    GeoDataFrame in EPSG:4326: :data:`geo.data.schema.FACILITY_COLUMNS`, then any extra columns in
    their order, then ``geometry`` (the point at ``lon``/``lat``). Every row is kept; a closed
    facility says so in ``status``.
    """
    frame = pd.DataFrame(facilities.drop(columns="geometry", errors="ignore"))
    extra = [c for c in frame.columns if c not in FACILITY_COLUMNS]
    frame = frame[FACILITY_COLUMNS + extra].reset_index(drop=True)
    points = gpd.points_from_xy(frame["lon"].astype(float), frame["lat"].astype(float))
    return gpd.GeoDataFrame(frame, geometry=points, crs=STORAGE_CRS)
