"""Reading each allowed format of a checked user file (see :mod:`geo.data.files`) with the one
reader it needs.

- CSV: decoded from UTF-8 (with or without BOM), UTF-16 with a BOM, or the best of GB18030,
  Big5, Shift-JIS, … by charset-normalizer, or the encoding given; text that comes out garbled
  is flagged. Read by pandas, every cell as text, the delimiter sniffed.
- XLSX: one sheet (the one chosen, or the only one holding data) by openpyxl, as text.
- GeoJSON, GeoPackage, Shapefile: by pyogrio, after checking that GDAL opens them with the
  driver of their format; a GeoJSON ``crs`` member must be a name (a link would be fetched);
  a GeoPackage's layer is the one chosen or its only one.

More rows than the row limit are refused before they are read whole where the format allows.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.data.files import FileLimits, file_limits, megabytes
from geo.model.errors import InputError

__all__ = [
    "DETECTED_ENCODINGS",
    "TextTable",
    "decode_text",
    "list_parts",
    "looks_garbled",
    "read_features",
    "read_sheet",
    "read_text_table",
]

SNIFF_BYTES = 64 * 1024
GARBLE_SAMPLE = 256 * 1024
#: Encodings tried by detection when the text is neither UTF-8 nor marked by a BOM.
DETECTED_ENCODINGS = ["big5", "shift_jis", "euc_kr", "utf_16", "gb18030", "cp1252"]
DRIVERS = {"geojson": "GeoJSON", "gpkg": "GPKG", "shp": "ESRI Shapefile"}
_MULTIPOINT = 4  # shapely's type id


# -- text ---------------------------------------------------------------------------------------


def looks_garbled(text: str) -> bool:
    """Whether decoded text looks like it was decoded with the wrong encoding: replacement or
    control characters, kana scattered in Chinese text, or many rare ideographs. Only the
    first :data:`GARBLE_SAMPLE` characters are looked at: a wrong encoding shows at once."""
    text = text[:GARBLE_SAMPLE]
    if "\ufffd" in text or any(unicodedata.category(c) in ("Cc", "Co") and c not in "\t\r\n"
                               for c in text):
        return True
    han = [c for c in text if "\u3400" <= c <= "\u9fff"]
    kana = sum("\u3040" <= c <= "\u30ff" for c in text)
    if han and kana and kana < 0.2 * (len(han) + kana):
        return True
    if len(han) < 4:
        return False
    rare = 0
    for char in han:
        try:
            char.encode("gb2312")
        except UnicodeEncodeError:
            try:
                char.encode("big5")
            except UnicodeEncodeError:
                rare += 1
    return rare > 0.3 * len(han)


def decode_text(data: bytes, *, encoding: str | None = None, what: str = "file"
                ) -> tuple[str, str]:
    """``data`` as text and the encoding used: ``encoding`` when given, else the one a BOM
    names, UTF-8, GB18030 when that reads as sensible text (see :func:`looks_garbled`), or
    the best of :data:`DETECTED_ENCODINGS` by charset-normalizer.

    Raises
    ------
    InputError
        When the given encoding is unknown or does not fit, or no encoding fits.
    """
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise InputError(f"{what}: unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{what}: not {encoding} text ({exc.reason} at byte {exc.start})"
                             ) from None
    for bom, name in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"),
                      (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError:
                raise InputError(f"{what}: starts like {name} but is not") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:  # the usual encoding of Chinese government files, when it reads as sensible text
        text = data.decode("gb18030")
        if not looks_garbled(text):
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # loads only for files that need it

    best = from_bytes(data[:4 * SNIFF_BYTES], cp_isolation=DETECTED_ENCODINGS).best()
    if best is None:
        raise InputError(f"{what}: the text encoding cannot be recognised; give it "
                         f"(e.g. --encoding gb18030)")
    try:
        return data.decode(best.encoding), best.encoding
    except UnicodeDecodeError:
        raise InputError(f"{what}: looks like {best.encoding} but is not; give the encoding "
                         f"(e.g. --encoding gb18030)") from None


@dataclass(frozen=True)
class TextTable:
    """A CSV read as text cells, with the encoding used and whether it looks garbled."""

    frame: pd.DataFrame
    encoding: str
    garbled: bool


def _delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _check_columns(count: int, limits: FileLimits, *, what: str) -> None:
    if count > limits.max_columns:
        raise InputError(f"{what}: {count:,} columns, more than the limit of "
                         f"{limits.max_columns:,} (CHANGNING_MAX_COLUMNS)")


def _too_many_rows(count: int, limits: FileLimits, *, what: str) -> InputError:
    return InputError(f"{what}: more than {limits.max_rows:,} rows (the limit, "
                      f"CHANGNING_MAX_ROWS){'' if count < 0 else f': {count:,}'}")


def read_text_table(path: Path, *, what: str, encoding: str | None = None,
                    limits: FileLimits | None = None) -> TextTable:
    """A CSV file as text cells (no value turns into NaN), its delimiter sniffed.

    Raises
    ------
    InputError
        When the text cannot be decoded or parsed, or has more rows than the limit.
    """
    limits = limits or file_limits()
    text, used = decode_text(path.read_bytes(), encoding=encoding, what=what)
    delimiter = _delimiter(text)
    try:
        header = next(csv.reader(io.StringIO(text[:SNIFF_BYTES]), delimiter=delimiter), [])
    except csv.Error as exc:
        raise InputError(f"{what}: cannot be read as CSV ({exc})") from None
    _check_columns(len(header), limits, what=what)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            sep=delimiter, nrows=limits.max_rows + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{what}: cannot be read as CSV ({first})") from None
    if len(frame) > limits.max_rows:
        raise _too_many_rows(-1, limits, what=what)
    return TextTable(frame, used, looks_garbled(text))


# -- sheets and layers --------------------------------------------------------------------------


def _sheet_names(path: Path, *, what: str) -> dict[str, bool]:
    """Sheet name → whether it holds any value."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise InputError(f"{what}: cannot be read as XLSX ({type(exc).__name__})") from None
    try:
        return {sheet.title: any(any(v not in (None, "") for v in row)
                                 for row in sheet.iter_rows(max_row=50, values_only=True))
                for sheet in book.worksheets}
    except Exception as exc:  # damaged sheet XML: the same many types
        raise InputError(f"{what}: cannot be read as XLSX ({type(exc).__name__})") from None
    finally:
        book.close()


