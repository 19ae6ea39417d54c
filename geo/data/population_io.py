"""Reading population layers: polygons or points with residents (GeoJSON, GeoPackage,
Shapefile, also zipped) and GeoTIFF population grids (GHSL, WorldPop).

Every row or pixel is accepted, rejected with the reason (the whole file then, naming the row
and field), or counted as ignored with the reason (no value, no geometry, a line, nodata). How
the values reach the cells is :mod:`geo.engine.population`.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.data.files import user_file
from geo.data.io import read_vector_file
from geo.engine.population import PopulationLayer
from geo.model.config import STORAGE_CRS
from geo.model.errors import InputError, raise_if_problems

__all__ = [
    "DEFAULT_POPULATION_FIELD",
    "RASTER_SUFFIXES",
    "population_bytes",
    "population_from_bytes",
    "read_population",
]

WHAT = "population layer"
DEFAULT_POPULATION_FIELD = "population"
RASTER_SUFFIXES = {".tif", ".tiff"}
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
POLYGON_TYPES = {"Polygon", "MultiPolygon"}
POINT_TYPES = {"Point", "MultiPoint"}
#: Problems listed one by one before the rest are counted.
MAX_LISTED = 20


def read_population(path: str | Path, *, field: str | None = None,
                    elderly_field: str | None = None) -> PopulationLayer:
    """Read a population layer.

    Parameters
    ----------
    path
        Polygons or points (GeoJSON, GeoPackage, Shapefile; any defined CRS), or a GeoTIFF
        population grid (one value a pixel: residents).
    field
        The residents field of a vector layer (default ``population``).
    elderly_field
        The 60+ residents field of a vector layer (optional; not for a GeoTIFF).

    Raises
    ------
    InputError
        Naming the file, and the row and field, for: a missing field, a value that is not a
        number of residents ≥ 0, no CRS, an unreadable file or a format not accepted.
    """
    path = Path(path)
    if path.suffix.lower() in RASTER_SUFFIXES:
        if elderly_field:
            raise InputError(f"{WHAT} {path}: --elderly-field names a field of a vector layer; "
                             "a GeoTIFF holds residents only")
        return read_raster_population(path)
    return read_vector_population(path, field=field or DEFAULT_POPULATION_FIELD,
                                  elderly_field=elderly_field)


def read_vector_population(path: Path, *, field: str,
                           elderly_field: str | None) -> PopulationLayer:
    """Polygons and points with residents (see :func:`read_population`)."""
    label = f"{WHAT} {path}"
    frame = read_vector_file(path, what=WHAT)
    fields = [f for f in (field, elderly_field) if f]
    raise_if_problems([f"no field {f!r} (fields: {', '.join(map(str, _columns(frame))) or 'none'})"
                       for f in fields if f not in frame.columns], context=label)
    if frame.crs is None:
        raise InputError(f"{label}: no CRS; cannot place the residents")
    ignored: Counter[str] = Counter()
    residents = _values(frame, field, label=label)
    elderly = (_values(frame, elderly_field, label=label) if elderly_field
               else pd.Series(np.nan, index=frame.index))
    geometry = frame.geometry
    no_shape = (geometry.isna() | geometry.is_empty).to_numpy()
    kind = geometry.geom_type.to_numpy(dtype=object)
    line = ~no_shape & ~np.isin(kind, list(POLYGON_TYPES | POINT_TYPES))
    no_value = residents.isna().to_numpy() & ~no_shape & ~line
    ignored.update({"rows without a geometry": int(no_shape.sum()),
                    "rows that are not polygons or points (lines hold no residents)":
                        int(line.sum()),
                    f"rows without a {field!r} value": int(no_value.sum())})
    keep = ~(no_shape | line | no_value)
    if elderly_field:
        missing_elderly = keep & elderly.isna().to_numpy()
        ignored[f"rows without a {elderly_field!r} value (counted as 0 aged 60+)"] = int(
            missing_elderly.sum())
    table = gpd.GeoDataFrame({"residents": residents.to_numpy(dtype=float),
                              "elderly": elderly.fillna(0.0).to_numpy(dtype=float)
                              if elderly_field else np.full(len(frame), np.nan)},
                             geometry=geometry.to_numpy(), crs=frame.crs)[keep].to_crs(STORAGE_CRS)
    areas = table.geom_type.isin(list(POLYGON_TYPES)).to_numpy()
    polygons = table[areas].copy()
    polygons["geometry"] = shapely.make_valid(polygons.geometry.to_numpy())
    points = _points_of(table[~areas])
    return PopulationLayer(polygons=polygons.reset_index(drop=True), points=points,
                           has_elderly=bool(elderly_field), source=str(path),
                           ignored={k: v for k, v in ignored.items() if v})


def _columns(frame: gpd.GeoDataFrame) -> list[str]:
    return [c for c in frame.columns if c != frame.geometry.name]


def _values(frame: gpd.GeoDataFrame, field: str, *, label: str) -> pd.Series:
    """``field`` as numbers: NaN where empty; every value that is not a number ≥ 0 listed."""
    given = frame[field]
    text = given.astype("string").str.strip().str.replace(",", "", regex=False)
    text = text.mask(text == "")
    numbers = pd.to_numeric(text, errors="coerce").astype(float)
    bad = (numbers.isna() & text.notna()) | (numbers < 0) | np.isinf(numbers)
    rows = np.flatnonzero(bad.to_numpy())
    problems = [f"row {r + 1}, field {field!r}: {given.iloc[r]!r} is not a number of residents "
                "≥ 0" for r in rows[:MAX_LISTED]]
    if len(rows) > MAX_LISTED:
        problems.append(f"… and {len(rows) - MAX_LISTED} more rows like these")
    raise_if_problems(problems, context=label)
    return numbers


def _points_of(table: gpd.GeoDataFrame) -> pd.DataFrame:
    """Point rows as ``lon``/``lat``; a MultiPoint's value shared equally among its points."""
    parts = shapely.get_num_geometries(table.geometry.to_numpy())
    coords = shapely.get_coordinates(shapely.get_parts(table.geometry.to_numpy()))
    share = 1.0 / np.maximum(parts, 1)
    return pd.DataFrame({
        "lon": coords[:, 0], "lat": coords[:, 1],
        "residents": np.repeat(table["residents"].to_numpy() * share, parts),
        "elderly": np.repeat(table["elderly"].to_numpy() * share, parts)})


