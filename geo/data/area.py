"""The study area: the streets grown by a margin, where facilities may lie (one just across the
border still serves the streets). Imports, scenario edits and coverage inputs are checked
against it."""

from __future__ import annotations

import geopandas as gpd
import shapely

from geo.model.config import METRIC_CRS, STORAGE_CRS
from geo.model.targets import Targets

__all__ = ["placement_area", "study_area"]


def study_area(streets: gpd.GeoDataFrame, *, margin_m: float) -> shapely.Geometry:
    """The streets' union grown by ``margin_m`` metres, in EPSG:4326: where a facility may be
    placed."""
    metric = shapely.union_all(streets.to_crs(METRIC_CRS).geometry.to_numpy())
    grown = gpd.GeoSeries([metric.buffer(margin_m)], crs=METRIC_CRS).to_crs(STORAGE_CRS)
    return grown.iloc[0]


def placement_area(streets: gpd.GeoDataFrame, targets: Targets) -> shapely.Geometry:
    """Where a scenario may place facilities: the streets grown by the largest radius."""
    return study_area(streets, margin_m=max(targets[k].radius_m for k in targets.keys()))
