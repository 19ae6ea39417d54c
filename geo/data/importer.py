"""Importing facility lists as departments keep them: any column names (Chinese or English),
any of the Chinese coordinate systems (per file, or per row in a ``crs`` column), source
classes mapped to categories or ignored, rows checked one by one by the rules of
:mod:`geo.data.rules`, nothing dropped silently: every row is accepted, rejected with its
reasons, or counted as ignored.

Pure: frames in, an :class:`ImportReport` out (accepted rows in the data model, rejected rows as
they came with a reason, hints about the coordinates, warnings). Rows with an address but no
coordinates are placed by a :class:`geo.data.geocode.Geocoder` when one is given: the only
I/O, and the caller's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geo.data.coords import bd09_to_wgs84, gcj02_to_wgs84
from geo.data.mapping import IGNORE, category_of, suggest_mapping
from geo.data.rules import (
    INTERNAL_COLUMNS,
    REASONS,
    check_facility_rows,
    facility_ids,
    inside_area,
    join_reasons,
    row_warnings,
    text_numbers,
    texts,
)
from geo.data.schema import FACILITY_COLUMNS
from geo.model.config import STORAGE_CRS
from geo.model.errors import InputError

if TYPE_CHECKING:
    from geo.data.geocode import Geocoder

__all__ = ["GEOCODED_SOURCE", "OSM_CREDIT", "ImportReport", "import_facilities"]

#: Added to the ``source`` of an accepted row whose point came from geocoding its address.
GEOCODED_SOURCE = "; geocoded: {provider}"
#: Added to the default ``source`` of a file that comes from OpenStreetMap (its licence asks
#: for the credit wherever the data is shown).
OSM_CREDIT = " (© OpenStreetMap contributors, ODbL 1.0)"
#: Columns that mark an OpenStreetMap extract (Geofabrik shapefiles, Overpass exports).
OSM_COLUMNS = {"osm_id", "@id", "osm_type"}
TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}


@dataclass(frozen=True)
class ImportReport:
    """``accepted``: the data model's columns, WGS-84; ``rejected``: the original rows plus a
    ``reason`` column; ``hints``: what may be wrong with the coordinates as a whole;
    ``geocoded``: how many rows got their point from geocoding their address (accepted, or
    rejected for another reason such as lying outside the study area); ``warnings``: text of
    :data:`geo.data.rules.WARNINGS` → accepted rows it applies to; ``ignored``: source class →
    rows left out because their class is ignored."""

    accepted: gpd.GeoDataFrame
    rejected: pd.DataFrame
    hints: list[str] = field(default_factory=list)
    geocoded: int = 0
    warnings: dict[str, int] = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict:
        """``{"accepted": n, "rejected": m, "reasons": {reason: count}, "warnings": {warning:
        count}, "ignored": k, "ignored_classes": {class: count}}``; a reason's detail after
        ": " is not part of its key (see :data:`geo.data.rules.REASONS`)."""
        reasons = Counter(r.split(": ", 1)[0] for text in self.rejected.get("reason", [])
                          for r in text.split("; "))
        return {"accepted": len(self.accepted), "rejected": len(self.rejected),
                "reasons": dict(sorted(reasons.items())), "warnings": dict(self.warnings),
                "ignored": sum(self.ignored.values()), "ignored_classes": dict(self.ignored)}


def _to_wgs84(x: np.ndarray, y: np.ndarray, crs: str | CRS) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(crs, CRS):
        transformer = Transformer.from_crs(crs, STORAGE_CRS, always_xy=True)
        return transformer.transform(x, y)
    if crs in TO_WGS84:
        return TO_WGS84[crs](x, y)
    return x, y


def _hints(area: shapely.Geometry | None, x: np.ndarray, y: np.ndarray, crs: str | CRS,
           inside: np.ndarray) -> list[str]:
    """Hints when most points land outside but another reading of the raw coordinates ``x``/
    ``y`` would put them inside: lon and lat swapped, or another Chinese coordinate system."""
    usable = np.isfinite(x) & np.isfinite(y)
    if area is None or not usable.any() or inside[usable].mean() >= 0.5:
        return []
    share = inside[usable].mean()
    hints = []
    swapped = inside_area(area, *_to_wgs84(y, x, crs))[usable].mean()
    if swapped > share + 0.2:
        hints.append(f"lon and lat look swapped: {swapped:.0%} of the points would land inside "
                     f"the study area with the two columns exchanged")
    for other in ("wgs84", "gcj02", "bd09"):
        if other != crs:
            landed = inside_area(area, *_to_wgs84(x, y, other))[usable].mean()
            if landed > share + 0.2:
                hints.append(f"{landed:.0%} of the points would land inside the study area if "
                             f"read as {other.upper()}")
    return hints


def _categories(frame: pd.DataFrame, mapping: Mapping[str, str], *, category: str | None,
                category_field: str | None, category_map: Mapping[str, str] | None
                ) -> tuple[pd.Series, pd.Series]:
    """Each row's category (or :data:`geo.data.mapping.IGNORE`) and its source class ('' when
    one category is given for every row)."""
    if category:
        return pd.Series(category, index=frame.index, dtype=object), pd.Series(
            "", index=frame.index, dtype=object)
    column = category_field or mapping.get("category")
    if not column:
        raise InputError("no category: give --category C, --category-field F or map category")
    if column not in frame.columns:
        raise InputError(f"--category-field {column!r}: no such column "
                         f"(columns: {', '.join(map(str, frame.columns))})")
    classes = texts(frame[column])
    return category_of(classes, category_map), classes


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


def _row_coordinates(frame: pd.DataFrame, text: Mapping[str, pd.Series], *,
                     has_coordinates: bool, crs: str | CRS) -> tuple[np.ndarray, ...]:
    """Raw x/y of the file; lon/lat for the rules (x/y, or their WGS-84 transform when the
    file's CRS is a pyproj one and the row names none); whether the row has no coordinates;
    each row's crs for the rules (its own, else the file's)."""
    count = len(frame)
    if has_coordinates:
        x, y = text_numbers(text["lon"]), text_numbers(text["lat"])
        none = ((text["lon"] == "") | (text["lat"] == "")).to_numpy()
    else:
        x, y, none = np.full(count, np.nan), np.full(count, np.nan), np.ones(count, dtype=bool)
    own = text.get("crs", pd.Series([""] * count, dtype=object))
    lon, lat = x.copy(), y.copy()
    if isinstance(crs, CRS):
        projected = (own == "").to_numpy()
        lon[projected], lat[projected] = _to_wgs84(x[projected], y[projected], crs)
        return x, y, lon, lat, none, own.where(~projected, "wgs84")
    return x, y, lon, lat, none, own.where(own != "", crs)


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
                      category_map: Mapping[str, str] | None = None,
                      labels: Mapping[str, str] | None = None,
                      area: shapely.Geometry | None = None, source: str = "import",
                      first_row: int = 2, geocoder: Geocoder | None = None,
                      progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Check every row of ``frame`` (cells as read) and convert the good ones.

    Parameters
    ----------
    mapping
        Data-model field → column; missing fields are suggested from the headers.
    crs
        The coordinates' system: "wgs84", "gcj02", "bd09" or a pyproj CRS (e.g. EPSG:4490).
        A row's own ``crs`` (a column mapped to ``crs``) wins over it; it never applies to
        geocoded points (WGS-84 already).
    category, category_field, category_map
        One category for every row; or the column holding each row's category or source
        class, read through ``category_map`` (class → category or ``ignore``, see
        :func:`geo.data.mapping.check_category_map`) and the known aliases. Rows whose class
        maps to ``ignore`` are counted in :attr:`ImportReport.ignored`, nothing else.
    labels
        Category → the label an unnamed facility is named after.
    area
        Where facilities may lie (EPSG:4326); None accepts anywhere.
    source
        The ``source`` of rows that name none; a file from OpenStreetMap (an ``osm_id``
        column) gets :data:`OSM_CREDIT` added.
    first_row
        The row number of the first data row (2 in a sheet whose header is row 1); rows
        without an id get ``row-<number>``. A vector file's rows carry their feature number
        (:data:`ROW_COLUMN`).
    geocoder
        Places the rows that have an address but no coordinates (a blank lon or lat cell, or
        no lon/lat column at all): each found point (WGS-84) then goes through every other
        check, and its ``source`` ends in :data:`GEOCODED_SOURCE`; a failure rejects the row
        with ``"geocoding failed: <the provider's reason>"``. Rows rejected for another reason
        (duplicate id, unknown category, …) are not sent, and only that reason is given for
        them. Without a geocoder such rows are rejected for missing coordinates and a hint
        says how many could be geocoded.
    progress
        Called as ``progress(done, total)`` while geocoding, over the distinct addresses.

    Raises
    ------
    InputError
        When the frame cannot be imported at all: no category; no lon/lat columns and no
        address column, or an address column but no ``geocoder`` (the message says to choose
        a geocoding provider).
    """
    columns = [str(c) for c in frame.columns if c not in INTERNAL_COLUMNS]
    mapping = {**suggest_mapping(columns), **(mapping or {})}
    if OSM_COLUMNS & set(columns) and "OpenStreetMap" not in source:
        source += OSM_CREDIT
    has_coordinates = _coordinate_columns(mapping, columns, geocoding=geocoder is not None)
    frame = frame.reset_index(drop=True)
    categories, classes = _categories(frame, mapping, category=category,
                                      category_field=category_field, category_map=category_map)
    ignored = (categories == IGNORE).to_numpy()
    ignored_classes = classes[ignored].value_counts(sort=True)
    frame, categories = frame[~ignored].reset_index(drop=True), categories[~ignored]
    text = {f: texts(frame[c]) for f, c in mapping.items() if c in frame.columns}
    x, y, lon, lat, no_coordinates, row_crs = _row_coordinates(
        frame, text, has_coordinates=has_coordinates, crs=crs)
    blank = pd.Series([""] * len(frame), dtype=object)
    rows = pd.DataFrame({
        "id": facility_ids(frame, text.get("id"), first_row=first_row),
        "name": text.get("name", blank),
        "category": categories.reset_index(drop=True), "subtype": text.get("subtype", blank),
        "capacity": text.get("capacity", blank), "address": text.get("address", blank),
        "lon": lon, "lat": lat, "crs": row_crs, "status": text.get("status", blank),
        "source": text.get("source", blank).replace("", source)})
    checked = check_facility_rows(rows, known_categories=known_categories, labels=labels,
                                  area=area)
    addressed = no_coordinates & (rows["address"] != "").to_numpy()
    fails_anyway = np.logical_or.reduce([checked.failed[k] for k in
                                         ("duplicate", "category", "capacity", "status")])
    wanted = addressed & ~fails_anyway
    failure = pd.Series([""] * len(rows), dtype=object)
    geocoded = np.zeros(len(rows), dtype=bool)
    if geocoder is not None and wanted.any():
        glon, glat, geocoded, failure_array, provider = _geocode(
            geocoder, rows["address"], wanted, progress=progress)
        failure = pd.Series(failure_array, dtype=object)
        rows.loc[geocoded, "lon"], rows.loc[geocoded, "lat"] = glon[geocoded], glat[geocoded]
        rows.loc[geocoded, "crs"] = "wgs84"
        rows.loc[geocoded, "source"] = [s + GEOCODED_SOURCE.format(provider=p) for s, p in
                                        zip(rows["source"][geocoded], provider[geocoded],
                                            strict=True)]
        checked = check_facility_rows(rows, known_categories=known_categories, labels=labels,
                                      area=area)
    # an address left unasked because the row fails anyway is not a coordinates problem
    unasked = addressed & ~wanted if geocoder is not None else np.zeros(len(rows), dtype=bool)
    failed = {**checked.failed, "geocode": (failure != "").to_numpy()}
    failed["coords"] = failed["coords"] & ~failed["geocode"] & ~unasked
    reasons = join_reasons(failed, count=len(rows), details={"geocode": failure})
    bad = (reasons != "").to_numpy()
    accepted = checked.frame[~bad].reset_index(drop=True)
    rejected = frame.drop(columns=[c for c in INTERNAL_COLUMNS if c in frame.columns])
    rejected = rejected[bad].assign(reason=reasons[bad].to_numpy()).reset_index(drop=True)
    inside = (inside_area(area, checked.frame["lon"].to_numpy(), checked.frame["lat"].to_numpy())
              if area is not None else np.ones(len(rows), dtype=bool))
    hints = _hints(area, x, y, crs, inside)
    if geocoder is None and addressed.any():
        hints.append(f"{int(addressed.sum())} row(s) have an address but no coordinates: "
                     f"choose a geocoding provider (--geocode amap|tianditu|nominatim) to "
                     f"place them")
    points = gpd.points_from_xy(accepted["lon"], accepted["lat"])
    return ImportReport(
        accepted=gpd.GeoDataFrame(accepted[FACILITY_COLUMNS], geometry=points, crs=STORAGE_CRS),
        rejected=rejected, hints=hints, geocoded=int(geocoded.sum()),
        warnings=row_warnings(frame, accepted=~bad, unnamed=checked.unnamed),
        ignored={str(k): int(v) for k, v in ignored_classes.items()})