def list_parts(path: Path, fmt: str, *, what: str) -> list[str]:
    """The sheets of an XLSX file or the layers of a GeoPackage; empty for other formats."""
    if fmt == "xlsx":
        return list(_sheet_names(path, what=what))
    if fmt == "gpkg":
        try:
            return [str(name) for name, _ in pyogrio.list_layers(path)]
        except Exception as exc:  # GDAL errors
            raise InputError(f"{what}: cannot be read as GeoPackage ({_first_line(exc)})"
                             ) from None
    return []


def _choose(parts: list[str], chosen: str | None, *, noun: str, option: str, what: str,
            filled: list[str] | None = None) -> str:
    """The part to read: ``chosen`` when it exists, else the only (non-empty) one."""
    if chosen is not None:
        if chosen not in parts:
            raise InputError(f"{what}: no {noun} {chosen!r} ({noun}s: {', '.join(parts)})")
        return chosen
    candidates = filled if filled is not None else parts
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise InputError(f"{what}: no {noun} holds any data")
    raise InputError(f"{what}: {len(candidates)} {noun}s ({', '.join(candidates)}); choose one "
                     f"with {option}")


def _check_workbook(path: Path, limits: FileLimits, *, what: str) -> None:
    """Refuse a workbook that unpacks to more than the limit, or whose shared strings (which
    openpyxl holds in memory whole) number more than ten a row of the row limit."""
    with zipfile.ZipFile(path) as archive:
        unpacked_size = sum(info.file_size for info in archive.infolist())
        if unpacked_size > limits.max_unpacked_bytes:
            raise InputError(f"{what}: unpacks to {megabytes(unpacked_size)}, more than the "
                             f"limit of {megabytes(limits.max_unpacked_bytes)} "
                             f"(CHANGNING_MAX_UNPACKED_MB)")
        names = archive.namelist()
        if "xl/sharedStrings.xml" not in names:
            return
        allowed, count, tail = 10 * limits.max_rows, 0, b""
        with archive.open("xl/sharedStrings.xml") as strings:
            while chunk := strings.read(1 << 20):
                count += (tail + chunk).count(b"<si") - tail.count(b"<si")
                tail = chunk[-3:]
                if count > allowed:
                    raise InputError(f"{what}: more than {allowed:,} distinct texts (ten a row "
                                     f"of the row limit, CHANGNING_MAX_ROWS)")


