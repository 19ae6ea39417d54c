"""Conversions between WGS-84, GCJ-02 and BD-09 longitude/latitude, vectorised over numpy arrays.

All angles are degrees. Every public function accepts scalars or array-likes of any (broadcastable)
shape and returns a tuple ``(lon, lat)`` of float64 ``np.ndarray`` of the broadcast shape; scalars
in give 0-d arrays out. GCJ-02 is offset from WGS-84 only inside a rectangle around China
(:func:`out_of_china`); points outside it pass through WGS-84 ↔ GCJ-02 unchanged. The inverses
(GCJ-02 → WGS-84, BD-09 → GCJ-02) are solved by fixed-point iteration to about 1e-10 degrees.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.model.errors import InputError

__all__ = [
    "CRS_NAMES",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

Floats = NDArray[np.float64]
LonLat = tuple[Floats, Floats]

CRS_NAMES: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

_KRASOVSKY_A = 6378245.0  # semi-major axis, metres
_KRASOVSKY_EE = 0.00669342162296594323  # first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006
_TOLERANCE_DEG = 1e-10
_MAX_ITERATIONS = 30


def _as_lonlat(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Return ``lon`` and ``lat`` as float64 arrays broadcast to one shape."""
    lon_arr, lat_arr = np.broadcast_arrays(np.asarray(lon, dtype=float),
                                           np.asarray(lat, dtype=float))
    return lon_arr.copy(), lat_arr.copy()


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return True where a point (degrees) lies outside the rectangle where GCJ-02 is offset."""
    lon_arr, lat_arr = _as_lonlat(lon, lat)
    return (lon_arr < 72.004) | (lon_arr > 137.8347) | (lat_arr < 0.8293) | (lat_arr > 55.8271)


def _sine_terms(x: Floats) -> Floats:
    """Return the sine terms of ``x = lon - 105`` (degrees) shared by both offset polynomials."""
    return (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0


def _transform_lat(x: Floats, y: Floats) -> Floats:
    """Return the raw latitude offset for ``x = lon - 105``, ``y = lat - 35`` (degrees)."""
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += _sine_terms(x)
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: Floats, y: Floats) -> Floats:
    """Return the raw longitude offset for ``x = lon - 105``, ``y = lat - 35`` (degrees)."""
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += _sine_terms(x)
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS-84 to GCJ-02 (degrees in, degrees out); points outside China are unchanged."""
    lon_arr, lat_arr = _as_lonlat(lon, lat)
    x, y = lon_arr - 105.0, lat_arr - 35.0
    rad_lat = np.radians(lat_arr)
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    meridian = _KRASOVSKY_A * (1.0 - _KRASOVSKY_EE) / (magic * sqrt_magic)
    parallel = _KRASOVSKY_A / sqrt_magic * np.cos(rad_lat)
    dlat = _transform_lat(x, y) * 180.0 / (meridian * np.pi)
    dlon = _transform_lon(x, y) * 180.0 / (parallel * np.pi)
    inside = ~out_of_china(lon_arr, lat_arr)
    return (np.where(inside, lon_arr + dlon, lon_arr), np.where(inside, lat_arr + dlat, lat_arr))


def _largest_finite(values: Floats) -> float:
    """Return the largest finite absolute value in ``values``, 0 when there is none."""
    return float(np.max(np.abs(values), initial=0.0, where=np.isfinite(values)))


def _invert(forward: Callable[[Floats, Floats], LonLat], lon: Floats, lat: Floats, *,
            start: LonLat) -> LonLat:
    """Solve ``forward(x) == (lon, lat)`` for x by fixed-point iteration from ``start``.

    Stops when no coordinate moves by more than ``_TOLERANCE_DEG`` degrees, or after
    ``_MAX_ITERATIONS`` steps.
    """
    x_lon, x_lat = start
    for _ in range(_MAX_ITERATIONS):
        f_lon, f_lat = forward(x_lon, x_lat)
        step_lon, step_lat = f_lon - lon, f_lat - lat
        x_lon, x_lat = x_lon - step_lon, x_lat - step_lat
        if max(_largest_finite(step_lon), _largest_finite(step_lat)) < _TOLERANCE_DEG:
            break
    return x_lon, x_lat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 to WGS-84 (degrees), iterating to about 1e-10 degrees.

    Points outside China are unchanged.
    """
    lon_arr, lat_arr = _as_lonlat(lon, lat)
    return _invert(wgs84_to_gcj02, lon_arr, lat_arr, start=(lon_arr, lat_arr))


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 to BD-09 (degrees in, degrees out)."""
    x, y = _as_lonlat(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def _bd09_to_gcj02_approx(lon: Floats, lat: Floats) -> LonLat:
    """Return the usual one-step BD-09 → GCJ-02 inverse (degrees), good to about 1e-5 degrees."""
    x, y = lon - _BD_DLON, lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 to GCJ-02 (degrees), refining the one-step inverse to about 1e-10 degrees."""
    lon_arr, lat_arr = _as_lonlat(lon, lat)
    start = _bd09_to_gcj02_approx(lon_arr, lat_arr)
    return _invert(gcj02_to_bd09, lon_arr, lat_arr, start=start)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS-84 to BD-09 (degrees), through GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 to WGS-84 (degrees), through GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84: dict[str, Callable[[Floats, Floats], LonLat]] = {
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: ArrayLike) -> LonLat:
    """Convert points given in mixed coordinate systems to WGS-84 (degrees).

    Parameters
    ----------
    lon, lat
        Longitude and latitude, degrees.
    crs
        One of ``"wgs84"``, ``"gcj02"``, ``"bd09"`` (exact, lower case) per point, or a single
        string for all points; broadcast against ``lon`` and ``lat``.

    Returns
    -------
    tuple of np.ndarray
        WGS-84 longitude and latitude, degrees, float64, of the broadcast shape.

    Raises
    ------
    InputError
        When a ``crs`` value is not one of :data:`CRS_NAMES` (the message names every bad value),
        or ``crs`` does not broadcast against the coordinates.
    """
    lon_arr, lat_arr = _as_lonlat(lon, lat)
    crs_arr = np.asarray(crs, dtype=object)
    try:
        crs_arr = np.broadcast_to(crs_arr, lon_arr.shape)
    except ValueError as exc:
        raise InputError(f"crs of shape {crs_arr.shape} does not match coordinates of shape "
                         f"{lon_arr.shape}") from exc
    known = np.isin(crs_arr, CRS_NAMES)
    if not known.all():
        bad = sorted({repr(value) for value in crs_arr[~known]})
        raise InputError(f"unknown crs value(s) {', '.join(bad)}; expected one of "
                         f"{', '.join(CRS_NAMES)}")
    for name, convert in _TO_WGS84.items():
        mask = crs_arr == name
        if mask.any():
            lon_arr[mask], lat_arr[mask] = convert(lon_arr[mask], lat_arr[mask])
    return lon_arr, lat_arr
