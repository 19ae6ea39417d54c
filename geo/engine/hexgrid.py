"""All H3 work in one place: the cell grid of each street, cell centres, cell polygons.

Frames are indexed by the H3 id (hex string); the engine's arrays (:class:`Grid`) use the int64
id. Cell centres are WGS-84 degrees, and metres in the metric CRS (UTM 51N). The grid of a set
of boundaries at a resolution is computed once per process (vectorised: h3ronpy's polyfill and
cell centres) and reused while the boundaries and the resolution stay the same.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from h3ronpy import cells_parse, cells_to_string
from h3ronpy.vector import (
    ContainmentMode,
    cells_to_coordinates,
    cells_to_wkb_polygons,
    coordinates_to_cells,
    wkb_to_cells,
)
from pyproj import Transformer
from scipy.spatial import cKDTree

from geo.model.config import MAX_RESOLUTION, METRIC_CRS, MIN_RESOLUTION, STORAGE_CRS
from geo.model.errors import InputError

__all__ = [
    "Grid",
    "cell_area_km2",
    "cell_areas_km2",
    "cell_polygons",
    "cells_area_km2",
    "cells_of_points",
    "cells_outline",
    "metric_xy",
    "spread_over_cells",
    "spread_population",
    "street_cells",
    "street_grid",
    "validate_resolution",
]

#: Grids kept in memory, most recently used last, and the most cells they may hold together
#: (the newest grid is kept whatever its size; 1M cells take about 150 MB with their KD-tree).
GRID_CACHE_SIZE = 4
GRID_CACHE_CELLS = 8_000_000
#: Cells are grouped by their ancestor this many resolutions up (49 cells) for the nearest
#: facility search (see :mod:`geo.engine.incremental`).
BLOCK_LEVELS = 2


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


@cache
def _to_metric() -> Transformer:
    return Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True)


def metric_xy(lon: Any, lat: Any) -> np.ndarray:
    """(n, 2) metres in the metric CRS (UTM 51N) for WGS-84 degrees."""
    x, y = _to_metric().transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.column_stack([x, y])


@dataclass(frozen=True, eq=False)
class Grid:
    """The cells of a set of streets at one resolution, as arrays in ascending H3 id order.

    ``ids``: H3 ids (uint64); ``street``: position of each cell's street in ``codes`` (the
    boundaries' order); ``lon``/``lat``: cell centres in WGS-84 degrees; ``xy``: the same in
    metres (UTM 51N); ``frame``: what :func:`street_cells` returns. Arrays are read-only: a grid
    is shared by every run on the same boundaries and resolution.
    """

    resolution: int
    codes: np.ndarray
    ids: np.ndarray
    street: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    xy: np.ndarray
    frame: pd.DataFrame

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def blocks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Runs of cells sharing their ancestor ``BLOCK_LEVELS`` resolutions up: the first
        position of each run, its centre (mean of the cells' ``xy``, metres) and its radius (the
        largest distance from that centre to one of its cells, metres)."""
        if len(self.ids) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 2)), np.zeros(0)
        # the 3-bit digit of resolution r sits at bit 3 * (15 - r)
        parent = self.ids >> np.uint64(3 * (15 - self.resolution + BLOCK_LEVELS))
        starts = np.flatnonzero(np.r_[True, parent[1:] != parent[:-1]])
        counts = np.diff(np.r_[starts, len(parent)])
        centres = np.add.reduceat(self.xy, starts, axis=0) / counts[:, None]
        offset = self.xy - np.repeat(centres, counts, axis=0)
        radius = np.sqrt(np.maximum.reduceat((offset ** 2).sum(axis=1), starts))
        return starts, centres, radius

    @cached_property
    def by_street(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell positions ordered by street (ascending within each) and where each street's
        run starts and ends: the cells of street ``s`` are ``order[bounds[s]:bounds[s + 1]]``."""
        order = np.argsort(self.street, kind="stable")
        bounds = np.searchsorted(self.street[order], np.arange(len(self.codes) + 1))
        return order, bounds

    @cached_property
    def tree(self) -> cKDTree:
        """KD-tree of the cell centres in metres, for edits touching the cells near a point."""
        return cKDTree(self.xy)


def _fingerprint(streets: gpd.GeoDataFrame) -> str:
    """A digest of the street codes and geometries, in the frame's order."""
    digest = hashlib.blake2b(digest_size=16)
    for code in streets["code"].astype(str):
        digest.update(code.encode() + b"\0")
    for wkb in shapely.to_wkb(streets.geometry.to_numpy(), hex=False):
        digest.update(wkb)
    return digest.hexdigest()


def _hex_ids(ids: np.ndarray) -> pd.Index:
    """Hex-string H3 ids for uint64 ids."""
    strings = pa.array(cells_to_string(pa.array(ids, type=pa.uint64())))
    return pd.Index(strings.to_pandas(), name="cell", dtype="str")


def _build_grid(streets: gpd.GeoDataFrame, resolution: int) -> Grid:
    codes = streets["code"].to_numpy()
    order = np.argsort(codes.astype(str), kind="stable")
    wkb = shapely.to_wkb(streets.geometry.to_numpy()[order])
    cells = pa.array(wkb_to_cells(pa.array(wkb, type=pa.binary()), resolution,
                                  containment_mode=ContainmentMode.ContainsCentroid))
    flat = np.asarray(cells.flatten(), dtype=np.uint64)
    lengths = np.diff(np.asarray(cells.offsets))
    # np.unique keeps a cell's first occurrence: the street with the lowest code.
    ids, first = np.unique(flat, return_index=True)
    street = order[np.repeat(np.arange(len(order)), lengths)[first]].astype(np.int32)
    if len(ids):
        centres = pa.record_batch(cells_to_coordinates(pa.array(ids, type=pa.uint64())))
        lat = np.asarray(centres.column("lat"), dtype=float)
        lon = np.asarray(centres.column("lng"), dtype=float)
    else:
        lat = lon = np.zeros(0)
    xy = metric_xy(lon, lat)
    frame = pd.DataFrame({"code": pd.array(codes.astype(str), dtype="str").take(street),
                          "lon": lon, "lat": lat}, index=_hex_ids(ids))
    for array in (ids, street, lon, lat, xy):
        array.flags.writeable = False
    return Grid(resolution=resolution, codes=codes, ids=ids, street=street, lon=lon, lat=lat,
                xy=xy, frame=frame)


class _GridCache:
    """The last ``size`` grids (``cells`` cells at most), keyed by (boundaries fingerprint,
    resolution); safe to share between threads (Streamlit sessions)."""

    def __init__(self, size: int, cells: int) -> None:
        self.size, self.cells = size, cells
        self.grids: OrderedDict[tuple[str, int], Grid] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, streets: gpd.GeoDataFrame, resolution: int) -> Grid:
        key = (_fingerprint(streets), resolution)
        with self.lock:
            if key in self.grids:
                self.grids.move_to_end(key)
                return self.grids[key]
            grid = self.grids[key] = _build_grid(streets, resolution)
            while len(self.grids) > 1 and (len(self.grids) > self.size or sum(
                    len(g) for g in self.grids.values()) > self.cells):
                self.grids.popitem(last=False)
            return grid

    def clear(self) -> None:
        with self.lock:
            self.grids.clear()


