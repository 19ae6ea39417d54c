"""Tests for geo.data.coords: reference vectors, inverse round-trips in metres, fixtures, errors."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from pyproj import Geod

from geo.data.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.model.errors import InputError

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "coord_vectors.csv"
FORWARD_TOLERANCE_DEG = 1e-6
ROUND_TRIP_TOLERANCE_M = 0.5
GEOD = Geod(ellps="WGS84")

Floats = NDArray[np.float64]
Converter = Callable[[Floats, Floats], tuple[Floats, Floats]]


@pytest.fixture(scope="module")
def vectors() -> dict[str, Floats]:
    """Reference vectors, one float64 array a column (blank BD cells read as NaN)."""
    if not VECTORS.is_file():
        pytest.skip(f"../shared/testdata absent: {VECTORS} not found")
    with VECTORS.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {name: np.array([float(row[name] or "nan") for row in rows]) for name in rows[0]}


@pytest.fixture(scope="module")
def shanghai_grid() -> tuple[Floats, Floats]:
    """A 2-D grid of WGS-84 points over Shanghai, 120.8–122.2 E, 30.6–31.9 N (degrees)."""
    return np.meshgrid(np.linspace(120.8, 122.2, 57), np.linspace(30.6, 31.9, 53))


def _metres_apart(lon1: Floats, lat1: Floats, lon2: Floats, lat2: Floats) -> Floats:
    """Return the WGS-84 geodesic distance, metres, between matching points (degrees)."""
    *_, distance = GEOD.inv(np.ravel(lon1), np.ravel(lat1), np.ravel(lon2), np.ravel(lat2))
    return np.asarray(distance)


# --- reference vectors -------------------------------------------------------------------------


def test_vectors_cover_both_sides_of_the_border(vectors: dict[str, Floats]) -> None:
    assert (vectors["in_china"] == 1).sum() > 0
    assert (vectors["in_china"] == 0).sum() > 0


def test_out_of_china_matches_reference_flag(vectors: dict[str, Floats]) -> None:
    outside = out_of_china(vectors["wgs_lon"], vectors["wgs_lat"])
    np.testing.assert_array_equal(outside, vectors["in_china"] == 0)


def test_wgs84_to_gcj02_matches_reference(vectors: dict[str, Floats]) -> None:
    lon, lat = wgs84_to_gcj02(vectors["wgs_lon"], vectors["wgs_lat"])
    np.testing.assert_allclose(lon, vectors["gcj_lon"], rtol=0, atol=FORWARD_TOLERANCE_DEG)
    np.testing.assert_allclose(lat, vectors["gcj_lat"], rtol=0, atol=FORWARD_TOLERANCE_DEG)


def test_outside_china_passes_through_gcj02_unchanged(vectors: dict[str, Floats]) -> None:
    outside = vectors["in_china"] == 0
    wgs_lon, wgs_lat = vectors["wgs_lon"][outside], vectors["wgs_lat"][outside]
    lon, lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
    np.testing.assert_array_equal(lon, wgs_lon)
    np.testing.assert_array_equal(lat, wgs_lat)
    np.testing.assert_array_equal(vectors["gcj_lon"][outside], wgs_lon)
    np.testing.assert_array_equal(vectors["gcj_lat"][outside], wgs_lat)
    back_lon, back_lat = gcj02_to_wgs84(wgs_lon, wgs_lat)
    np.testing.assert_array_equal(back_lon, wgs_lon)
    np.testing.assert_array_equal(back_lat, wgs_lat)


def test_gcj02_to_bd09_matches_reference_in_china(vectors: dict[str, Floats]) -> None:
    inside = vectors["in_china"] == 1
    lon, lat = gcj02_to_bd09(vectors["gcj_lon"][inside], vectors["gcj_lat"][inside])
    np.testing.assert_allclose(lon, vectors["bd_lon"][inside], rtol=0, atol=FORWARD_TOLERANCE_DEG)
    np.testing.assert_allclose(lat, vectors["bd_lat"][inside], rtol=0, atol=FORWARD_TOLERANCE_DEG)


def test_wgs84_to_bd09_matches_reference_in_china(vectors: dict[str, Floats]) -> None:
    inside = vectors["in_china"] == 1
    lon, lat = wgs84_to_bd09(vectors["wgs_lon"][inside], vectors["wgs_lat"][inside])
    np.testing.assert_allclose(lon, vectors["bd_lon"][inside], rtol=0, atol=FORWARD_TOLERANCE_DEG)
    np.testing.assert_allclose(lat, vectors["bd_lat"][inside], rtol=0, atol=FORWARD_TOLERANCE_DEG)


# --- inverse round-trips, in metres -------------------------------------------------------------


def test_gcj02_to_wgs84_recovers_reference_within_half_metre(vectors: dict[str, Floats]) -> None:
    lon, lat = gcj02_to_wgs84(vectors["gcj_lon"], vectors["gcj_lat"])
    error = _metres_apart(lon, lat, vectors["wgs_lon"], vectors["wgs_lat"])
    assert error.max() < ROUND_TRIP_TOLERANCE_M


def test_bd09_to_wgs84_recovers_reference_within_half_metre(vectors: dict[str, Floats]) -> None:
    inside = vectors["in_china"] == 1
    lon, lat = bd09_to_wgs84(vectors["bd_lon"][inside], vectors["bd_lat"][inside])
    error = _metres_apart(lon, lat, vectors["wgs_lon"][inside], vectors["wgs_lat"][inside])
    assert error.max() < ROUND_TRIP_TOLERANCE_M


def test_bd09_to_gcj02_recovers_reference_within_half_metre(vectors: dict[str, Floats]) -> None:
    inside = vectors["in_china"] == 1
    lon, lat = bd09_to_gcj02(vectors["bd_lon"][inside], vectors["bd_lat"][inside])
    error = _metres_apart(lon, lat, vectors["gcj_lon"][inside], vectors["gcj_lat"][inside])
    assert error.max() < ROUND_TRIP_TOLERANCE_M


def test_gcj02_round_trip_over_shanghai(shanghai_grid: tuple[Floats, Floats]) -> None:
    lon, lat = shanghai_grid
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert _metres_apart(back_lon, back_lat, lon, lat).max() < ROUND_TRIP_TOLERANCE_M


def test_bd09_round_trip_over_shanghai(shanghai_grid: tuple[Floats, Floats]) -> None:
    lon, lat = shanghai_grid
    back_lon, back_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert _metres_apart(back_lon, back_lat, lon, lat).max() < ROUND_TRIP_TOLERANCE_M
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    back_lon, back_lat = bd09_to_gcj02(*gcj02_to_bd09(gcj_lon, gcj_lat))
    assert _metres_apart(back_lon, back_lat, gcj_lon, gcj_lat).max() < ROUND_TRIP_TOLERANCE_M


# --- hand-written fixtures ----------------------------------------------------------------------

PARIS = (2.35, 48.85)
SHANGHAI = (121.4, 31.2)


def test_point_outside_china_is_unchanged() -> None:
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84):
        lon, lat = convert(*PARIS)
        assert (float(lon), float(lat)) == PARIS
    assert bool(out_of_china(*PARIS))
    assert not bool(out_of_china(*SHANGHAI))


def test_scalars_give_zero_d_float64_arrays() -> None:
    lon, lat = wgs84_to_gcj02(*SHANGHAI)
    assert isinstance(lon, np.ndarray) and lon.shape == () and lon.dtype == np.float64
    assert isinstance(lat, np.ndarray) and lat.shape == () and lat.dtype == np.float64
    assert float(lon) != SHANGHAI[0] and float(lat) != SHANGHAI[1]


def test_to_wgs84_mixed_crs_matches_individual_functions() -> None:
    lon = np.full(3, SHANGHAI[0])
    lat = np.full(3, SHANGHAI[1])
    got_lon, got_lat = to_wgs84(lon, lat, ["wgs84", "gcj02", "bd09"])
    expected = [SHANGHAI, gcj02_to_wgs84(*SHANGHAI), bd09_to_wgs84(*SHANGHAI)]
    np.testing.assert_array_equal(got_lon, [float(e[0]) for e in expected])
    np.testing.assert_array_equal(got_lat, [float(e[1]) for e in expected])
    assert got_lon[0] != got_lon[1] != got_lon[2]


def test_to_wgs84_single_crs_applies_to_all() -> None:
    lon, lat = np.array([121.4, 121.5]), np.array([31.2, 31.3])
    got = to_wgs84(lon, lat, "gcj02")
    expected = gcj02_to_wgs84(lon, lat)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_to_wgs84_leaves_inputs_untouched() -> None:
    lon, lat = np.array([121.4, 121.5]), np.array([31.2, 31.3])
    to_wgs84(lon, lat, ["gcj02", "bd09"])
    np.testing.assert_array_equal(lon, [121.4, 121.5])
    np.testing.assert_array_equal(lat, [31.2, 31.3])


@pytest.mark.parametrize(
    "convert",
    [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84],
)
def test_two_d_shape_is_preserved(convert: Converter) -> None:
    lon, lat = np.meshgrid(np.linspace(121.0, 122.0, 4), np.linspace(31.0, 31.5, 3))
    out_lon, out_lat = convert(lon, lat)
    assert out_lon.shape == out_lat.shape == (3, 4)
    assert out_lon.dtype == out_lat.dtype == np.float64


def test_to_wgs84_two_d_shape_is_preserved() -> None:
    lon, lat = np.meshgrid(np.linspace(121.0, 122.0, 4), np.linspace(31.0, 31.5, 3))
    crs = np.array([["wgs84", "gcj02", "bd09", "gcj02"]] * 3)
    out_lon, out_lat = to_wgs84(lon, lat, crs)
    assert out_lon.shape == out_lat.shape == (3, 4)
    np.testing.assert_array_equal(out_lon[:, 0], lon[:, 0])
    # The iteration stops on the batch's largest step, so a subset may differ by ~1e-13 degrees.
    expected = gcj02_to_wgs84(lon[:, 1], lat[:, 1])[0]
    np.testing.assert_allclose(out_lon[:, 1], expected, rtol=0, atol=1e-12)


# --- errors -------------------------------------------------------------------------------------


def test_to_wgs84_unknown_crs_raises_input_error_naming_it() -> None:
    with pytest.raises(InputError, match=r"unknown crs value\(s\) 'utm'"):
        to_wgs84([121.4], [31.2], ["utm"])


def test_to_wgs84_lists_every_bad_value() -> None:
    with pytest.raises(InputError, match=r"'WGS84'.*'utm'"):
        to_wgs84([121.4, 121.4, 121.4], [31.2, 31.2, 31.2], ["utm", "gcj02", "WGS84"])


def test_to_wgs84_crs_of_wrong_length_raises_input_error() -> None:
    with pytest.raises(InputError, match="does not match"):
        to_wgs84([121.4, 121.5], [31.2, 31.3], ["gcj02", "bd09", "wgs84"])
