"""The one set of row rules for facilities: what the importer, the facility files of
``coverage``, the stored dataset and scenario edits accept, reject or warn about.

A row is rejected only for what makes it unusable: no or unparseable coordinates, coordinates
out of range, an unknown ``crs``, a point outside the study area (when one is given), an id
that repeats an earlier usable row's after Unicode normalisation (NFKC, trimmed, zero-width
and other invisible characters removed), an unknown category, a capacity that is not a finite
number ≥ 0, an unknown status. An unnamed facility is accepted, named from its category's label (or
its class) and its id, e.g. ``公共停车场 (osm-123)``, and counted as a warning.

Coordinates are longitude/latitude in the system each row's ``crs`` names (wgs84, gcj02,
bd09 or cgcs2000; empty means wgs84) and come out in WGS-84 degrees.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geo.data.coords import to_wgs84
from geo.model.config import FACILITY_STATUSES, INPUT_CRS

__all__ = [
    "INTERNAL_COLUMNS",
    "PART_COLUMN",
    "REASONS",
    "ROW_COLUMN",
    "ROW_CRS_NAMES",
    "SHAPE_COLUMN",
    "STATUS_NAMES",
    "WARNINGS",
    "CheckedRows",
    "cell_text",
    "check_facility_rows",
    "facility_ids",
    "inside_area",
    "join_reasons",
    "normal_id",
    "row_numbers",
    "row_warnings",
    "text_numbers",
    "texts",
]

#: Why a row is rejected: rule key → the reason written in rejected.csv and counted in
#: summaries. A reason may carry a detail after ": " ("geocoding failed: no match").
REASONS = {
    "coords": "missing or non-numeric coordinates",
    "range": "coordinates out of range",
    "crs": "unknown crs",
    "outside": "outside the study area",
    "duplicate": "duplicate id",
    "category": "unknown category",
    "capacity": "capacity is not a finite number ≥ 0",
    "status": "unknown status",
    "geocode": "geocoding failed",
}
#: What is accepted but said: warning key → its text in summaries.
WARNINGS = {
    "unnamed": "unnamed: named from its category and id",
    "area": "an area or a line: placed at a representative point",
    "multipoint": "a MultiPoint: one facility per point, ids suffixed",
}
#: A row's ``crs`` (lower case, without "-", "_", ":" or spaces) → the system it names.
ROW_CRS_NAMES = {"wgs84": "wgs84", "epsg4326": "wgs84", "4326": "wgs84", "cgcs2000": "wgs84",
             "epsg4490": "wgs84", "gcj02": "gcj02", "bd09": "bd09", "bd09ll": "bd09"}
#: A row's ``status`` (lower case) → the data model's status.
STATUS_NAMES = {**{s: s for s in FACILITY_STATUSES},
                "现状": "existing", "现有": "existing", "已建": "existing", "在用": "existing",
                "规划": "planned", "计划": "planned", "在建": "planned", "拟建": "planned",
                "关闭": "closed", "停用": "closed", "已关闭": "closed"}
#: Columns a vector file's reader adds (see :func:`geo.data.io.points_table`): the feature's
#: number, its part number when a MultiPoint was split ('' otherwise), and "area" when the
#: point stands for a polygon or a line ('' otherwise).
ROW_COLUMN, PART_COLUMN, SHAPE_COLUMN = "__row__", "__part__", "__shape__"
INTERNAL_COLUMNS = (ROW_COLUMN, PART_COLUMN, SHAPE_COLUMN)
INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def cell_text(value: object) -> str:
    """One cell as stripped text: '' for missing (None, NaN, NA), integral floats without
    their '.0'."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if np.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value).strip()


def texts(series: pd.Series) -> pd.Series:
    """:func:`cell_text` of every cell, vectorised for columns that hold only text."""
    if pd.api.types.is_string_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.fillna("").astype(str).str.strip().astype(object)
    return series.map(cell_text).astype(object)


def normal_id(value: object) -> str:
    """An id as compared and stored: NFKC-normalised (full-width digits become ASCII), without
    invisible characters, trimmed."""
    # invisible characters out first: one between a letter and its combining mark would
    # otherwise keep NFKC from composing them until a second pass (at the next load)
    return unicodedata.normalize("NFKC", INVISIBLE.sub("", cell_text(value))).strip()


def text_numbers(series: pd.Series) -> np.ndarray:
    """Cells as floats; missing or non-numeric cells are NaN ('inf' stays infinite)."""
    text = texts(series).str.replace(",", "", regex=False)
    return pd.to_numeric(text.replace("", np.nan), errors="coerce").to_numpy(dtype=float)


