"""Reading the project's input files: street boundaries, facility lists, targets, category maps;
writing the importer's accepted and rejected rows.

User files are opened only through :mod:`geo.data.files` (the allow-list of formats, checked
by content; limits; zips unpacked safely) and read by :mod:`geo.data.formats`; the checks
themselves are in :mod:`geo.data.schema`, :mod:`geo.data.rules` and :mod:`geo.model.targets`.
Messages name a file by ``label`` when given (an upload's own name, not its temporary copy).
"""

from __future__ import annotations

import csv
import io
import os
import tomllib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.data.export_io import write_csv
from geo.data.files import FileLimits, unpacked, user_file
from geo.data.formats import list_parts, read_features, read_sheet, read_text_table
from geo.data.importer import ImportReport
from geo.data.mapping import check_category_map
from geo.data.rules import PART_COLUMN, ROW_COLUMN, SHAPE_COLUMN, texts
from geo.data.schema import normalize_boundaries, normalize_facilities
from geo.model.config import DEMO_BOUNDARIES, DEMO_FACILITY_FILES, STORAGE_CRS, TARGETS_FILE
from geo.model.errors import InputError
from geo.model.targets import Targets, targets_from_mapping

__all__ = [
    "BOUNDARY_FIELD_ALIASES",
    "TableRead",
    "boundary_field_defaults",
    "existing_file",
    "points_table",
    "read_boundaries",
    "read_category_map",
    "read_demo",
    "read_facilities",
    "read_facility_file",
    "read_table",
    "read_targets",
    "read_vector_file",
    "table_parts",
    "write_import",
]

#: Field names tried, in order, when the caller names none (the first is the data model's).
BOUNDARY_FIELD_ALIASES = {
    "code": ("code", "official_control_code_2023", "区划代码"),
    "name": ("name", "official_control_name_2023", "名称"),
    "name_en": ("name_en", "name:en"),
    "population": ("population", "常住人口", "人口"),
}
#: A GeoJSON geometry type id of shapely: point, multipoint.
_POINT, _MULTIPOINT = 0, 4


def existing_file(path: str | Path, *, what: str) -> Path:
    """``path`` as a Path when it is a file; otherwise an :class:`InputError` naming it as
    ``what``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} {path}: no such file")
    return path


@dataclass(frozen=True)
class TableRead:
    """A facility list as read: ``frame`` holds text cells (a vector file's points as ``lon``/
    ``lat`` in WGS-84 plus the columns of :data:`geo.data.rules.INTERNAL_COLUMNS`); ``fmt`` the
    format read; ``part`` the sheet or layer read among ``parts``; ``encoding`` a CSV's;
    ``garbled`` whether its text looks wrongly decoded; ``notes`` what else to tell the user;
    ``first_row``/``row_noun`` how its rows are numbered."""

    frame: pd.DataFrame
    fmt: str
    part: str | None = None
    parts: tuple[str, ...] = ()
    encoding: str | None = None
    garbled: bool = False
    notes: tuple[str, ...] = ()
    first_row: int = 2
    row_noun: str = "row"


def _features_notes(table: pd.DataFrame, *, label: str) -> list[str]:
    areas = int((table[SHAPE_COLUMN] == "area").sum())
    parts = table.loc[table[PART_COLUMN] != "", ROW_COLUMN]
    notes = []
    if areas:
        notes.append(f"{label}: {areas} area or line feature(s) placed at a representative "
                     f"point inside them")
    if len(parts):
        notes.append(f"{label}: {parts.nunique()} MultiPoint feature(s) split into "
                     f"{len(parts)} facilities (ids suffixed -1, -2, …)")
    return notes


def points_table(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Features as text cells with their point as ``lon``/``lat`` (EPSG:4326, or as stored
    when the file declares no CRS): a polygon's or line's representative point (marked
    ``area`` in :data:`geo.data.rules.SHAPE_COLUMN`), each point of a MultiPoint as its own
    row (numbered in :data:`geo.data.rules.PART_COLUMN`), blank for an empty geometry. Every
    row keeps its feature number (:data:`geo.data.rules.ROW_COLUMN`). A file's own
    ``lon``/``lat`` columns win over its geometry."""
    if gdf.crs is not None and not gdf.crs.equals(STORAGE_CRS):
        gdf = gdf.to_crs(STORAGE_CRS)
    geoms = gdf.geometry.to_numpy()
    kind = shapely.get_type_id(geoms)
    counts = np.where(kind == _MULTIPOINT, np.maximum(shapely.get_num_geometries(geoms), 1), 1)
    order = np.repeat(np.arange(len(geoms)), counts)
    part = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    split = (kind[order] == _MULTIPOINT) & (counts[order] > 1)
    points = np.where(kind[order] == _MULTIPOINT, shapely.get_geometry(geoms[order], part),
                      geoms[order])
    area = ~np.isin(kind[order], [-1, _POINT, _MULTIPOINT]) & ~shapely.is_empty(points)
    points[area] = shapely.point_on_surface(points[area])
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).iloc[order].reset_index(drop=True)
    table = pd.DataFrame({c: texts(table[c]) for c in table.columns}, index=table.index)
    if "lon" not in table and "lat" not in table:
        table["lon"] = [f"{v:.9f}" if np.isfinite(v) else "" for v in lon]
        table["lat"] = [f"{v:.9f}" if np.isfinite(v) else "" for v in lat]
    table[ROW_COLUMN] = (order + 1).astype(str)
    table[PART_COLUMN] = np.where(split, (part + 1).astype(str), "")
    table[SHAPE_COLUMN] = np.where(area, "area", "")
    return table