def read_raster_population(path: Path) -> PopulationLayer:
    """A GeoTIFF population grid: each pixel's value at its centre (see :func:`read_population`);
    nodata, NaN and zero pixels hold no one, negative ones are counted as ignored."""
    import rasterio  # loads only for rasters
    from rasterio.errors import RasterioError

    path = user_file(path, what=WHAT)
    label = f"{WHAT} {path}"
    with path.open("rb") as handle:
        if handle.read(4) not in TIFF_MAGIC:
            raise InputError(f"{label}: the content is not a GeoTIFF as its extension says")
    try:
        with rasterio.open(path, driver="GTiff") as grid:
            if grid.crs is None:
                raise InputError(f"{label}: no CRS; cannot place the pixels")
            values = grid.read(1, masked=True)
            transform, crs = grid.transform, grid.crs
    except RasterioError as exc:
        raise InputError(f"{label}: cannot be read as a GeoTIFF ({exc})") from exc
    data = np.ma.filled(values.astype(float), np.nan)
    nodata = np.isnan(data)
    negative = data < 0
    row, col = np.nonzero(~nodata & ~negative & (data > 0))
    x, y = rasterio.transform.xy(transform, row, col, offset="center")
    centres = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=crs).to_crs(STORAGE_CRS)
    residents = data[row, col]
    points = pd.DataFrame({"lon": centres.x.to_numpy(), "lat": centres.y.to_numpy(),
                           "residents": residents, "elderly": np.full(len(row), np.nan)})
    ignored = {"nodata pixels": int(nodata.sum()), "negative pixels": int(negative.sum())}
    return PopulationLayer(polygons=_no_polygons(), points=points, has_elderly=False,
                           source=str(path), ignored={k: v for k, v in ignored.items() if v})


def _no_polygons() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"residents": pd.Series(dtype=float),
                             "elderly": pd.Series(dtype=float)},
                            geometry=gpd.GeoSeries([], crs=STORAGE_CRS), crs=STORAGE_CRS)


def population_bytes(layer: PopulationLayer) -> bytes:
    """``layer`` as bytes to store: one GeoParquet of its polygons and points (EPSG:4326)."""
    points = gpd.GeoDataFrame(
        layer.points[["residents", "elderly"]],
        geometry=gpd.points_from_xy(layer.points["lon"], layer.points["lat"]), crs=STORAGE_CRS)
    frame = pd.concat([layer.polygons[["residents", "elderly", "geometry"]], points],
                      ignore_index=True)
    buffer = io.BytesIO()
    gpd.GeoDataFrame(frame, geometry="geometry", crs=STORAGE_CRS).to_parquet(buffer, index=False)
    return buffer.getvalue()


def population_from_bytes(data: bytes, *, has_elderly: bool, source: str) -> PopulationLayer:
    """The layer :func:`population_bytes` stored.

    Raises
    ------
    InputError
        When the bytes are not such a layer.
    """
    try:
        frame = gpd.read_parquet(io.BytesIO(data))
        areas = frame.geom_type.isin(list(POLYGON_TYPES)).to_numpy()
        points = frame[~areas]
        layer = PopulationLayer(
            polygons=frame[areas].reset_index(drop=True),
            points=pd.DataFrame({"lon": points.geometry.x.to_numpy(),
                                 "lat": points.geometry.y.to_numpy(),
                                 "residents": points["residents"].to_numpy(dtype=float),
                                 "elderly": points["elderly"].to_numpy(dtype=float)}),
            has_elderly=has_elderly, source=source, ignored={})
    except Exception as exc:  # Arrow, geometry and key errors all mean damaged data
        raise InputError(f"{source}: cannot be read ({type(exc).__name__}: {exc})") from None
    return layer