def inside_area(area: shapely.Geometry, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Whether each WGS-84 point lies in ``area`` (False where a coordinate is not finite)."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    inside = np.zeros(len(lon), dtype=bool)
    inside[ok] = shapely.contains_xy(area, lon[ok], lat[ok])
    return inside


def _crs_keys(text: pd.Series) -> pd.Series:
    squeezed = text.str.lower().str.replace(r"[\s_:\-]", "", regex=True)
    return squeezed.map(lambda k: "wgs84" if k == "" else ROW_CRS_NAMES.get(k, ""))


@dataclass(frozen=True)
class CheckedRows:
    """The rows after the rules: ``frame`` holds every row in the data model (ids
    normalised, names filled, ``lon``/``lat`` in WGS-84 where usable, ``capacity`` a float),
    ``failed`` each rule's mask (keys of :data:`REASONS`, in their order), ``unnamed`` the rows
    named by the rules, ``raw`` the row values as given (for messages)."""

    frame: pd.DataFrame
    failed: dict[str, np.ndarray]
    unnamed: np.ndarray
    raw: pd.DataFrame
    known_categories: tuple[str, ...] = ()

    @property
    def accepted(self) -> np.ndarray:
        """Rows that no rule rejects."""
        return ~np.logical_or.reduce([*self.failed.values(), np.zeros(len(self.frame), bool)])

    def reasons(self) -> pd.Series:
        """Each row's reasons, joined by "; " ('' for an accepted row)."""
        return join_reasons(self.failed, count=len(self.frame))

    def problems(self, labels: pd.Series, *, rules: Collection[str] | None = None
                 ) -> list[str]:
        """One message a failed rule (of ``rules``, default all) and row, naming the row
        (``labels``) and the field."""
        out = []
        chosen = {k: v for k, v in self.failed.items() if rules is None or k in rules}
        for position in np.flatnonzero(np.logical_or.reduce(
                [*chosen.values(), np.zeros(len(self.frame), dtype=bool)])):
            raw, label = self.raw.iloc[position], labels.iloc[position]
            out += [f"{label}: {text}" for key, failed in chosen.items()
                    if failed[position] for text in _details(key, raw, self.known_categories)]
        return out


def join_reasons(failed: Mapping[str, np.ndarray], *, count: int,
                 details: Mapping[str, pd.Series] | None = None) -> pd.Series:
    """Each row's reasons (:data:`REASONS` of the failed keys, in ``failed``'s order, or the
    row's text in ``details`` for a key given there), joined by "; "; '' where none failed."""
    reasons = pd.Series([""] * count, dtype=object)
    for key, mask in failed.items():
        why = details[key] if details and key in details else REASONS[key]
        reasons = reasons.where(~mask, reasons + np.where(reasons == "", "", "; ") + why)
    return reasons


def _details(key: str, raw: pd.Series, known: Collection[str]) -> list[str]:
    """What a failed rule says about one row, naming the field and its value."""
    if key in ("coords", "range"):
        lon, lat = text_numbers(raw[["lon", "lat"]])
        return ([f"lon {raw['lon']!r} is not a longitude from -180 to 180"]
                if not (np.isfinite(lon) and abs(lon) <= 180) else []) + (
               [f"lat {raw['lat']!r} is not a latitude from -90 to 90"]
                if not (np.isfinite(lat) and abs(lat) <= 90) else [])
    return [{
        "crs": f"crs {raw['crs']!r} is not one of {', '.join([*INPUT_CRS, 'cgcs2000'])}",
        "outside": f"{raw['lon']}, {raw['lat']} lies outside the study area",
        "duplicate": f"duplicate id {normal_id(raw['id'])!r}",
        "category": f"category {raw['category']!r} is unknown and has no radius (known: "
                    f"{', '.join(known)})",
        "capacity": f"capacity {raw['capacity']!r} is not a finite number ≥ 0",
        "status": f"status {raw['status']!r} is not one of {', '.join(FACILITY_STATUSES)}",
    }.get(key, REASONS[key])]


def check_facility_rows(frame: pd.DataFrame, *, known_categories: Collection[str],
                        labels: Mapping[str, str] | None = None,
                        area: shapely.Geometry | None = None) -> CheckedRows:
    """Apply the rules to facility rows.

    Parameters
    ----------
    frame
        One row a facility with the data model's columns as text or numbers (missing columns
        are empty): ``id``, ``name``, ``category``, ``subtype``, ``capacity``, ``address``,
        ``lon``, ``lat`` (degrees in the row's ``crs``), ``crs``, ``status``, ``source``.
        An empty id is ``row-<n>`` (n counting from 1).
    known_categories
        Categories that have a radius.
    labels
        Category → the label an unnamed facility is named after (default: its subtype, else
        the category key).
    area
        Where facilities may lie (EPSG:4326); None accepts anywhere.
    """
    frame = frame.reset_index(drop=True)
    count = len(frame)
    raw = pd.DataFrame({c: (texts(frame[c]) if c in frame.columns else pd.Series([""] * count,
                                                                                   dtype=object))
                        for c in ("id", "name", "category", "subtype", "capacity", "address",
                                  "lon", "lat", "crs", "status", "source")})
    ids = raw["id"].map(normal_id)
    ids = ids.where(ids != "", "row-" + pd.Series(np.arange(1, count + 1)).astype(str))
    lon, lat = text_numbers(raw["lon"]), text_numbers(raw["lat"])
    crs = _crs_keys(raw["crs"])
    status = raw["status"].str.lower().map(lambda s: "existing" if s == "" else
                                           STATUS_NAMES.get(s, ""))
    capacity = text_numbers(raw["capacity"])
    missing = np.isnan(lon) | np.isnan(lat)
    out_of_range = ~missing & ~((np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    usable = ~missing & ~out_of_range & (crs != "").to_numpy()
    wlon, wlat = np.full(count, np.nan), np.full(count, np.nan)
    if usable.any():
        wlon[usable], wlat[usable] = to_wgs84(lon[usable], lat[usable], crs[usable].to_numpy())
    failed = {
        "coords": missing,
        "range": out_of_range,
        "crs": (crs == "").to_numpy(),
        "outside": (usable & ~inside_area(area, wlon, wlat)) if area is not None
        else np.zeros(count, dtype=bool),
        "duplicate": np.zeros(count, dtype=bool),  # below: against the usable rows only
        "category": ~raw["category"].isin(list(known_categories)).to_numpy(),
        "capacity": (raw["capacity"] != "").to_numpy() & ~(np.isfinite(capacity)
                                                           & (capacity >= 0)),
        "status": (status == "").to_numpy(),
    }
    failed["duplicate"] = _repeats_a_usable_row(ids, rejected=np.logical_or.reduce(
        [mask for key, mask in failed.items() if key != "duplicate"]))
    unnamed = (raw["name"] == "").to_numpy()
    names = raw["name"].where(~unnamed, [
        f"{(labels or {}).get(c) or s or c} ({i})"
        for c, s, i in zip(raw["category"], raw["subtype"], ids, strict=True)])
    out = pd.DataFrame({
        "id": ids, "name": names, "category": raw["category"], "subtype": raw["subtype"],
        "capacity": capacity, "address": raw["address"], "lon": np.round(wlon, 8),
        "lat": np.round(wlat, 8), "crs": "wgs84", "status": status, "source": raw["source"]})
    return CheckedRows(out, failed, unnamed, raw, tuple(known_categories))


def _repeats_a_usable_row(ids: pd.Series, *, rejected: np.ndarray) -> np.ndarray:
    """Rows whose id an earlier row that no other rule rejects already has: the first usable
    row keeps the id; a rejected row does not take it from a later one."""
    position = pd.Series(np.arange(len(ids)), dtype=float)
    first = position.where(~rejected).groupby(ids.to_numpy()).transform("min")
    return (first.notna() & (position > first)).to_numpy()


def row_warnings(frame: pd.DataFrame, *, accepted: np.ndarray, unnamed: np.ndarray
                 ) -> dict[str, int]:
    """Text of :data:`WARNINGS` → how many accepted rows it applies to: the ``unnamed`` ones,
    and those a vector file's reader marked (see :data:`INTERNAL_COLUMNS`)."""
    counts = {"unnamed": int((unnamed & accepted).sum())}
    if SHAPE_COLUMN in frame.columns:
        counts["area"] = int(((frame[SHAPE_COLUMN] == "area").to_numpy() & accepted).sum())
    if PART_COLUMN in frame.columns:
        counts["multipoint"] = int(((frame[PART_COLUMN] != "").to_numpy() & accepted).sum())
    return {WARNINGS[k]: n for k, n in counts.items() if n}


def row_numbers(frame: pd.DataFrame, *, first_row: int) -> pd.Series:
    """Each row's number as the user counts it: a vector feature's (:data:`ROW_COLUMN`), or
    ``first_row`` for the first row of a sheet."""
    if ROW_COLUMN in frame.columns:
        return texts(frame[ROW_COLUMN]).reset_index(drop=True)
    return pd.Series(np.arange(len(frame)) + first_row).astype(str)


def facility_ids(frame: pd.DataFrame, ids: pd.Series | None, *, first_row: int) -> pd.Series:
    """Each row's id: ``ids`` normalised (see :func:`normal_id`), ``row-<number>`` when empty
    (see :func:`row_numbers`), ``-<part>`` appended for a MultiPoint's parts."""
    numbers = row_numbers(frame, first_row=first_row)
    ids = (ids.map(normal_id).reset_index(drop=True) if ids is not None
           else pd.Series([""] * len(frame), dtype=object))
    ids = ids.where(ids != "", "row-" + numbers)
    if PART_COLUMN in frame.columns:
        parts = texts(frame[PART_COLUMN]).reset_index(drop=True)
        ids = ids.where(parts == "", ids + "-" + parts)
    return ids.astype(object)