def read_sheet(path: Path, *, what: str, sheet: str | None = None,
               limits: FileLimits | None = None) -> tuple[pd.DataFrame, str, tuple[str, ...]]:
    """One sheet of an XLSX file as text cells, its name (``sheet``, or the only sheet
    holding data) and every sheet's name.

    Raises
    ------
    InputError
        When the sheet does not exist, several sheets hold data and none is chosen, or it has
        more rows than the limit.
    """
    limits = limits or file_limits()
    _check_workbook(path, limits, what=what)
    sheets = _sheet_names(path, what=what)
    name = _choose(list(sheets), sheet, noun="sheet", option="--sheet", what=what,
                   filled=[s for s, full in sheets.items() if full])
    try:
        frame = pd.read_excel(path, sheet_name=name, dtype=str, keep_default_na=False,
                              engine="openpyxl", nrows=limits.max_rows + 1)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise InputError(f"{what}: sheet {name!r} cannot be read ({type(exc).__name__})"
                         ) from None
    if len(frame) > limits.max_rows:
        raise _too_many_rows(-1, limits, what=what)
    _check_columns(len(frame.columns), limits, what=what)
    return frame, name, tuple(sheets)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_geojson(path: Path, *, what: str) -> None:
    """Refuse GeoJSON that is not a feature collection or feature, whose ``crs`` member is
    anything but a name (a ``link`` CRS would make GDAL fetch a URL), or that is made mostly of
    brackets (millions of empty arrays or objects take gigabytes to parse; real feature files
    have a bracket in every 25 bytes or more)."""
    raw = path.read_bytes()
    if len(raw) > 2**20 and max(raw.count(b"["), raw.count(b"{")) > len(raw) / 8:
        raise InputError(f"{what}: mostly brackets, not a plausible feature file")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"{what}: not valid JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise InputError(f"{what}: not a GeoJSON FeatureCollection or Feature")
    crs = data.get("crs")
    if crs is not None and not (isinstance(crs, dict) and crs.get("type") == "name"
                                and isinstance(crs.get("properties"), dict)
                                and isinstance(crs["properties"].get("name"), str)):
        raise InputError(f"{what}: only a named CRS is accepted in a GeoJSON crs member")


def read_features(path: Path, fmt: str, *, what: str, layer: str | None = None,
                  limits: FileLimits | None = None) -> tuple[gpd.GeoDataFrame, str | None]:
    """The features of a GeoJSON, GeoPackage or Shapefile (read with its driver named) and the
    layer read (None for single-layer formats).

    Raises
    ------
    InputError
        When the file cannot be read, the layer does not exist, several layers exist and none
        is chosen, or there are more features than the row limit.
    """
    limits = limits or file_limits()
    if fmt not in DRIVERS:
        raise InputError(f"{what}: {fmt.upper()} holds no features")
    name = None
    if fmt == "gpkg":
        name = _choose(list_parts(path, fmt, what=what), layer, noun="layer", option="--layer",
                       what=what)
    elif layer is not None:
        raise InputError(f"{what}: has no layers to choose from (--layer is for GeoPackages)")
    if fmt == "geojson":
        _check_geojson(path, what=what)
    try:
        info = pyogrio.read_info(path, layer=name)
        if info["driver"] != DRIVERS[fmt]:
            raise InputError(f"{what}: opened as {info['driver']}, not {DRIVERS[fmt]}")
        if info["features"] > limits.max_rows:
            raise _too_many_rows(info["features"], limits, what=what)
        _check_columns(len(info["fields"]), limits, what=what)
        frame = pyogrio.read_dataframe(path, layer=name)
    except InputError:
        raise
    except Exception as exc:  # pyogrio/GDAL raise several types for unreadable files
        raise InputError(f"{what}: cannot be read as {fmt.upper()} ({_first_line(exc)})"
                         ) from None
    rows = _point_rows(frame)
    if rows > limits.max_rows:  # a MultiPoint is a row a point
        raise _too_many_rows(rows, limits, what=what)
    return frame, name


def _point_rows(frame: gpd.GeoDataFrame) -> int:
    """How many rows the features make when each point of a MultiPoint is its own row."""
    geoms = frame.geometry.to_numpy()
    multi = shapely.get_type_id(geoms) == _MULTIPOINT
    return int(len(geoms) - multi.sum() + np.maximum(shapely.get_num_geometries(geoms[multi]),
                                                     1).sum())