def read_table(path: str | Path, *, what: str = "facilities file", label: str | None = None,
               sheet: str | None = None, layer: str | None = None,
               encoding: str | None = None, limits: FileLimits | None = None) -> TableRead:
    """A user's facility list as text cells: a CSV (encoding detected, or ``encoding``), one
    XLSX sheet (``sheet``, or the only one holding data), or the features of a GeoJSON,
    GeoPackage (``layer``, or its only one) or Shapefile, also zipped (see
    :func:`points_table`).

    Raises
    ------
    InputError
        Naming the file (by ``label`` when given) when it is missing, not an accepted format,
        too large, unreadable, has no rows, or several sheets or layers and none is chosen.
    """
    path = user_file(path, what=what, limits=limits)
    label = label or str(path)
    named = f"{what} {label}"
    with unpacked(path, what=what, label=label, limits=limits) as (inner, fmt, notes):
        if fmt != "csv" and encoding:
            raise InputError(f"{named}: --encoding is for CSV files, not {fmt.upper()}")
        if fmt != "xlsx" and sheet is not None:
            raise InputError(f"{named}: has no sheets (--sheet is for XLSX files)")
        if fmt == "csv":
            text = read_text_table(inner, what=named, encoding=encoding, limits=limits)
            read = TableRead(text.frame, fmt, encoding=text.encoding, garbled=text.garbled)
        elif fmt == "xlsx":
            frame, name, parts = read_sheet(inner, what=named, sheet=sheet, limits=limits)
            read = TableRead(frame, fmt, name, parts)
        else:
            features, name = read_features(inner, fmt, what=named, layer=layer, limits=limits)
            table = points_table(features)
            parts = tuple(list_parts(inner, fmt, what=named))
            read = TableRead(table, fmt, name, parts, notes=tuple(_features_notes(
                table, label=label)), first_row=1, row_noun="feature")
    if read.frame.empty or len(read.frame.columns) == 0:
        raise InputError(f"{named}: no rows")
    read.frame.columns = [str(c).strip() for c in read.frame.columns]
    garbled = ([f"{label}: the text read as {read.encoding} looks garbled; give the right "
                f"encoding (e.g. --encoding gb18030 or big5)"] if read.garbled else [])
    return TableRead(read.frame, read.fmt, read.part, read.parts, read.encoding, read.garbled,
                     (*notes, *read.notes, *garbled), read.first_row, read.row_noun)


