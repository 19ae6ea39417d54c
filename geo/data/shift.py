"""Shift WGS-84 geometries and bounds to GCJ-02, for drawing on GCJ-02 tiles (e.g. AMap/Gaode).

GCJ-02 has no EPSG code, so shifted frames keep the label ``EPSG:4326`` although their
coordinates are GCJ-02 longitude/latitude (degrees). Use them only for drawing on GCJ-02 tiles;
never measure, join or store them as WGS-84 data. No streamlit or folium here.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from geo.data.coords import wgs84_to_gcj02
from geo.model.config import STORAGE_CRS
from geo.model.errors import InputError

__all__ = ["shift_bounds_to_gcj02", "shift_geometries_to_gcj02"]

#: Point columns shifted along with the geometry, when a frame has both.
LON_COLUMN, LAT_COLUMN = "lon", "lat"


def _check_wgs84(gdf: gpd.GeoDataFrame) -> None:
    """Raise :class:`InputError` unless ``gdf`` is labelled EPSG:4326 (WGS-84 degrees)."""
    if gdf.crs is None:
        raise InputError(f"cannot shift to GCJ-02: the frame has no CRS; expected {STORAGE_CRS}")
    if not CRS.from_user_input(gdf.crs).equals(STORAGE_CRS, ignore_axis_order=True):
        name = gdf.crs.to_string()
        raise InputError(f"cannot shift to GCJ-02: the frame's CRS is {name}, expected "
                         f"{STORAGE_CRS} (WGS-84 longitude/latitude)")


def _shift_xy(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return an (n, 2) array of WGS-84 lon/lat (degrees) moved to GCJ-02 lon/lat (degrees)."""
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def shift_geometries_to_gcj02(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of a WGS-84 frame with every coordinate moved to GCJ-02, for AMap tiles.

    Every vertex of every geometry (points, lines, polygons with their holes, multi-parts and
    collections) is moved by :func:`geo.data.coords.wgs84_to_gcj02`; so are the ``lon``/``lat``
    columns when the frame has both. Points outside China are unchanged.

    Parameters
    ----------
    gdf
        A GeoDataFrame in EPSG:4326: WGS-84 longitude/latitude, degrees. Not modified.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy whose coordinates are GCJ-02 longitude/latitude (degrees). Its CRS label stays
        EPSG:4326 because GCJ-02 has no EPSG code: the result is only for drawing on GCJ-02
        tiles such as AMap, never for measuring or storing.

    Raises
    ------
    InputError
        When the frame's CRS is missing or is not EPSG:4326 (the message names it).
    """
    _check_wgs84(gdf)
    out = gdf.copy()
    geoms = shapely.transform(gdf.geometry.to_numpy(), _shift_xy)
    out[gdf.geometry.name] = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
    if LON_COLUMN in out.columns and LAT_COLUMN in out.columns:
        lon, lat = wgs84_to_gcj02(out[LON_COLUMN].to_numpy(dtype=float),
                                  out[LAT_COLUMN].to_numpy(dtype=float))
        out[LON_COLUMN], out[LAT_COLUMN] = lon, lat
    return out


def shift_bounds_to_gcj02(bounds: tuple[float, float, float, float],
                          ) -> tuple[float, float, float, float]:
    """Return WGS-84 bounds moved to GCJ-02: the box around the four shifted corners.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)``: WGS-84 longitude/latitude, degrees.

    Returns
    -------
    tuple of float
        ``(minx, miny, maxx, maxy)``: GCJ-02 longitude/latitude, degrees, for fitting a map
        drawn on GCJ-02 tiles.
    """
    minx, miny, maxx, maxy = bounds
    lon, lat = wgs84_to_gcj02([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())
