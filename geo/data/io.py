"""Reading the project's input files: street boundaries, facilities and targets.

Everything that touches the file system for inputs lives here; the checks themselves are in
:mod:`geo.data.schema` and :mod:`geo.model.targets`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.data.importer import ImportReport
from geo.data.schema import normalize_boundaries, normalize_facilities
from geo.model.config import DEMO_BOUNDARIES, DEMO_FACILITY_FILES, STORAGE_CRS, TARGETS_FILE
from geo.model.errors import InputError
from geo.model.targets import Targets, targets_from_mapping

__all__ = [
    "BOUNDARY_FIELD_ALIASES",
    "boundary_field_defaults",
    "existing_file",
    "read_boundaries",
    "read_demo",
    "read_facilities",
    "read_facility_file",
    "read_table",
    "read_targets",
    "read_vector_file",
    "write_import",
]

#: Field names tried, in order, when the caller names none (the first is the data model's).
BOUNDARY_FIELD_ALIASES = {
    "code": ("code", "official_control_code_2023", "区划代码"),
    "name": ("name", "official_control_name_2023", "名称"),
    "name_en": ("name_en", "name:en"),
    "population": ("population", "常住人口", "人口"),
}
VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip"}
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")


def existing_file(path: str | Path, *, what: str) -> Path:
    """``path`` as a Path when it is a file; otherwise an :class:`InputError` naming it as
    ``what``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} {path}: no such file")
    return path


def _read_vector(path: Path, *, what: str) -> gpd.GeoDataFrame:
    try:
        return gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{what} {path}: cannot be read as a vector file ({first_line})") from exc


def read_vector_file(path: str | Path, *, what: str) -> gpd.GeoDataFrame:
    """A vector file (GeoJSON, GeoPackage, Shapefile or zipped Shapefile) as it is stored.

    Raises
    ------
    InputError
        Naming the file (``what`` says which input it is) when it is missing or unreadable.
    """
    return _read_vector(existing_file(path, what=what), what=what)


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
    path = existing_file(path, what=what)
    gdf = _read_vector(path, what=what)
    columns = list(gdf.columns)
    return normalize_boundaries(
        gdf,
        code_field=_pick_field(columns, "code", code_field) or "code",
        name_field=_pick_field(columns, "name", name_field) or "name",
        name_en_field=_pick_field(columns, "name_en", name_en_field),
        population_field=_pick_field(columns, "population", population_field),
        source=f"{what} {path}",
    )


def _read_csv(path: Path) -> pd.DataFrame:
    for encoding in TEXT_ENCODINGS:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(f"facilities file {path}: cannot be read as CSV ({exc})") from exc
    raise InputError(f"facilities file {path}: not UTF-8 or GB18030 text")


def read_facility_file(path: str | Path, *, known_categories: Collection[str]) -> gpd.GeoDataFrame:
    """Read one facilities file (CSV, or GeoJSON/GeoPackage with the same fields).

    Coordinates are converted to WGS-84 from each row's ``crs`` (wgs84, gcj02, bd09).

    Raises
    ------
    InputError
        Naming the file, the row (a CSV's header is row 1) or feature, and the field.
    """
    what = "facilities file"
    path = existing_file(path, what=what)
    if path.suffix.lower() in VECTOR_SUFFIXES:
        frame = _read_vector(path, what=what)
        return normalize_facilities(frame, known_categories=known_categories,
                                    source=f"{what} {path}", first_row=1, row_noun="feature")
    return normalize_facilities(_read_csv(path), known_categories=known_categories,
                                source=f"{what} {path}")


def read_facilities(
    paths: Sequence[str | Path], *, known_categories: Collection[str]
) -> gpd.GeoDataFrame:
    """Read and stack several facilities files; ids must be unique across all of them.

    Raises
    ------
    InputError
        For the first file with problems, or naming ids that occur in more than one file.
    """
    frames = [read_facility_file(p, known_categories=known_categories) for p in paths]
    if not frames:
        raise InputError("no facilities file given")
    for frame, path in zip(frames, paths, strict=True):
        frame["file"] = str(path)
    stacked = pd.concat(frames, ignore_index=True)
    counts = stacked.groupby("id")["file"].agg(list)
    clashes = counts[counts.map(len) > 1]
    if len(clashes):
        listed = "; ".join(f"{i!r} in {', '.join(files)}" for i, files in clashes.head(10).items())
        raise InputError(f"facilities: {len(clashes)} id(s) occur more than once: {listed}")
    return gpd.GeoDataFrame(stacked.drop(columns="file"), geometry="geometry", crs=frames[0].crs)


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


def read_table(path: str | Path) -> pd.DataFrame:
    """Any facility list as text cells: CSV (UTF-8 or GB18030), XLSX (first sheet), or a vector
    file (GeoJSON, GeoPackage, Shapefile or a zipped Shapefile) whose points become ``lon``/
    ``lat`` columns in EPSG:4326 (or as stored when the file declares no CRS).

    Raises
    ------
    InputError
        Naming the file when it is missing, empty or cannot be read.
    """
    what = "facilities file"
    path = existing_file(path, what=what)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many types for damaged files
            raise InputError(f"{what} {path}: cannot be read as XLSX ({exc})") from exc
    elif suffix in VECTOR_SUFFIXES or suffix == ".shp":
        frame = _points_table(_read_vector(path, what=what), path)
    else:
        frame = _read_csv(path)
    if frame.empty or len(frame.columns) == 0:
        raise InputError(f"{what} {path}: no rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _points_table(gdf: gpd.GeoDataFrame, path: Path) -> pd.DataFrame:
    if gdf.crs is not None and not gdf.crs.equals(STORAGE_CRS):
        gdf = gdf.to_crs(STORAGE_CRS)
    points = gdf.geometry.representative_point()
    table = pd.DataFrame(gdf.drop(columns="geometry")).astype(str)
    if "lon" not in table and "lat" not in table:
        table["lon"] = points.x.map(lambda v: f"{v:.9f}").to_numpy()
        table["lat"] = points.y.map(lambda v: f"{v:.9f}").to_numpy()
    return table


def write_import(report: ImportReport, out_dir: Path) -> tuple[Path, Path]:
    """Write ``facilities.csv`` and ``rejected.csv`` (UTF-8 with BOM) into ``out_dir``, both or
    neither: each is written to a temporary file first and moved into place at the end."""
    targets = (out_dir / "facilities.csv", out_dir / "rejected.csv")
    frames = (pd.DataFrame(report.accepted.drop(columns="geometry")), report.rejected)
    temporary = [path.with_name(f".{path.name}.tmp") for path in targets]
    try:
        for frame, path in zip(frames, temporary, strict=True):
            frame.to_csv(path, index=False, encoding="utf-8-sig")
        for source, target in zip(temporary, targets, strict=True):
            os.replace(source, target)
    finally:
        for path in temporary:
            path.unlink(missing_ok=True)
    return targets