_GRIDS = _GridCache(GRID_CACHE_SIZE, GRID_CACHE_CELLS)


def street_grid(streets: gpd.GeoDataFrame, *, resolution: int, cached: bool = True) -> Grid:
    """The cells of ``streets`` at ``resolution`` as a :class:`Grid`.

    Parameters
    ----------
    streets
        Street polygons in EPSG:4326 with a unique ``code``.
    resolution
        H3 resolution, 7–12.
    cached
        Reuse the grid of the same boundaries (codes and geometries, in the same order) and
        resolution computed earlier in this process; False always recomputes it.

    Raises
    ------
    InputError
        When the resolution is outside 7–12 or the streets are not in EPSG:4326.
    """
    resolution = validate_resolution(resolution)
    if streets.crs is None or not streets.crs.equals(STORAGE_CRS):
        raise InputError(f"streets must be in {STORAGE_CRS}, got {streets.crs}")
    if not cached:
        return _build_grid(streets, resolution)
    return _GRIDS.get(streets, resolution)


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
    DataFrame indexed by ``cell`` (H3 id, hex string; ascending) with ``code`` (the street's)
    and ``lon``/``lat`` of the cell centre in WGS-84 degrees. A cell whose centre lies exactly
    on a shared border goes to the street with the lowest code, so every cell has exactly one
    street. A copy: changing it does not change the cached grid.
    """
    return street_grid(streets, resolution=resolution).frame.copy(deep=False)


def spread_population(cells: pd.DataFrame, streets: gpd.GeoDataFrame) -> pd.Series:
    """Each cell's residents: its street's population spread evenly over the street's cells.

    NaN where the street's population is unknown. A per-cell population (e.g. from a census
    grid) can replace this Series: the coverage functions only read ``cells["population"]``.
    """
    street = pd.Index(streets["code"]).get_indexer(cells["code"])
    return pd.Series(spread_over_cells(street, streets["population"].to_numpy(dtype=float)),
                     index=cells.index, name="population")


def spread_over_cells(street: np.ndarray, population: np.ndarray) -> np.ndarray:
    """:func:`spread_population` on arrays: each cell's street (position in ``population``,
    the residents of each street) → each cell's residents (NaN where unknown)."""
    counts = np.bincount(street, minlength=len(population))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (population / counts)[street]


