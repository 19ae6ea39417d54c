"""A scenario's street scope: the streets its edits touch, which decides who may save it (a
street office only within its own streets; see ``geo.model.access``)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geo.data.rules import normal_id
from geo.model.access import Principal
from geo.model.config import STORAGE_CRS
from geo.plan.scenario import FACILITY_EDITS, Scenario

__all__ = ["DISTRICT_EDITS", "save_scope", "touched_streets"]

#: Edits that change a whole category for the district (its radius or target).
DISTRICT_EDITS = ("radius", "target")


def _edit_points(scenario: Scenario, facilities: pd.DataFrame) -> list[tuple[float, float]]:
    """WGS-84 lon/lat of every place an edit touches: an added facility, a moved facility's
    old and new place, a closed or resized facility."""
    where = dict(zip(facilities["id"], zip(facilities.geometry.x, facilities.geometry.y,
                                           strict=True), strict=True))
    points = []
    for edit in scenario.edits:
        if edit.kind not in FACILITY_EDITS:
            continue
        if edit.kind != "add" and normal_id(edit.facility_id) in where:
            points.append(where[normal_id(edit.facility_id)])
        if edit.kind in ("add", "move") and edit.lon is not None and edit.lat is not None:
            points.append((float(edit.lon), float(edit.lat)))
    return points


def touched_streets(scenario: Scenario, *, facilities: gpd.GeoDataFrame,
                   streets: gpd.GeoDataFrame) -> tuple[str, ...] | None:
    """The sorted codes of the streets holding a place the scenario's edits touch; ``None``
    when it touches the whole district: a radius or target edit, or a place in no street.

    ``facilities`` (points) and ``streets`` (polygons with ``code``) are in EPSG:4326; a
    point on the border of two streets belongs to both.
    """
    if any(edit.kind in DISTRICT_EDITS for edit in scenario.edits):
        return None
    points = _edit_points(scenario, facilities.to_crs(STORAGE_CRS))
    if not points:
        return ()
    shapes = streets.to_crs(STORAGE_CRS)
    tree = shapely.STRtree(shapes.geometry.values)
    geoms = shapely.points(points)
    point_index, street_index = tree.query(geoms, predicate="intersects")
    if set(point_index) != set(range(len(points))):
        return None
    return tuple(sorted({str(code) for code in shapes["code"].iloc[street_index]}))


def save_scope(scenario: Scenario, *, who: Principal, facilities: gpd.GeoDataFrame,
               streets: gpd.GeoDataFrame) -> tuple[str, ...]:
    """The scope a scenario is saved with: :func:`touched_streets` (empty: the whole
    district); a street office's scenario that touches no place yet takes its own streets."""
    scope = touched_streets(scenario, facilities=facilities, streets=streets)
    if scope is None:
        return ()
    if not scope and who.role == "street":
        return who.streets
    return scope