def table_parts(path: str | Path, *, what: str = "facilities file", label: str | None = None,
                limits: FileLimits | None = None) -> tuple[str, tuple[str, ...]]:
    """A user file's format and its sheets (XLSX) or layers (GeoPackage); no parts for the
    others. For a picker before the file is read.

    Raises
    ------
    InputError
        As :func:`read_table` does for a file that cannot be opened.
    """
    path = user_file(path, what=what, limits=limits)
    label = label or str(path)
    with unpacked(path, what=what, label=label, limits=limits) as (inner, fmt, _):
        return fmt, tuple(list_parts(inner, fmt, what=f"{what} {label}"))


def read_vector_file(path: str | Path, *, what: str, label: str | None = None,
                     layer: str | None = None, limits: FileLimits | None = None
                     ) -> gpd.GeoDataFrame:
    """A user's vector file (GeoJSON, GeoPackage with ``layer`` or its only one, Shapefile,
    also zipped) as it is stored.

    Raises
    ------
    InputError
        Naming the file (``what`` says which input it is) when it is missing, not an
        accepted vector format, too large or unreadable.
    """
    path = user_file(path, what=what, limits=limits)
    named = f"{what} {label or path}"
    with unpacked(path, what=what, label=label or str(path), limits=limits) as (inner, fmt, _):
        if fmt not in ("geojson", "gpkg", "shp"):
            raise InputError(f"{named}: a {fmt.upper()} file holds no polygons; give a GeoJSON, "
                             f"GeoPackage or (zipped) Shapefile")
        return read_features(inner, fmt, what=named, layer=layer, limits=limits)[0]


def boundary_field_defaults(columns: Sequence[str]) -> dict[str, str | None]:
    """Data-model boundary field → the column that seems to hold it (None when none does)."""
    return {role: _pick_field(columns, role, None) for role in BOUNDARY_FIELD_ALIASES}


def _pick_field(columns: Sequence[str], role: str, given: str | None) -> str | None:
    """The column for ``role``: the one given, else the first alias present, else None."""
    if given:
        return given
    return next((a for a in BOUNDARY_FIELD_ALIASES[role] if a in columns), None)


