"""Importing facility lists as departments keep them: any column names (Chinese or English),
any of the Chinese coordinate systems, rows checked one by one, nothing dropped silently.

Pure: frames in, an :class:`ImportReport` out (accepted rows in the data model, rejected rows as
they came with a reason, hints about the coordinates). Rows with an address but no coordinates are
placed by a :class:`geo.data.geocode.Geocoder` when one is given: the only I/O, and the caller's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo.data.coords import bd09_to_wgs84, gcj02_to_wgs84
from geo.data.osm import OSM_CLASS_CATEGORIES
from geo.data.schema import FACILITY_COLUMNS
from geo.model.config import FACILITY_STATUSES, METRIC_CRS, STORAGE_CRS
from geo.model.errors import InputError

if TYPE_CHECKING:
    from geo.data.geocode import Geocoder

__all__ = [
    "CATEGORY_ALIASES",
    "FIELD_ALIASES",
    "GEOCODED_SOURCE",
    "REASONS",
    "ImportReport",
    "boundary_problems",
    "import_facilities",
    "parse_crs",
    "parse_mapping",
    "suggest_mapping",
]

#: Data-model field → header names it is recognised by (compared case-insensitively).
FIELD_ALIASES = {
    "id": ("id", "编号", "序号", "编码", "设施编号", "fid", "osm_id"),
    "name": ("name", "名称", "设施名称", "名字", "单位名称"),
    "category": ("category", "类型", "类别", "设施类型", "设施类别"),
    "subtype": ("subtype", "子类", "细类", "fclass"),
    "capacity": ("capacity", "容量", "规模", "泊位", "泊位数", "座位", "座位数", "桩数",
                 "充电桩数"),
    "address": ("address", "地址", "详细地址", "所在地址"),
    "lon": ("lon", "lng", "long", "longitude", "x", "经度", "东经"),
    "lat": ("lat", "latitude", "y", "纬度", "北纬"),
    "status": ("status", "状态"),
    "source": ("source", "来源", "数据来源"),
}
#: The reasons a row is rejected for, as written in rejected.csv and counted in the summary. A
#: reason may carry a detail after ": " in rejected.csv ("geocoding failed: no match"); the
#: summary counts the reason before it, so its keys are always among these texts.
REASONS = {
    "coords": "missing or non-numeric coordinates",
    "range": "coordinates out of range",
    "outside": "outside the study area",
    "duplicate": "duplicate id",
    "category": "unknown category",
    "name": "empty name",
    "capacity": "capacity is not a number ≥ 0",
    "status": "unknown status",
    "geocode": "geocoding failed",
}
#: Added to the ``source`` of an accepted row whose point came from geocoding its address.
GEOCODED_SOURCE = "; geocoded: {provider}"
#: Category values as lists write them → the category key (OSM classes included).
CATEGORY_ALIASES = {
    **OSM_CLASS_CATEGORIES,
    "charging_station": "charger",
    "充电桩": "charger", "充电站": "charger", "充电设施": "charger",
    "菜市场": "market", "菜场": "market", "智慧菜场": "market", "农贸市场": "market",
    "体育场馆": "sports", "体育设施": "sports", "运动场": "sports", "健身点": "sports",
    "长者食堂": "canteen", "助餐点": "canteen", "老年食堂": "canteen", "社区食堂": "canteen",
    "停车场": "parking", "公共停车场": "parking", "停车库": "parking",
}
NAMED_CRS = {"wgs84": "wgs84", "gcj02": "gcj02", "bd09": "bd09", "cgcs2000": "EPSG:4490"}
TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}


@dataclass(frozen=True)
class ImportReport:
    """``accepted``: the data model's columns, WGS-84; ``rejected``: the original rows plus a
    ``reason`` column; ``hints``: what may be wrong with the coordinates as a whole;
    ``geocoded``: how many rows got their point from geocoding their address (accepted, or
    rejected for another reason such as lying outside the study area)."""

    accepted: gpd.GeoDataFrame
    rejected: pd.DataFrame
    hints: list[str] = field(default_factory=list)
    geocoded: int = 0

    def summary(self) -> dict:
        """``{"accepted": n, "rejected": m, "reasons": {reason: count}}``; a reason's detail
        after ": " is not part of its key (see :data:`REASONS`)."""
        reasons = Counter(r.split(": ", 1)[0] for text in self.rejected.get("reason", [])
                          for r in text.split("; "))
        return {"accepted": len(self.accepted), "rejected": len(self.rejected),
                "reasons": dict(sorted(reasons.items()))}


def _norm(text: object) -> str:
    return re.sub(r"\s+", "", str(text)).lower()


def suggest_mapping(columns: Sequence[str]) -> dict[str, str]:
    """Data-model field → the column that seems to hold it, from Chinese/English headers."""
    by_norm = {_norm(c): c for c in columns}
    mapping = {}
    for field_name, aliases in FIELD_ALIASES.items():
        found = next((by_norm[_norm(a)] for a in aliases if _norm(a) in by_norm), None)
        if found is not None and found not in mapping.values():
            mapping[field_name] = found
    return mapping


def parse_mapping(text: str | None, *, columns: Sequence[str]) -> dict[str, str]:
    """``name=COL,lon=COL,…`` → field → column, checked against the fields and columns.

    Raises
    ------
    InputError
        Naming every unknown field or column.
    """
    mapping, problems = {}, []
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        key, sep, column = item.partition("=")
        key, column = key.strip(), column.strip()
        if not sep or key not in FIELD_ALIASES:
            problems.append(f"{item!r}: expected FIELD=COLUMN with FIELD one of "
                            f"{', '.join(FIELD_ALIASES)}")
        elif column not in columns:
            problems.append(f"{item!r}: no column {column!r} (columns: {', '.join(columns)})")
        else:
            mapping[key] = column
    if problems:
        raise InputError("--mapping: " + "; ".join(problems))
    return mapping


def parse_crs(text: str | None) -> str | CRS:
    """wgs84 | gcj02 | bd09 | cgcs2000 | EPSG:n → a name of the Chinese systems or a pyproj CRS.

    Raises
    ------
    InputError
        When the text is none of those.
    """
    key = (text or "wgs84").strip().lower()
    named = NAMED_CRS.get(key, key)
    if named in TO_WGS84 or named == "wgs84":
        return named
    try:
        return CRS.from_user_input(named.upper() if named.startswith("epsg") else named)
    except CRSError as exc:
        raise InputError(f"--crs {text!r}: not wgs84, gcj02, bd09, cgcs2000 or EPSG:n") from exc


def _numbers(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series.astype(str).str.strip().str.replace(",", ""),
                         errors="coerce").to_numpy(dtype=float)


def _to_wgs84(x: np.ndarray, y: np.ndarray, crs: str | CRS) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(crs, CRS):
        transformer = Transformer.from_crs(crs, STORAGE_CRS, always_xy=True)
        return transformer.transform(x, y)
    if crs in TO_WGS84:
        return TO_WGS84[crs](x, y)
    return x, y


def _inside(area: shapely.Geometry, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    ok = np.isfinite(lon) & np.isfinite(lat)
    inside = np.zeros(len(lon), dtype=bool)
    inside[ok] = shapely.contains_xy(area, lon[ok], lat[ok])
    return inside


def _hints(area: shapely.Geometry | None, x: np.ndarray, y: np.ndarray, crs: str | CRS,
           inside: np.ndarray) -> list[str]:
    """Hints when most points land outside but another reading of the raw coordinates ``x``/
    ``y`` would put them inside: lon and lat swapped, or another Chinese coordinate system."""
    usable = np.isfinite(x) & np.isfinite(y)
    if area is None or not usable.any() or inside[usable].mean() >= 0.5:
        return []
    share = inside[usable].mean()
    hints = []
    swapped = _inside(area, *_to_wgs84(y, x, crs))[usable].mean()
    if swapped > share + 0.2:
        hints.append(f"lon and lat look swapped: {swapped:.0%} of the points would land inside "
                     f"the study area with the two columns exchanged")
    for other in ("wgs84", "gcj02", "bd09"):
        if other != crs:
            landed = _inside(area, *_to_wgs84(x, y, other))[usable].mean()
            if landed > share + 0.2:
                hints.append(f"{landed:.0%} of the points would land inside the study area if "
                             f"read as {other.upper()}")
    return hints


def _categories(frame: pd.DataFrame, mapping: Mapping[str, str], *, category: str | None,
                category_field: str | None) -> pd.Series:
    if category:
        return pd.Series(category, index=frame.index)
    column = category_field or mapping.get("category")
    if not column:
        raise InputError("no category: give --category C, --category-field F or map category")
    if column not in frame.columns:
        raise InputError(f"--category-field {column!r}: no such column "
                         f"(columns: {', '.join(map(str, frame.columns))})")
    values = frame[column].astype(str).str.strip()
    return values.map(lambda v: CATEGORY_ALIASES.get(v, CATEGORY_ALIASES.get(v.lower(), v)))


def _coordinate_columns(mapping: Mapping[str, str], columns: Sequence[str], *,
                        geocoding: bool) -> bool:
    """Whether lon and lat are both mapped; without them the address must be geocoded.

    Raises
    ------
    InputError
        When lon or lat is unmapped and there is no address column to geocode, or no
        geocoder to do it.
    """
    missing = [f for f in ("lon", "lat") if f not in mapping]
    if not missing:
        return True
    listed = f"(columns: {', '.join(columns)})"
    if "address" not in mapping:
        raise InputError(f"no column for {' and '.join(missing)} {listed}; map them with "
                         f"--mapping lon=COL,lat=COL")
    if not geocoding:
        raise InputError(f"no column for {' and '.join(missing)} {listed}; the addresses in "
                         f"column {mapping['address']!r} can be geocoded: choose a geocoding "
                         f"provider (--geocode amap|tianditu|nominatim), or map lon and lat "
                         f"with --mapping lon=COL,lat=COL")
    return False


def _geocode(geocoder: Geocoder, addresses: pd.Series, wanted: np.ndarray, *,
             progress: Callable[[int, int], None] | None) -> tuple[np.ndarray, ...]:
    """Geocode ``addresses[wanted]``: WGS-84 lon, lat (NaN where not found), whether found,
    the failure reason of the others and the provider of each found one."""
    count = len(addresses)
    lon, lat = np.full(count, np.nan), np.full(count, np.nan)
    found = np.zeros(count, dtype=bool)
    failure = np.full(count, "", dtype=object)
    provider = np.full(count, "", dtype=object)
    rows = np.flatnonzero(wanted)
    results = geocoder.geocode_many(addresses.iloc[rows].tolist(), progress=progress)
    for row, result in zip(rows, results, strict=True):
        if result.status == "ok" and result.lon is not None and result.lat is not None:
            lon[row], lat[row], found[row] = result.lon, result.lat, True
            provider[row] = result.provider
        else:
            failure[row] = f"{REASONS['geocode']}: {result.reason or result.status}"
    return lon, lat, found, failure, provider


def import_facilities(frame: pd.DataFrame, *, known_categories: Collection[str],
                      mapping: Mapping[str, str] | None = None, crs: str | CRS = "wgs84",
                      category: str | None = None, category_field: str | None = None,
                      area: shapely.Geometry | None = None, source: str = "import",
                      first_row: int = 2, geocoder: Geocoder | None = None,
                      progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Check every row of ``frame`` (text cells as read) and convert the good ones.

    Parameters
    ----------
    mapping
        Data-model field → column; missing fields are suggested from the headers.
    crs
        The coordinates' system: "wgs84", "gcj02", "bd09" or a pyproj CRS (e.g. EPSG:4490).
        It applies to the file's coordinates only, never to geocoded ones (WGS-84 already).
    category, category_field
        One category for every row, or the column holding each row's category.
    area
        Where facilities may lie (EPSG:4326); None accepts anywhere.
    first_row
        The row number of the first data row (2 in a sheet whose header is row 1); rows
        without an id get ``row-<number>``.
    geocoder
        Places the rows that have an address but no coordinates (a blank lon or lat cell, or
        no lon/lat column at all): each found point (WGS-84) then goes through every other
        check, and its ``source`` ends in :data:`GEOCODED_SOURCE`; a failure rejects the row
        with ``"geocoding failed: <the provider's reason>"``. Rows rejected for another reason
        (duplicate id, unknown category, …) are not sent, and only that reason is given for
        them. Without a geocoder such rows
        are rejected for missing coordinates and a hint says how many could be geocoded.
    progress
        Called as ``progress(done, total)`` while geocoding, over the distinct addresses.

    Raises
    ------
    InputError
        When the frame cannot be imported at all: no category; no lon/lat columns and no
        address column, or an address column but no ``geocoder`` (the message says to choose
        a geocoding provider).
    """
    columns = [str(c) for c in frame.columns]
    mapping = {**suggest_mapping(columns), **(mapping or {})}
    has_coordinates = _coordinate_columns(mapping, columns, geocoding=geocoder is not None)
    frame = frame.reset_index(drop=True)
    text = {f: frame[c].astype(str).str.strip().replace({"nan": "", "None": ""})
            for f, c in mapping.items() if c in frame.columns}
    rows = pd.RangeIndex(len(frame))
    blank = pd.Series("", index=rows)
    ids = text.get("id", blank)
    ids = ids.where(ids != "", "row-" + (rows + first_row).astype(str))
    if has_coordinates:
        x, y = _numbers(frame[mapping["lon"]]), _numbers(frame[mapping["lat"]])
        no_coordinates = ((text["lon"] == "") | (text["lat"] == "")).to_numpy()
    else:
        x, y = np.full(len(frame), np.nan), np.full(len(frame), np.nan)
        no_coordinates = np.ones(len(frame), dtype=bool)
    lon, lat = _to_wgs84(x, y, crs)
    lon, lat = np.array(lon, dtype=float), np.array(lat, dtype=float)
    categories = _categories(frame, mapping, category=category, category_field=category_field)
    names = text.get("name", blank)
    addresses = text.get("address", blank)
    capacity = _numbers(text["capacity"]) if "capacity" in text else np.full(len(frame), np.nan)
    status = text.get("status", blank).str.lower().replace("", "existing")
    checks = {
        "duplicate": ids.duplicated(keep="first").to_numpy(),
        "category": ~categories.isin(list(known_categories)).to_numpy(),
        "name": (names == "").to_numpy(),
        "capacity": ("capacity" in text) & (text.get("capacity", names) != "").to_numpy()
        & ~(capacity >= 0),
        "status": ~status.isin(FACILITY_STATUSES).to_numpy(),
    }
    addressed = no_coordinates & (addresses != "").to_numpy()
    wanted = addressed & ~np.logical_or.reduce(list(checks.values()))
    failure = np.full(len(frame), "", dtype=object)
    provider = np.full(len(frame), "", dtype=object)
    geocoded = np.zeros(len(frame), dtype=bool)
    if geocoder is not None and wanted.any():
        glon, glat, geocoded, failure, provider = _geocode(geocoder, addresses, wanted,
                                                           progress=progress)
        lon, lat = np.where(geocoded, glon, lon), np.where(geocoded, glat, lat)
    from_file = np.isfinite(x) & np.isfinite(y)
    placed = from_file | geocoded
    inside = _inside(area, lon, lat) if area is not None else np.ones(len(frame), dtype=bool)
    out_of_range = placed & ((np.abs(lon) > 180) | (np.abs(lat) > 90) | ~np.isfinite(lon))
    # an address left unasked because the row fails anyway is not a coordinates problem
    unasked = addressed & ~wanted if geocoder is not None else np.zeros(len(frame), dtype=bool)
    checks = {
        "coords": ~placed & (failure == "") & ~unasked,
        "geocode": failure != "",
        "range": out_of_range,
        "outside": placed & ~inside & ~out_of_range,
        **checks,
    }
    reasons = pd.Series([""] * len(frame))
    for key, failed in checks.items():
        why = pd.Series(failure) if key == "geocode" else REASONS[key]
        reasons = reasons.where(~failed, reasons + np.where(reasons == "", "", "; ") + why)
    bad = (reasons != "").to_numpy()
    sources = text.get("source", blank).replace("", source)
    if geocoded.any():
        sources = sources.where(~geocoded, sources + [GEOCODED_SOURCE.format(provider=p)
                                                      for p in provider])
    accepted = pd.DataFrame({
        "id": ids, "name": names, "category": categories,
        "subtype": text.get("subtype", blank), "capacity": capacity, "address": addresses,
        "lon": np.round(lon, 8), "lat": np.round(lat, 8), "crs": "wgs84", "status": status,
        "source": sources,
    })[~bad].reset_index(drop=True)
    rejected = frame[bad].assign(reason=reasons[bad].to_numpy()).reset_index(drop=True)
    points = gpd.points_from_xy(accepted["lon"], accepted["lat"])
    hints = _hints(area, x, y, crs, inside)
    if geocoder is None and addressed.any():
        hints.append(f"{int(addressed.sum())} row(s) have an address but no coordinates: "
                     f"choose a geocoding provider (--geocode amap|tianditu|nominatim) to "
                     f"place them")
    return ImportReport(
        accepted=gpd.GeoDataFrame(accepted[FACILITY_COLUMNS], geometry=points, crs=STORAGE_CRS),
        rejected=rejected, hints=hints, geocoded=int(geocoded.sum()))


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
