"""All H3 work in one place: the cell grid of each street, cell centres, cell polygons.

Cells are indexed by their H3 id (hex string). Cell centres are WGS-84 degrees.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geo._errors import InputError
from geo.config import MAX_RESOLUTION, METRIC_CRS, MIN_RESOLUTION, STORAGE_CRS

__all__ = [
    "cell_area_km2",
    "cell_polygons",
    "cells_area_km2",
    "spread_population",
    "street_cells",
    "validate_resolution",
]


def validate_resolution(resolution: Any) -> int:
    """Return ``resolution`` as an int when it is an H3 resolution the project allows.

    Raises
    ------
    InputError
        When it is not an integer from ``MIN_RESOLUTION`` to ``MAX_RESOLUTION`` (7–12).
    """
    if (isinstance(resolution, bool) or not isinstance(resolution, int | np.integer)
            or not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION):
        raise InputError(f"resolution must be an integer from {MIN_RESOLUTION} to "
                         f"{MAX_RESOLUTION}, got {resolution!r}")
    return int(resolution)


def _cells_of(geometry: shapely.Geometry, resolution: int) -> list[str]:
    """H3 cells whose centre lies in ``geometry`` (EPSG:4326 polygon or multipolygon)."""
    return list(h3.geo_to_cells(geometry.__geo_interface__, resolution))


def street_cells(streets: gpd.GeoDataFrame, *, resolution: int) -> pd.DataFrame:
    """The H3 cells of each street: a cell belongs to the street containing its centre.

    Parameters
    ----------
    streets
        Street polygons in EPSG:4326 with a unique ``code``.
    resolution
        H3 resolution, 7–12.

    Returns
    -------
    DataFrame indexed by ``cell`` (H3 id) with ``code`` (the street's) and ``lon``/``lat`` of the
    cell centre in WGS-84 degrees. A cell whose centre lies exactly on a shared border goes to
    the street with the lowest code, so every cell has exactly one street.
    """
    resolution = validate_resolution(resolution)
    if streets.crs is None or not streets.crs.equals(STORAGE_CRS):
        raise InputError(f"streets must be in {STORAGE_CRS}, got {streets.crs}")
    ordered = streets.sort_values("code", kind="stable")
    pairs = [(cell, code) for code, geom in zip(ordered["code"], ordered.geometry, strict=True)
             for cell in _cells_of(geom, resolution)]
    frame = pd.DataFrame(pairs, columns=["cell", "code"]).drop_duplicates("cell", keep="first")
    centres = np.array([h3.cell_to_latlng(c) for c in frame["cell"]], dtype=float).reshape(-1, 2)
    frame["lon"], frame["lat"] = centres[:, 1], centres[:, 0]
    return frame.set_index("cell")


def spread_population(cells: pd.DataFrame, streets: gpd.GeoDataFrame) -> pd.Series:
    """Each cell's residents: its street's population spread evenly over the street's cells.

    NaN where the street's population is unknown. A per-cell population (e.g. from a census
    grid) can replace this Series: the coverage functions only read ``cells["population"]``.
    """
    per_street = streets.set_index("code")["population"]
    counts = cells["code"].value_counts()
    share = per_street.reindex(counts.index) / counts
    return cells["code"].map(share).astype(float).rename("population")


def cell_polygons(cells: pd.Index | list[str]) -> gpd.GeoSeries:
    """Hexagon polygons of the given cells in EPSG:4326, indexed by cell id."""
    index = pd.Index(cells, name="cell")
    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in index]
    return gpd.GeoSeries(shapely.polygons(rings) if rings else [], index=index, crs=STORAGE_CRS)


def cell_area_km2(resolution: int) -> float:
    """The average area of an H3 cell at ``resolution``, in km²."""
    return float(h3.average_hexagon_area(validate_resolution(resolution), "km^2"))


def cells_area_km2(cells: pd.Index | list[str]) -> float:
    """The exact total area of the given cells in km² (measured in the metric CRS)."""
    polygons = cell_polygons(cells)
    return float(polygons.to_crs(METRIC_CRS).area.sum() / 1e6) if len(polygons) else 0.0

