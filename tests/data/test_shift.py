from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo.data.coords import wgs84_to_gcj02
from geo.data.shift import shift_bounds_to_gcj02, shift_geometries_to_gcj02
from geo.model.errors import InputError

GEOD = Geod(ellps="WGS84")
#: A point in Changning, WGS-84 degrees.
CHANGNING = (121.4135, 31.2155)


def _polygon_with_hole() -> shapely.Polygon:
    return shapely.Polygon(
        [(121.40, 31.20), (121.43, 31.20), (121.43, 31.23), (121.40, 31.23)],
        holes=[[(121.41, 31.21), (121.42, 31.21), (121.42, 31.22), (121.41, 31.22)]])


def _multipolygon() -> shapely.MultiPolygon:
    return shapely.MultiPolygon([shapely.box(121.36, 31.19, 121.37, 31.20),
                                 shapely.box(121.38, 31.21, 121.39, 31.22)])


def _frame() -> gpd.GeoDataFrame:
    geoms = [shapely.Point(CHANGNING), _polygon_with_hole(), _multipolygon(),
             shapely.LineString([(121.40, 31.19), (121.44, 31.24)])]
    return gpd.GeoDataFrame({"lon": [121.4135, 121.40, 121.36, 121.40],
                             "lat": [31.2155, 31.20, 31.19, 31.19]},
                            geometry=geoms, crs="EPSG:4326")


def _expected(geom: shapely.Geometry) -> np.ndarray:
    coords = shapely.get_coordinates(geom)
    return np.column_stack(wgs84_to_gcj02(coords[:, 0], coords[:, 1]))


def test_every_coordinate_moves_like_wgs84_to_gcj02():
    frame = _frame()
    shifted = shift_geometries_to_gcj02(frame)
    for before, after in zip(frame.geometry, shifted.geometry, strict=True):
        assert after.geom_type == before.geom_type
        np.testing.assert_allclose(shapely.get_coordinates(after), _expected(before),
                                   rtol=0, atol=1e-12)


def test_holes_and_parts_are_kept_and_shifted():
    shifted = shift_geometries_to_gcj02(_frame())
    polygon, multi = shifted.geometry.iloc[1], shifted.geometry.iloc[2]
    assert len(polygon.interiors) == 1
    np.testing.assert_allclose(np.asarray(polygon.interiors[0].coords),
                               _expected(_polygon_with_hole().interiors[0]), rtol=0, atol=1e-12)
    assert len(multi.geoms) == 2
    np.testing.assert_allclose(shapely.get_coordinates(multi.geoms[1]),
                               _expected(_multipolygon().geoms[1]), rtol=0, atol=1e-12)


def test_lon_lat_columns_are_shifted():
    frame = _frame()
    shifted = shift_geometries_to_gcj02(frame)
    lon, lat = wgs84_to_gcj02(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    np.testing.assert_allclose(shifted["lon"].to_numpy(), lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(shifted["lat"].to_numpy(), lat, rtol=0, atol=1e-12)


def test_input_frame_is_untouched_and_crs_label_kept():
    frame = _frame()
    before = frame.copy()
    shifted = shift_geometries_to_gcj02(frame)
    assert frame.geometry.geom_equals_exact(before.geometry, tolerance=0).all()
    assert frame[["lon", "lat"]].equals(before[["lon", "lat"]])
    assert shifted.crs == frame.crs == "EPSG:4326"
    assert shifted.index.equals(frame.index)


def test_changning_point_moves_about_half_a_kilometre():
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(CHANGNING)], crs="EPSG:4326")
    moved = shift_geometries_to_gcj02(frame).geometry.iloc[0]
    _, _, distance = GEOD.inv(CHANGNING[0], CHANGNING[1], moved.x, moved.y)
    assert 450 < distance < 700


def test_bounds_are_the_box_around_the_shifted_corners():
    bounds = (121.39, 31.19, 121.42, 31.22)
    lon, lat = wgs84_to_gcj02([121.39, 121.42, 121.39, 121.42], [31.19, 31.19, 31.22, 31.22])
    expected = (lon.min(), lat.min(), lon.max(), lat.max())
    np.testing.assert_allclose(shift_bounds_to_gcj02(bounds), expected, rtol=0, atol=1e-12)
    minx, miny, maxx, maxy = shift_bounds_to_gcj02(bounds)
    assert minx < maxx and miny < maxy


def test_non_wgs84_frame_is_rejected():
    frame = _frame().to_crs("EPSG:32651")
    with pytest.raises(InputError, match="EPSG:32651"):
        shift_geometries_to_gcj02(frame)


def test_frame_without_crs_is_rejected():
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(CHANGNING)])
    with pytest.raises(InputError, match="no CRS"):
        shift_geometries_to_gcj02(frame)