def read_boundaries(
    path: str | Path,
    *,
    code_field: str | None = None,
    name_field: str | None = None,
    name_en_field: str | None = None,
    population_field: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read street boundaries (GeoJSON, GeoPackage or Shapefile, any defined CRS) into EPSG:4326.

    Field names default to the data model's (``code``, ``name``, ``name_en``, ``population``)
    and to the known aliases in :data:`BOUNDARY_FIELD_ALIASES`, e.g. the OSM file's
    ``official_control_code_2023``. ``name_en`` and ``population`` are optional.

    Raises
    ------
    InputError
        Naming the file and every problem found.
    """
    what = "boundaries file"
    gdf = read_vector_file(path, what=what, layer=layer)
    columns = list(gdf.columns)
    return normalize_boundaries(
        gdf,
        code_field=_pick_field(columns, "code", code_field) or "code",
        name_field=_pick_field(columns, "name", name_field) or "name",
        name_en_field=_pick_field(columns, "name_en", name_en_field),
        population_field=_pick_field(columns, "population", population_field),
        source=f"{what} {path}",
    )


def read_facility_file(path: str | Path, *, known_categories: Collection[str],
                       labels: Mapping[str, str] | None = None) -> gpd.GeoDataFrame:
    """Read one facilities file in the data model's fields (CSV, or GeoJSON/GeoPackage/
    Shapefile with the same fields; areas become representative points, MultiPoints one
    facility a point), checked by the rules of :mod:`geo.data.rules`.

    Coordinates are converted to WGS-84 from each row's ``crs`` (wgs84, gcj02, bd09).
    ``attrs["warnings"]`` counts what was accepted with a warning (unnamed, areas, parts).

    Raises
    ------
    InputError
        Naming the file, the row (a CSV's header is row 1) or feature, and the field.
    """
    what = "facilities file"
    read = read_table(path, what=what)
    return normalize_facilities(read.frame, known_categories=known_categories, labels=labels,
                                source=f"{what} {path}", first_row=read.first_row,
                                row_noun=read.row_noun)


def read_facilities(
    paths: Sequence[str | Path], *, known_categories: Collection[str],
    labels: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read and stack several facilities files; ids must be unique across all of them.
    ``attrs["warnings"]`` lists each file's warnings (``"<file>: <warning>"`` → rows).

    Raises
    ------
    InputError
        For the first file with problems, or naming ids that occur in more than one file.
    """
    frames = [read_facility_file(p, known_categories=known_categories, labels=labels)
              for p in paths]
    if not frames:
        raise InputError("no facilities file given")
    warnings = {f"{path}: {text}": count for frame, path in zip(frames, paths, strict=True)
                for text, count in frame.attrs.get("warnings", {}).items()}
    for frame, path in zip(frames, paths, strict=True):
        frame["file"] = str(path)
    stacked = pd.concat(frames, ignore_index=True)
    counts = stacked.groupby("id")["file"].agg(list)
    clashes = counts[counts.map(len) > 1]
    if len(clashes):
        listed = "; ".join(f"{i!r} in {', '.join(files)}" for i, files in clashes.head(10).items())
        raise InputError(f"facilities: {len(clashes)} id(s) occur more than once: {listed}")
    out = gpd.GeoDataFrame(stacked.drop(columns="file"), geometry="geometry", crs=frames[0].crs)
    out.attrs["warnings"] = warnings
    return out


def read_targets(path: str | Path = TARGETS_FILE) -> Targets:
    """Read the targets TOML file (radius in metres and target share per category).

    Raises
    ------
    InputError
        Naming the file and, for a syntax error, the line.
    """
    what = "targets file"
    path = existing_file(path, what=what)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {path}: not valid TOML ({exc})") from exc
    return targets_from_mapping(data, source=f"{what} {path}")


def read_demo(targets: Targets) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The embedded demo streets and facilities (authored approximations, not official data)."""
    streets = read_boundaries(DEMO_BOUNDARIES)
    facilities = read_facilities(list(DEMO_FACILITY_FILES.values()),
                                 known_categories=targets.keys())
    return streets, facilities


def read_category_map(path: str | Path, *, known_categories: Collection[str]) -> dict[str, str]:
    """A class → category map (``--category-map``): a CSV of two columns (class, category;
    a header row is optional) or a TOML file of ``class = "category"`` pairs (at the top or
    in a ``[categories]`` table). A category may be ``ignore``.

    Raises
    ------
    InputError
        Naming the file when it is not such a file or names an unknown category.
    """
    what = "category map"
    path = user_file(path, what=what)
    source = f"{what} {path}"
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{source}: not UTF-8 text") from None
    if path.suffix.lower() == ".toml":
        try:
            table = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{source}: not valid TOML ({exc})") from None
        table = table.get("categories", table)
        if any(isinstance(v, dict | list) for v in table.values()):
            raise InputError(f"{source}: expected class = \"category\" pairs")
    elif path.suffix.lower() in (".csv", ".txt"):
        rows = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
        if any(len(row) != 2 for row in rows):
            raise InputError(f"{source}: expected two columns, class and category")
        if rows and rows[0][1].strip().lower() in ("category", "类别"):
            rows = rows[1:]
        table = {cls.strip(): category.strip() for cls, category in rows}
    else:
        raise InputError(f"{source}: expected a .csv or .toml file")
    return check_category_map(table, known_categories=known_categories, source=source)


def write_import(report: ImportReport, out_dir: Path) -> tuple[Path, Path]:
    """Write ``facilities.csv`` and ``rejected.csv`` (UTF-8 with BOM, text that a spreadsheet
    would run as a formula behind a single quote: see :func:`geo.data.export_io.write_csv`)
    into ``out_dir``, both or neither: each is written to a temporary file first and moved
    into place at the end."""
    targets = (out_dir / "facilities.csv", out_dir / "rejected.csv")
    frames = (pd.DataFrame(report.accepted.drop(columns="geometry")), report.rejected)
    temporary = [path.with_name(f".{path.name}.tmp") for path in targets]
    try:
        for frame, path in zip(frames, temporary, strict=True):
            write_csv(frame, path)
        for source, target in zip(temporary, targets, strict=True):
            os.replace(source, target)
    finally:
        for path in temporary:
            path.unlink(missing_ok=True)
    return targets
