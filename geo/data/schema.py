"""Check and normalise street-boundary and facility frames to the project's data model.

Street boundaries: ``code``, ``name``, ``name_en``, ``population`` (residents, NaN when unknown)
and polygon ``geometry`` in EPSG:4326. Facilities: ``id``, ``name``, ``category``, ``subtype``,
``capacity``, ``address``, ``lon``, ``lat`` (WGS-84 degrees), ``crs``, ``status``, ``source``,
plus any extra columns the file carries, with point ``geometry`` in EPSG:4326.
"""

from __future__ import annotations

from collections.abc import Collection

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.data.coords import to_wgs84
from geo.model.config import FACILITY_STATUSES, INPUT_CRS, STORAGE_CRS
from geo.model.errors import raise_if_problems

__all__ = [
    "BOUNDARY_COLUMNS",
    "FACILITY_COLUMNS",
    "normalize_boundaries",
    "normalize_facilities",
]

BOUNDARY_COLUMNS = ["code", "name", "name_en", "population", "geometry"]
FACILITY_COLUMNS = ["id", "name", "category", "subtype", "capacity", "address",
                    "lon", "lat", "crs", "status", "source"]
REQUIRED_FACILITY_COLUMNS = ["id", "name", "category", "lon", "lat"]


def _text(series: pd.Series) -> pd.Series:
    """Values as stripped strings, '' for missing; integral floats lose their '.0'."""
    def one(value: object) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()
    return series.map(one).astype(object)


def _numbers(series: pd.Series) -> pd.Series:
    """Values as floats; '' and missing become NaN, text that is no number stays as NaN too."""
    return pd.to_numeric(_text(series).replace("", np.nan), errors="coerce").astype(float)


def _duplicates(values: pd.Series) -> list[str]:
    counts = values[values != ""].value_counts()
    return sorted(counts[counts > 1].index.astype(str))


def _missing_columns(frame: pd.DataFrame, wanted: dict[str, str]) -> list[str]:
    """Problems for each wanted column (role → column name) that the frame lacks."""
    have = [c for c in frame.columns if c != "geometry"]
    return [f"missing field {column!r} for {role} (fields present: {', '.join(map(str, have))})"
            for role, column in wanted.items() if column not in frame.columns]


def _geometry_problems(gdf: gpd.GeoDataFrame, labels: pd.Series) -> list[str]:
    problems = []
    geoms = gdf.geometry
    for label, geom in zip(labels, geoms, strict=True):
        if geom is None or geom.is_empty:
            problems.append(f"{label}: empty geometry")
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(f"{label}: geometry is a {geom.geom_type}, not a polygon")
        elif not geom.is_valid:
            problems.append(f"{label}: invalid geometry ({shapely.is_valid_reason(geom)})")
    return problems


def normalize_boundaries(
    gdf: gpd.GeoDataFrame,
    *,
    code_field: str,
    name_field: str,
    name_en_field: str | None = None,
    population_field: str | None = None,
    source: str = "boundaries",
) -> gpd.GeoDataFrame:
    """Street boundaries in the data model, in EPSG:4326.

    Parameters
    ----------
    gdf
        Polygons in any defined CRS.
    code_field, name_field
        Columns holding the official code and the Chinese name.
    name_en_field, population_field
        Optional columns; when None, ``name_en`` is empty and ``population`` is NaN.
    source
        Names the input in error messages (usually the file path).

    Raises
    ------
    InputError
        Listing every problem: no CRS, no features, missing fields, empty or invalid or
        non-polygon geometry, empty or duplicate codes, population that is not a number ≥ 0.
    """
    wanted = {"the street code": code_field, "the street name": name_field}
    if name_en_field:
        wanted["the English name"] = name_en_field
    if population_field:
        wanted["the population"] = population_field
    problems = []
    if gdf.crs is None:
        problems.append("no CRS defined (add a .prj file or a CRS to the file)")
    if len(gdf) == 0:
        problems.append("no features")
    problems += _missing_columns(gdf, wanted)
    raise_if_problems(problems, context=source)

    codes = _text(gdf[code_field])
    labels = pd.Series([f"feature {i + 1} ({code_field}={c or '∅'})"
                        for i, c in enumerate(codes)], index=gdf.index)
    problems += _geometry_problems(gdf, labels)
    problems += [f"{label}: empty {code_field}" for label, c in zip(labels, codes, strict=True)
                 if not c]
    problems += [f"duplicate {code_field} {c!r}" for c in _duplicates(codes)]
    population = pd.Series(np.nan, index=gdf.index)
    if population_field:
        population = _numbers(gdf[population_field])
        given = _text(gdf[population_field]) != ""
        bad = given & (population.isna() | (population < 0))
        problems += [f"{label}: {population_field} {value!r} is not a number ≥ 0"
                     for label, value in zip(labels[bad], gdf.loc[bad, population_field],
                                             strict=True)]
    raise_if_problems(problems, context=source)

    out = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": _text(gdf[name_field]),
            "name_en": _text(gdf[name_en_field]) if name_en_field else "",
            "population": population,
        },
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    ).to_crs(STORAGE_CRS)
    return out.sort_values("code", kind="stable").reset_index(drop=True)


