"""How a department's list maps onto the data model: which column holds which field (from
Chinese or English headers), which coordinate system the file is in, and which category each
source class is (or that its rows are ignored).

Pure: names and frames in, mappings out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence

import pandas as pd
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo.data.osm import OSM_CLASS_CATEGORIES
from geo.data.rules import cell_text, texts
from geo.model.errors import InputError

__all__ = [
    "CATEGORY_ALIASES",
    "FIELD_ALIASES",
    "IGNORE",
    "NAMED_CRS",
    "category_of",
    "check_category_map",
    "class_table",
    "parse_crs",
    "parse_mapping",
    "suggest_mapping",
]

#: Data-model field → header names it is recognised by (compared case-insensitively).
FIELD_ALIASES = {
    "id": ("id", "编号", "序号", "编码", "设施编号", "編號", "序號", "fid", "osm_id"),
    "name": ("name", "名称", "设施名称", "名字", "单位名称", "名稱", "設施名稱"),
    "category": ("category", "类型", "类别", "设施类型", "设施类别", "類型", "類別"),
    "subtype": ("subtype", "子类", "细类", "子類", "細類", "fclass"),
    "capacity": ("capacity", "容量", "规模", "泊位", "泊位数", "座位", "座位数", "桩数",
                 "充电桩数", "規模", "泊位數", "座位數"),
    "address": ("address", "地址", "详细地址", "所在地址", "詳細地址"),
    "lon": ("lon", "lng", "long", "longitude", "x", "经度", "东经", "經度", "東經"),
    "lat": ("lat", "latitude", "y", "纬度", "北纬", "緯度", "北緯"),
    "crs": ("crs", "坐标系", "坐标系统", "座標系"),
    "status": ("status", "状态", "狀態"),
    "source": ("source", "来源", "数据来源", "來源"),
}
#: A source class whose rows are left out of an import: counted, neither accepted nor rejected.
IGNORE = "ignore"
#: Category values as lists write them → the category key (OSM/Geofabrik classes included).
CATEGORY_ALIASES = {
    **OSM_CLASS_CATEGORIES,
    "charging_station": "charger",
    "充电桩": "charger", "充电站": "charger", "充电设施": "charger",
    "菜市场": "market", "菜场": "market", "智慧菜场": "market", "农贸市场": "market",
    "体育场馆": "sports", "体育设施": "sports", "运动场": "sports", "健身点": "sports",
    "长者食堂": "canteen", "助餐点": "canteen", "老年食堂": "canteen", "社区食堂": "canteen",
    "停车场": "parking", "公共停车场": "parking", "停车库": "parking",
}
#: ``--crs`` names → a Chinese system's name, or an EPSG code for pyproj.
NAMED_CRS = {"wgs84": "wgs84", "gcj02": "gcj02", "bd09": "bd09", "cgcs2000": "EPSG:4490"}


def _norm(text: object) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


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
    if named in ("wgs84", "gcj02", "bd09"):
        return named
    if not re.fullmatch(r"epsg:\d{4,6}", named.lower()):
        raise InputError(f"--crs {text!r}: not wgs84, gcj02, bd09, cgcs2000 or EPSG:n")
    try:
        return CRS.from_user_input(named.upper())
    except CRSError:
        raise InputError(f"--crs {text!r}: no such EPSG code") from None


def _folded(table: Mapping[str, str]) -> dict[str, str]:
    return {_norm(k): v for k, v in table.items()}


_FOLDED_ALIASES = _folded(CATEGORY_ALIASES)


def category_of(values: pd.Series, category_map: Mapping[str, str] | None = None) -> pd.Series:
    """The category (or :data:`IGNORE`) each source class or category value means: from
    ``category_map`` first, then the known aliases (exact, then case- and width-insensitive);
    the value itself when nothing knows it (the rules then reject it as unknown)."""
    category_map = category_map or {}
    folded_map = _folded(category_map)

    def one(value: str) -> str:
        for exact, folded in ((category_map, folded_map), (CATEGORY_ALIASES, _FOLDED_ALIASES)):
            if value in exact:
                return exact[value]
            if _norm(value) in folded:
                return folded[_norm(value)]
        return value

    text = texts(values)
    meaning = {value: one(value) for value in pd.unique(text)}
    return text.map(meaning).astype(object)


def check_category_map(mapping: Mapping[str, object], *, known_categories: Collection[str],
                       source: str) -> dict[str, str]:
    """A class → category map checked: every value a known category or ``ignore``.

    Raises
    ------
    InputError
        Naming every class whose value is neither (and the allowed values).
    """
    allowed = [*known_categories, IGNORE]
    out, problems = {}, []
    for key, value in mapping.items():
        text = cell_text(value)
        if text not in allowed:
            problems.append(f"{key!r} → {text!r}")
        else:
            out[cell_text(key)] = text
    if problems:
        raise InputError(f"{source}: not a category or {IGNORE}: {'; '.join(problems)} "
                         f"(allowed: {', '.join(allowed)})")
    return out


def class_table(values: pd.Series, *, known_categories: Collection[str],
                category_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Each distinct source class with its row count and the category it maps to: the map's,
    the known alias's, or :data:`IGNORE` when neither knows it. Most rows first."""
    counts = texts(values).value_counts(sort=True)
    categories = category_of(pd.Series(counts.index, dtype=object), category_map)
    categories = [c if c in known_categories or c == IGNORE else IGNORE for c in categories]
    return pd.DataFrame({"class": list(counts.index), "rows": counts.to_numpy(),
                         "category": categories})