def cells_of_points(lon: np.ndarray, lat: np.ndarray, *, resolution: int) -> np.ndarray:
    """The H3 cell (uint64 id, as :attr:`Grid.ids`) containing each WGS-84 point (degrees) at
    ``resolution``; 0 for a point that is not a longitude/latitude."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    good = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    out = np.zeros(len(lon), dtype=np.uint64)
    if good.any():
        cells = pa.array(coordinates_to_cells(pa.array(lat[good]), pa.array(lon[good]),
                                              validate_resolution(resolution)))
        out[good] = np.asarray(cells.to_numpy(zero_copy_only=False), dtype=np.uint64)
    return out


def cell_polygons(cells: pd.Index | list[str]) -> gpd.GeoSeries:
    """Hexagon polygons of the given cells (hex H3 ids) in EPSG:4326, indexed by cell id
    (vectorised: h3ronpy's WKB polygons, about 2 µs a cell)."""
    index = pd.Index(cells, name="cell")
    if len(index) == 0:
        return gpd.GeoSeries([], index=index, crs=STORAGE_CRS)
    ids = cells_parse(pa.array(index.astype(str).array))
    wkb = pa.array(cells_to_wkb_polygons(ids)).to_numpy(zero_copy_only=False)
    return gpd.GeoSeries(shapely.from_wkb(wkb), index=index, crs=STORAGE_CRS)


def cells_outline(cells: pd.Index | list[str]) -> shapely.Geometry:
    """The outline of a set of cells (hex H3 ids) in EPSG:4326: one polygon or multipolygon,
    holes kept, no inner edges."""
    ids = [str(c) for c in cells]
    if not ids:
        return shapely.Polygon()
    return shapely.geometry.shape(h3.cells_to_h3shape(ids).__geo_interface__)


def cell_area_km2(resolution: int) -> float:
    """The average area of an H3 cell at ``resolution``, in km²."""
    return float(h3.average_hexagon_area(validate_resolution(resolution), "km^2"))


def cell_areas_km2(cells: pd.Index | list[str] | pd.Series) -> np.ndarray:
    """Each cell's area in km² (hex H3 ids; measured in the metric CRS)."""
    polygons = cell_polygons(pd.Index(cells))
    return polygons.to_crs(METRIC_CRS).area.to_numpy() / 1e6 if len(polygons) else np.zeros(0)


def cells_area_km2(cells: pd.Index | list[str]) -> float:
    """The exact total area of the given cells in km² (measured in the metric CRS)."""
    polygons = cell_polygons(cells)
    return float(polygons.to_crs(METRIC_CRS).area.sum() / 1e6) if len(polygons) else 0.0

