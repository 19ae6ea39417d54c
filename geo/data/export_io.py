"""Write the report exports' frames to files: CSV, Excel, GeoJSON and GeoPackage.

Every writer returns the written path and raises :class:`~geo.model.errors.InputError` naming the
path when its directory does not exist. Geometries are written in EPSG:4326 (WGS-84 degrees);
in CSV and Excel a geometry column becomes WKT text.

Output encoding (OWASP CSV injection): the CSV and Excel writers pass every frame through
:func:`neutralise_formulas`, so a text cell that a spreadsheet would run as a formula (one
starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is written as text behind a
single quote; numbers stay numbers. Other writers of CSV for people (the importer's
``facilities.csv`` and ``rejected.csv``, downloads) call :func:`neutralise_formulas` too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
from geopandas.array import GeometryDtype
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from geo.model.config import STORAGE_CRS
from geo.model.errors import InputError

__all__ = ["FORMULA_TRIGGERS", "csv_bytes", "neutralise_formulas", "write_csv", "write_geojson",
           "write_gpkg", "write_xlsx"]

#: Excel's limit on a sheet name's length, and the characters it forbids in one.
MAX_SHEET_NAME = 31
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
#: Column widths in Excel's character units; rows beyond ``_WIDTH_SAMPLE`` are not measured.
MIN_WIDTH, MAX_WIDTH = 6, 60
_WIDTH_SAMPLE = 1000
#: Decimals of GeoJSON coordinates: more than a double holds, so nothing is lost.
GEOJSON_PRECISION = 15
#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: What :func:`neutralise_formulas` puts before such a text.
FORMULA_GUARD = "'"


def _target(path: str | Path) -> Path:
    """``path`` as a Path, or :class:`InputError` when its directory does not exist."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"cannot write {path}: directory {path.parent} does not exist")
    return path


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` without an active geometry: geometry columns as WKT text with
    every digit (no rounding)."""
    out = pd.DataFrame(frame).copy()
    for column in out.columns:
        if isinstance(out[column].dtype, GeometryDtype):
            out[column] = gpd.GeoSeries(out[column]).to_wkt(rounding_precision=-1).astype(object)
    return out


def _guarded(value: object) -> object:
    """``value`` behind :data:`FORMULA_GUARD` when it is text starting with a formula trigger."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return FORMULA_GUARD + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` in which no text cell can run as a spreadsheet formula.

    Every text value (``str``) starting with one of :data:`FORMULA_TRIGGERS` (``=``, ``+``,
    ``-``, ``@``, tab, carriage return) gets a single quote in front: ``=1+1`` becomes
    ``'=1+1``; text column labels likewise. Numbers (a negative capacity included), booleans,
    dates, geometries and missing values are left as they are, and so are the index and the
    column order. Use it on any frame written as CSV or Excel for people to open.
    """
    out = pd.DataFrame(frame).copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            out[column] = values.map(_guarded)
    out.columns = [_guarded(label) for label in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV, UTF-8 with a BOM (so Excel reads Chinese), without the index.

    Floats are written in full precision (shortest round-trip text); missing values are
    empty; a geometry column is WKT with every digit. Text that a spreadsheet would run as a
    formula is written behind a single quote (:func:`neutralise_formulas`). Lines end in CRLF
    (RFC 4180), so a text holding a line break of either kind is quoted and stays one cell.

    Raises
    ------
    InputError
        When the directory of ``path`` does not exist.
    """
    path = _target(path)
    path.write_bytes(csv_bytes(frame))
    return path


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The bytes :func:`write_csv` writes: for downloads that never touch a file."""
    return neutralise_formulas(_plain(frame)).to_csv(index=False, lineterminator="\r\n"
                                                     ).encode("utf-8-sig")


def _sheet_names(names: list[str]) -> list[str]:
    """Valid, distinct Excel sheet names: forbidden characters become ``_``, at most 31
    characters, a repeated name gets a `` (2)``-style suffix."""
    out: list[str] = []
    for name in names:
        clean = _BAD_SHEET_CHARS.sub("_", str(name)).strip("'") or "Sheet"
        candidate, number = clean[:MAX_SHEET_NAME], 1
        while candidate.lower() in {n.lower() for n in out}:
            number += 1
            suffix = f" ({number})"
            candidate = clean[:MAX_SHEET_NAME - len(suffix)] + suffix
        out.append(candidate)
    return out


def _text_width(value: object) -> int:
    """Display width of a value's text: East Asian wide characters count two."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _format_sheet(sheet: Worksheet, frame: pd.DataFrame) -> None:
    """Bold header row, frozen below the header, and columns roughly as wide as their text."""
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    sheet.freeze_panes = "A2"
    sample = frame.head(_WIDTH_SAMPLE)
    for position, column in enumerate(frame.columns, start=1):
        values = sample[column].dropna()
        widest = max([_text_width(column), *(_text_width(v) for v in values)])
        width = min(max(widest + 2, MIN_WIDTH), MAX_WIDTH)
        sheet.column_dimensions[get_column_letter(position)].width = width


