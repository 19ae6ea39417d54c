"""Check and normalise street-boundary and facility frames to the project's data model.

Street boundaries: ``code``, ``name``, ``name_en``, ``population`` (residents, NaN when unknown)
and polygon ``geometry`` in EPSG:4326. Facilities: ``id``, ``name``, ``category``, ``subtype``,
``capacity``, ``address``, ``lon``, ``lat`` (WGS-84 degrees), ``crs``, ``status``, ``source``,
plus any extra columns the file carries, with point ``geometry`` in EPSG:4326.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.data.rules import (
    INTERNAL_COLUMNS,
    check_facility_rows,
    facility_ids,
    row_numbers,
    row_warnings,
    texts,
)
from geo.model.config import METRIC_CRS, STORAGE_CRS
from geo.model.errors import raise_if_problems

__all__ = [
    "BOUNDARY_COLUMNS",
    "FACILITY_COLUMNS",
    "boundary_problems",
    "normalize_boundaries",
    "normalize_facilities",
]

BOUNDARY_COLUMNS = ["code", "name", "name_en", "population", "geometry"]
FACILITY_COLUMNS = ["id", "name", "category", "subtype", "capacity", "address",
                    "lon", "lat", "crs", "status", "source"]
REQUIRED_FACILITY_COLUMNS = ["category", "lon", "lat"]


def _numbers(series: pd.Series) -> pd.Series:
    """Values as floats; '' and missing become NaN, text that is no number stays as NaN too."""
    return pd.to_numeric(texts(series).replace("", np.nan), errors="coerce").astype(float)


def _duplicates(values: pd.Series) -> list[str]:
    counts = values[values != ""].value_counts()
    return sorted(counts[counts > 1].index.astype(str))


def _missing_columns(frame: pd.DataFrame, wanted: dict[str, str]) -> list[str]:
    """Problems for each wanted column (role → column name) that the frame lacks."""
    have = [c for c in frame.columns if c != "geometry" and c not in INTERNAL_COLUMNS]
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
        non-polygon geometry, empty or duplicate codes, population that is not a finite number ≥ 0.
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

    codes = texts(gdf[code_field])
    labels = pd.Series([f"feature {i + 1} ({code_field}={c or '∅'})"
                        for i, c in enumerate(codes)], index=gdf.index)
    problems += _geometry_problems(gdf, labels)
    problems += [f"{label}: empty {code_field}" for label, c in zip(labels, codes, strict=True)
                 if not c]
    problems += [f"duplicate {code_field} {c!r}" for c in _duplicates(codes)]
    population = pd.Series(np.nan, index=gdf.index)
    if population_field:
        population = _numbers(gdf[population_field])
        given = texts(gdf[population_field]) != ""
        bad = given & ~(np.isfinite(population) & (population >= 0))
        problems += [f"{label}: {population_field} {value!r} is not a finite number ≥ 0"
                     for label, value in zip(labels[bad], gdf.loc[bad, population_field],
                                             strict=True)]
    raise_if_problems(problems, context=source)

    out = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": texts(gdf[name_field]),
            "name_en": texts(gdf[name_en_field]) if name_en_field else "",
            "population": population,
        },
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    ).to_crs(STORAGE_CRS)
    return out.sort_values("code", kind="stable").reset_index(drop=True)


def normalize_facilities(
    frame: pd.DataFrame,
    *,
    known_categories: Collection[str],
    labels: Mapping[str, str] | None = None,
    source: str = "facilities",
    first_row: int = 2,
    row_noun: str = "row",
) -> gpd.GeoDataFrame:
    """Facilities in the data model, with ``lon``/``lat`` converted to WGS-84 degrees, checked
    by the rules of :mod:`geo.data.rules` (the importer's).

    Parameters
    ----------
    frame
        One row a facility. ``lon``/``lat`` are in the CRS named by each row's ``crs``
        (wgs84, gcj02, bd09 or cgcs2000; empty means wgs84). When ``lon``/``lat`` are absent
        and the frame is a GeoDataFrame of points, they are taken from its geometry in
        EPSG:4326. ``id``, ``name`` and the other fields are optional.
    known_categories
        Categories that have a radius; any other category is an error.
    labels
        Category → the label an unnamed facility is named after (see
        :func:`geo.data.rules.check_facility_rows`).
    source, first_row, row_noun
        How error messages name the input and its rows: the first data row is
        ``f"{row_noun} {first_row}"`` (row 2 of a CSV whose header is row 1); an empty id
        becomes ``row-<that number>``.

    Returns
    -------
    GeoDataFrame
        The data model's columns, then any extra columns, point geometry in EPSG:4326.
        ``attrs["warnings"]`` maps each warning of :data:`geo.data.rules.WARNINGS` that
        applies to its count of rows (unnamed ones, named by the rules; areas and MultiPoint
        parts marked by :func:`geo.data.io.points_table`).

    Raises
    ------
    InputError
        Listing every problem: missing columns, and each row a rule rejects, naming the row
        and the field (see :data:`geo.data.rules.REASONS`).
    """
    df = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).reset_index(drop=True)
    if "geometry" in frame.columns and not {"lon", "lat"} <= set(df.columns):
        points = gpd.GeoSeries(frame.geometry, crs=getattr(frame, "crs", None))
        if points.crs is not None:
            points = points.to_crs(STORAGE_CRS)
        is_point = (points.geom_type == "Point").to_numpy()
        df["lon"] = np.where(is_point, points.x.where(is_point), np.nan)
        df["lat"] = np.where(is_point, points.y.where(is_point), np.nan)
    problems = [] if len(df) else ["no rows"]
    problems += _missing_columns(df, {c: c for c in REQUIRED_FACILITY_COLUMNS})
    raise_if_problems(problems, context=source)

    given_ids = texts(df["id"]) if "id" in df.columns else None
    df["id"] = facility_ids(df, given_ids, first_row=first_row)
    checked = check_facility_rows(df, known_categories=known_categories, labels=labels)
    numbers = row_numbers(df, first_row=first_row)
    row_labels = pd.Series([f"{row_noun} {n} (id={v or '∅'})" for n, v in
                            zip(numbers, given_ids if given_ids is not None else [""] * len(df),
                                strict=True)])
    raise_if_problems(checked.problems(row_labels), context=source)

    extra = [c for c in df.columns if c not in FACILITY_COLUMNS and c not in INTERNAL_COLUMNS]
    out = pd.concat([checked.frame, df[extra]], axis=1)
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]),
                           crs=STORAGE_CRS)
    gdf.attrs["warnings"] = row_warnings(df, accepted=checked.accepted, unnamed=checked.unnamed)
    return gdf


def boundary_problems(streets: gpd.GeoDataFrame, *, tolerance_m2: float = 1.0) -> list[str]:
    """Overlaps between street polygons and gaps (holes) between them, each larger than
    ``tolerance_m2`` square metres (measured in UTM 51N); empty when they tile cleanly."""
    metric = streets.to_crs(METRIC_CRS).reset_index(drop=True)
    tree = shapely.STRtree(metric.geometry.to_numpy())
    left, right = tree.query(metric.geometry.to_numpy(), predicate="intersects")
    problems = []
    for i, j in zip(left, right, strict=True):
        if i < j:
            area = metric.geometry[i].intersection(metric.geometry[j]).area
            if area > tolerance_m2:
                problems.append(f"{metric.loc[i, 'name']} ({metric.loc[i, 'code']}) and "
                                f"{metric.loc[j, 'name']} ({metric.loc[j, 'code']}) overlap by "
                                f"{area:,.0f} m²")
    union = shapely.union_all(metric.geometry.to_numpy())
    polygons = getattr(union, "geoms", [union])
    holes = [shapely.Polygon(ring) for polygon in polygons for ring in polygon.interiors]
    problems += [f"gap of {hole.area:,.0f} m² between the streets near "
                 f"{_lonlat(hole.representative_point())}" for hole in holes
                 if hole.area > tolerance_m2]
    return problems


def _lonlat(point: shapely.Point) -> str:
    lon, lat = Transformer.from_crs(METRIC_CRS, STORAGE_CRS, always_xy=True).transform(
        point.x, point.y)
    return f"{lon:.5f}, {lat:.5f}"