def _facility_row_problems(
    df: pd.DataFrame, labels: pd.Series, known_categories: Collection[str]
) -> list[str]:
    problems = []
    lon, lat = _numbers(df["lon"]), _numbers(df["lat"])
    capacity = _numbers(df["capacity"])
    checks = [
        (df["id"] == "", lambda r: "empty id"),
        (df["name"] == "", lambda r: "empty name"),
        (~df["category"].isin(list(known_categories)),
         lambda r: f"category {r['category']!r} is unknown and has no radius "
                   f"(known: {', '.join(known_categories)}; give one with --radius)"),
        (lon.isna() | (lon < -180) | (lon > 180),
         lambda r: f"lon {r['lon']!r} is not a longitude from -180 to 180"),
        (lat.isna() | (lat < -90) | (lat > 90),
         lambda r: f"lat {r['lat']!r} is not a latitude from -90 to 90"),
        (~df["crs"].isin(INPUT_CRS),
         lambda r: f"crs {r['crs']!r} is not one of {', '.join(INPUT_CRS)}"),
        (~df["status"].isin(FACILITY_STATUSES),
         lambda r: f"status {r['status']!r} is not one of {', '.join(FACILITY_STATUSES)}"),
        ((df["capacity"] != "") & (capacity.isna() | (capacity < 0)),
         lambda r: f"capacity {r['capacity']!r} is not a number ≥ 0"),
    ]
    failed = sorted((index, order) for order, (mask, _) in enumerate(checks)
                    for index in np.flatnonzero(mask.to_numpy()))  # row by row, as read
    problems += [f"{labels[index]}: {checks[order][1](df.loc[index])}" for index, order in failed]
    for duplicate in _duplicates(df["id"]):
        rows = ", ".join(label.split(" (")[0] for label in labels[df["id"] == duplicate])
        problems.append(f"duplicate id {duplicate!r} ({rows})")
    return problems


def normalize_facilities(
    frame: pd.DataFrame,
    *,
    known_categories: Collection[str],
    source: str = "facilities",
    first_row: int = 2,
    row_noun: str = "row",
) -> gpd.GeoDataFrame:
    """Facilities in the data model, with ``lon``/``lat`` converted to WGS-84 degrees.

    Parameters
    ----------
    frame
        One row a facility. ``lon``/``lat`` are in the CRS named by each row's ``crs``
        (wgs84, gcj02 or bd09; empty means wgs84). When ``lon``/``lat`` are absent and the frame
        is a GeoDataFrame of points, they are taken from its geometry in EPSG:4326.
    known_categories
        Categories that have a radius; any other category is an error.
    source, first_row, row_noun
        How error messages name the input and its rows: the first data row is
        ``f"{row_noun} {first_row}"`` (row 2 of a CSV whose header is row 1).

    Raises
    ------
    InputError
        Listing every problem: missing columns, empty id or name, duplicate id, unknown category,
        lon/lat not numbers or out of range, unknown crs or status, negative capacity.
    """
    df = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    if "geometry" in frame.columns and not {"lon", "lat"} <= set(df.columns):
        points = gpd.GeoSeries(frame.geometry, crs=getattr(frame, "crs", None))
        if points.crs is not None:
            points = points.to_crs(STORAGE_CRS)
        is_point = points.geom_type == "Point"
        df["lon"] = np.where(is_point, points.x.where(is_point), np.nan)
        df["lat"] = np.where(is_point, points.y.where(is_point), np.nan)
    problems = [] if len(df) else ["no rows"]
    problems += _missing_columns(df, {c: c for c in REQUIRED_FACILITY_COLUMNS})
    raise_if_problems(problems, context=source)

    for column in FACILITY_COLUMNS:
        df[column] = _text(df[column]) if column in df.columns else ""
    df["crs"] = df["crs"].str.lower().replace("", "wgs84")
    df["status"] = df["status"].str.lower().replace("", "existing")
    df["category"] = df["category"].str.strip()
    df = df.reset_index(drop=True)
    labels = pd.Series([f"{row_noun} {i + first_row} (id={v or '∅'})"
                        for i, v in enumerate(df["id"])])
    raise_if_problems(_facility_row_problems(df, labels, known_categories), context=source)

    lon, lat = to_wgs84(_numbers(df["lon"]).to_numpy(), _numbers(df["lat"]).to_numpy(),
                        df["crs"].to_numpy())
    df["lon"], df["lat"], df["crs"] = np.round(lon, 8), np.round(lat, 8), "wgs84"
    df["capacity"] = _numbers(df["capacity"])
    extra = [c for c in df.columns if c not in FACILITY_COLUMNS]
    return gpd.GeoDataFrame(df[FACILITY_COLUMNS + extra],
                            geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=STORAGE_CRS)