def _without_control_characters(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells without the control characters an XLSX file cannot hold (they are dropped:
    Excel could not show them either)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(
                lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)
    return out


def _as_text_cells(sheet: Worksheet) -> None:
    """Store every text cell of ``sheet`` as a string: openpyxl would store text starting with
    ``=`` as a formula and text such as ``#N/A`` as an error value."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.data_type != "s":
                cell.data_type = "s"


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write one Excel sheet per entry of ``sheets`` (sheet name → frame), without the index.

    Sheet names are made valid for Excel (at most 31 characters, no ``[]:*?/\\``, distinct).
    The header row is bold; columns are roughly fitted to their text. Booleans are Excel's
    TRUE/FALSE, missing values (NaN, None) are empty cells, a geometry column is WKT. Floats
    keep 16 significant digits (openpyxl writes ``%.16g``; Excel shows 15). Control characters,
    which XLSX cannot hold, are dropped from text; then text that Excel would run as a formula
    gets a single quote in front (:func:`neutralise_formulas`) and every text is stored as a
    string cell, never a formula.

    Raises
    ------
    InputError
        When ``sheets`` is empty or the directory of ``path`` does not exist.
    """
    path = _target(path)
    if not sheets:
        raise InputError(f"cannot write {path}: no sheet to write")
    names = _sheet_names(list(sheets))
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in zip(names, sheets.values(), strict=True):
            plain = neutralise_formulas(_without_control_characters(_plain(frame)))
            plain.to_excel(writer, sheet_name=name, index=False, na_rep="")
            _as_text_cells(writer.sheets[name])
            _format_sheet(writer.sheets[name], plain)
    return path


def _vector_ready(frame: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """``frame`` in EPSG:4326, with object columns of True/False/None as nullable booleans
    (pyogrio would otherwise write them as text)."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
        raise InputError(f"cannot write {path}: the frame needs a geometry with a CRS")
    out = frame.to_crs(STORAGE_CRS)
    for column in out.columns:
        values = out[column]
        if values.dtype == object:
            present = values.dropna()
            if len(present) and all(isinstance(v, bool) for v in present):
                out[column] = values.astype("boolean")
    return out


def write_geojson(frame: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write ``frame`` as RFC 7946 GeoJSON (EPSG:4326 lon/lat, counter-clockwise exteriors).

    Coordinates keep 15 decimals (full double precision). A frame in another CRS is
    reprojected to EPSG:4326.

    Raises
    ------
    InputError
        When the directory of ``path`` does not exist or ``frame`` has no CRS.
    """
    path = _target(path)
    _vector_ready(frame, path).to_file(path, driver="GeoJSON", engine="pyogrio",
                                       RFC7946="YES", COORDINATE_PRECISION=GEOJSON_PRECISION)
    return path


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], path: str | Path) -> Path:
    """Write one GeoPackage layer per entry of ``layers`` (layer name → frame) in one file.

    An existing file at ``path`` is replaced, so writing again gives the same layers.
    Frames in another CRS are reprojected to EPSG:4326.

    Raises
    ------
    InputError
        When ``layers`` is empty, a layer name is empty, the directory of ``path`` does not
        exist or a frame has no CRS.
    """
    path = _target(path)
    if not layers:
        raise InputError(f"cannot write {path}: no layer to write")
    if any(not str(name).strip() for name in layers):
        raise InputError(f"cannot write {path}: a layer name is empty")
    ready = {str(name): _vector_ready(frame, path) for name, frame in layers.items()}
    path.unlink(missing_ok=True)
    for name, frame in ready.items():
        frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path
