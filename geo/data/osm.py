"""OpenStreetMap points of interest (Geofabrik classes) → facilities of the data model."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

__all__ = ["OSM_CLASS_CATEGORIES", "osm_facilities"]

#: Geofabrik ``fclass`` → facility category.
OSM_CLASS_CATEGORIES = {
    "marketplace": "market",
    "greengrocer": "market",
    "supermarket": "market",
    "pitch": "sports",
    "sports_centre": "sports",
    "swimming_pool": "sports",
    "stadium": "sports",
    "parking": "parking",
}


def osm_facilities(pois: gpd.GeoDataFrame, *, class_field: str = "fclass") -> pd.DataFrame:
    """The POIs whose class maps to a category, as a facilities frame (before validation).

    ``id`` is ``osm-<osm_id>``, an unnamed POI is named after its class, ``subtype`` is the OSM
    class and ``source`` credits OpenStreetMap. Geometry stays (points in the POIs' CRS);
    :func:`geo.data.schema.normalize_facilities` takes lon/lat from it.
    """
    rows = pois[pois[class_field].isin(list(OSM_CLASS_CATEGORIES))].copy()
    names = rows["name"].fillna("").astype(str).str.strip() if "name" in rows else ""
    osm_ids = rows["osm_id"].astype(str) if "osm_id" in rows else rows.index.astype(str)
    unnamed = rows[class_field] + " (OSM " + osm_ids + ")"
    return gpd.GeoDataFrame({
        "id": "osm-" + osm_ids,
        "name": names.where(names != "", unnamed),
        "category": rows[class_field].map(OSM_CLASS_CATEGORIES),
        "subtype": rows[class_field],
        "source": "© OpenStreetMap contributors, ODbL 1.0",
    }, geometry=rows.geometry, crs=pois.crs).reset_index(drop=True)
