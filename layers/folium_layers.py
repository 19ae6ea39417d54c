"""Frames → folium layers: street boundaries, facility markers, H3 coverage cells.

No streamlit here. Every user text that reaches HTML (names, addresses) is escaped first.
"""

from __future__ import annotations

import html
import json

import folium
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from layers.style import (
    COVERED_COLOUR,
    DISTANCE_BANDS,
    GAP_COLOUR,
    STATUS_STYLE,
    category_colour,
    distance_colour,
)

__all__ = [
    "add_layer_control",
    "add_legend",
    "base_map",
    "coverage_layer",
    "coverage_legend_entries",
    "facility_layer",
    "street_layer",
]

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
        _Attribution(attribution).add_to(fmap)
    return fmap


class _Attribution(MacroElement):
    """A line of text (escaped) added to the map's attribution control."""

    _template = Template("""{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
    {% endmacro %}""")

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = html.escape(text)


def add_legend(fmap: folium.Map, *, title: str, entries: list[tuple[str, str]]) -> None:
    """A fixed legend box at the bottom right: a swatch a (colour, label) entry; text escaped."""
    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;margin-right:4px;'
        f'background:{html.escape(colour)}"></span>{html.escape(label)}</div>'
        for colour, label in entries)
    fmap.get_root().html.add_child(folium.Element(
        f'<div class="map-legend" style="position:fixed;bottom:28px;right:8px;z-index:1000;'
        f'background:#fffe;padding:6px 8px;font:12px sans-serif;border-radius:4px;'
        f'box-shadow:0 1px 4px #0004"><b>{html.escape(title)}</b>{rows}</div>'))


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


def facility_layer(facilities: gpd.GeoDataFrame, *, category: str, name: str,
                   show: bool = True) -> folium.FeatureGroup:
    """Circle markers of one category's facilities, sized by capacity; planned ones hollow and
    dashed, closed ones dotted. ``show`` False adds the layer switched off."""
    rows = facilities[facilities["category"] == category]
    frame = _escaped(rows, ["name", "address", "subtype", "status"])
    colour = category_colour(category)
    largest = float(rows["capacity"].max()) if rows["capacity"].notna().any() else 0.0
    group = folium.FeatureGroup(name=name, show=show)
    for row in frame.itertuples():
        size = 3 + 6 * (row.capacity / largest) ** 0.5 if largest and pd.notna(row.capacity) else 4
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


def coverage_legend_entries(*, radius_m: float, mode: str) -> list[tuple[str, str]]:
    """Legend entries of :func:`coverage_layer` for ``mode`` and ``radius_m`` (metres)."""
    if mode == "covered":
        return [(COVERED_COLOUR, f"≤ {radius_m:,.0f} m 已覆盖 covered"),
                (GAP_COLOUR, f"> {radius_m:,.0f} m 缺口 gap")]
    entries, lower = [], 0.0
    for limit, colour in DISTANCE_BANDS:
        upper = limit * radius_m
        label = (f"{lower:,.0f}–{upper:,.0f} m" if upper != float("inf")
                 else f"> {lower:,.0f} m")
        entries.append((colour, label))
        lower = upper
    return entries
