"""Isochrone outlines: the cells each facility reaches within its category's radius (walking
along the network, or by the straight line times the detour factor, as the coverage run
measured), merged into one outline per facility, and the category's whole reach as one
outline."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.engine.hexgrid import cell_areas_km2, cells_outline, metric_xy
from geo.engine.incremental import SLACK_M
from geo.engine.network import snap_points
from geo.engine.result import CoverageResult, active_facilities
from geo.engine.walk import walks_within
from geo.model.config import STORAGE_CRS
from geo.model.errors import raise_if_problems

__all__ = ["ISOCHRONE_COLUMNS", "isochrones"]

#: The attribute columns of :func:`isochrones` (before ``geometry``), in order.
ISOCHRONE_COLUMNS = ["scope", "category", "id", "name", "radius_m", "distance", "cells",
                     "area_km2"]


def _reach(result: CoverageResult, facilities: pd.DataFrame, radius_m: float) -> list[np.ndarray]:
    """For each facility, the positions (in ``result.cells``) of the cells within
    ``radius_m``."""
    cells = result.cells
    if result.network is not None:
        matrix = walks_within(result.network,
                              snap_points(result.network, facilities["lon"], facilities["lat"]),
                              snap_points(result.network, cells["lon"], cells["lat"]),
                              radius_m=radius_m)
        return [matrix[[i]].indices for i in range(len(facilities))]
    tree = cKDTree(metric_xy(cells["lon"], cells["lat"]))
    hits = tree.query_ball_point(metric_xy(facilities["lon"], facilities["lat"]),
                                 r=radius_m / result.detour_factor + SLACK_M)
    return [np.sort(np.asarray(h, dtype=np.int64)) for h in hits]


def isochrones(result: CoverageResult, facilities: pd.DataFrame, *, category: str
               ) -> gpd.GeoDataFrame:
    """One outline per open facility of ``category`` (``scope`` "facility") and one of the
    category's whole reach (``scope`` "category"), EPSG:4326.

    Columns :data:`ISOCHRONE_COLUMNS` and ``geometry``: ``radius_m`` in metres, ``distance``
    "network" or "straight", ``cells`` within the radius and their ``area_km2``. A facility
    that reaches no cell (e.g. farther than the network's attachment distance from every
    street) has an empty outline and 0 cells.

    Raises
    ------
    InputError
        When ``category`` is not one of ``result.categories``.
    """
    raise_if_problems([] if category in result.categories else
                      [f"unknown category {category!r} (known: "
                       f"{', '.join(result.categories)})"], context="isochrones")
    rows = result.cell_coverage[result.cell_coverage["category"] == category]
    radius = float(rows["radius_m"].iloc[0]) if len(rows) else float("nan")
    usable = active_facilities(facilities)
    usable = usable[usable["category"] == category].reset_index(drop=True)
    reach = _reach(result, usable, radius) if len(usable) else []
    index = result.cells.index
    covered = rows.loc[rows["covered"].astype(bool), "cell"]
    records = [("category", category, "", "", index.take(np.sort(index.get_indexer(covered))))]
    records += [("facility", category, str(f["id"]), str(f["name"]), index.take(cells))
                for (_, f), cells in zip(usable.iterrows(), reach, strict=True)]
    frame = pd.DataFrame({
        "scope": [r[0] for r in records], "category": [r[1] for r in records],
        "id": [r[2] for r in records], "name": [r[3] for r in records],
        "radius_m": radius, "distance": result.distance,
        "cells": [len(r[4]) for r in records],
        "area_km2": [float(cell_areas_km2(r[4]).sum()) for r in records]})
    return gpd.GeoDataFrame(frame, geometry=[cells_outline(r[4]) for r in records],
                            crs=STORAGE_CRS)
