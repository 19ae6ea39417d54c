"""Frames → folium layers: street boundaries, facility markers, H3 coverage cells.

No streamlit here. Every user text that reaches HTML (names, addresses) is escaped first.
"""

from __future__ import annotations

import html
import json

import folium
import geopandas as gpd
import pandas as pd

from layers.style import (
    COVERED_COLOUR,
    GAP_COLOUR,
    STATUS_STYLE,
    category_colour,
    distance_colour,
)

__all__ = ["add_layer_control", "base_map", "coverage_layer", "facility_layer", "street_layer"]

DEMO_ATTRIBUTION = "Demo data: approximate, not official (演示数据，示意)"


def _escaped(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A copy with the given text columns HTML-escaped."""
    out = frame.copy()
    for column in columns:
        out[column] = out[column].map(lambda v: html.escape(str(v)) if pd.notna(v) else "")
    return out


def base_map(bounds: tuple[float, float, float, float], *, tiles: str | None = "OpenStreetMap",
             attribution: str = "") -> folium.Map:
    """A map fitted to ``bounds`` (minx, miny, maxx, maxy in WGS-84 degrees).

    ``tiles`` None draws no basemap (a plain background), for use without network.
    """
    minx, miny, maxx, maxy = bounds
    fmap = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None,
                      control_scale=True, prefer_canvas=True)
    if tiles:
        folium.TileLayer(tiles, name=tiles, control=False,
                         attr=None if tiles == "OpenStreetMap" else attribution).add_to(fmap)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    if attribution:
        fmap.get_root().html.add_child(folium.Element(
            f'<div style="position:fixed;bottom:4px;left:4px;z-index:999;font-size:11px;'
            f'background:#fff8;padding:1px 4px">{html.escape(attribution)}</div>'))
    return fmap


def street_layer(streets: gpd.GeoDataFrame, *, name: str = "Streets 街道") -> folium.FeatureGroup:
    """Street outlines with a tooltip of name, English name, code and residents."""
    frame = _escaped(streets, ["name", "name_en", "code"])
    frame["residents"] = streets["population"].map(lambda p: f"{p:,.0f}" if pd.notna(p) else "–")
    group = folium.FeatureGroup(name=name)
    folium.GeoJson(
        json.loads(frame[["code", "name", "name_en", "residents", "geometry"]].to_json()),
        style_function=lambda _: {"color": "#333333", "weight": 2, "fillOpacity": 0.0},
        highlight_function=lambda _: {"weight": 4},
        tooltip=folium.GeoJsonTooltip(["name", "name_en", "code", "residents"],
                                      aliases=["街道", "Street", "Code", "Residents 常住人口"]),
    ).add_to(group)
    return group


def facility_layer(facilities: gpd.GeoDataFrame, *, category: str,
                   name: str) -> folium.FeatureGroup:
    """Circle markers of one category's facilities, sized by capacity; planned ones hollow and
    dashed, closed ones dotted."""
    rows = facilities[facilities["category"] == category]
    frame = _escaped(rows, ["name", "address", "subtype", "status"])
    colour = category_colour(category)
    largest = float(rows["capacity"].max()) if rows["capacity"].notna().any() else 0.0
    group = folium.FeatureGroup(name=name)
    for row in frame.itertuples():
        size = 4 + 8 * (row.capacity / largest) ** 0.5 if largest and pd.notna(row.capacity) else 5
        style = STATUS_STYLE.get(rows.loc[row.Index, "status"], STATUS_STYLE["existing"])
        capacity = f"{row.capacity:,.0f}" if pd.notna(row.capacity) else "–"
        folium.CircleMarker(
            location=[row.lat, row.lon], radius=size, color=colour, weight=1.5,
            fill=True, fill_color=colour, fill_opacity=style["fill_opacity"],
            dash_array=style["dash_array"],
            tooltip=f"<b>{row.name}</b><br>{row.subtype} · {row.status} · {capacity}"
                    f"<br>{row.address}",
        ).add_to(group)
    return group


def coverage_layer(cells: gpd.GeoDataFrame, *, radius_m: float, name: str,
                   mode: str = "distance") -> folium.FeatureGroup:
    """H3 cells of one category as one GeoJSON layer.

    ``mode`` "distance" colours by distance to the nearest facility relative to ``radius_m``
    (metres); "covered" colours covered cells blue and gaps red.
    """
    frame = _escaped(cells, ["street", "nearest_name"])
    frame["fill"] = [
        distance_colour(d, radius_m) if mode == "distance"
        else (COVERED_COLOUR if covered else GAP_COLOUR)
        for d, covered in zip(cells["distance_m"], cells["covered"], strict=True)
    ]
    frame["distance"] = cells["distance_m"].map(lambda d: f"{d:,.0f} m" if d != float("inf")
                                                else "–")
    frame["covered"] = cells["covered"].map({True: "yes 是", False: "no 否"})
    group = folium.FeatureGroup(name=name)
    folium.GeoJson(
        json.loads(frame[["cell", "street", "distance", "nearest_name", "covered", "fill",
                          "geometry"]].to_json()),
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#ffffff",
                                  "weight": 0.3, "fillOpacity": 0.55},
        tooltip=folium.GeoJsonTooltip(["street", "distance", "nearest_name", "covered"],
                                      aliases=["街道 Street", "最近距离 Distance",
                                               "最近设施 Nearest", "覆盖 Covered"]),
    ).add_to(group)
    return group


def add_layer_control(fmap: folium.Map) -> None:
    """A layer switcher, expanded, listing every feature group added so far."""
    folium.LayerControl(collapsed=False).add_to(fmap)
