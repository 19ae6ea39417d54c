"""Frames → folium layers: street boundaries and labels, clustered facility markers, H3 cells.

No streamlit here. Each layer's SVG paths carry a class (``street-boundary``,
``facility-<category>``, ``coverage-cell``, ``gap-cell``) so a browser test can find what was
drawn.

Output encoding (see :mod:`layers.encoding`): every text that Leaflet shows — names, addresses,
subtypes, statuses, street codes, tooltip labels, layer names (the layer control sets them as
HTML), legend text, the attribution, street labels (``DivIcon`` HTML) — is HTML-escaped with
:func:`~layers.encoding.html_text`, and reaches the page's script only as JSON data (jinja's
``tojson``, folium's ``tojavascript`` or :func:`~layers.encoding.js_value`), never pasted
into a JavaScript string or template literal. folium's own ``Tooltip`` and ``Popup`` paste their
text into a template literal, so markers use :class:`HtmlTooltip` and no layer uses a popup.
Category keys become CSS class names through :func:`~layers.encoding.class_token`.
"""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.plugins import MarkerCluster
from folium.template import Template

from geo.engine.hexgrid import cells_outline
from layers.encoding import class_token, escaped_columns, html_text, js_value
from layers.style import (
    CHANGE_COLOURS,
    COVERED_COLOUR,
    DISTANCE_BANDS,
    GAP_COLOUR,
    STATUS_STYLE,
    category_colour,
    distance_colour,
)

__all__ = [
    "FACILITY_PANE",
    "HtmlTooltip",
    "add_facility_pane",
    "add_layer_control",
    "add_legend",
    "base_map",
    "cell_fills",
    "change_layer",
    "coverage_layer",
    "coverage_legend_entries",
    "facility_layer",
    "gap_layer",
    "isochrone_layer",
    "merged_cells",
    "merged_coverage_layer",
    "street_layer",
]

#: Coordinates sent to the browser are rounded to this grid (degrees; 1e-6° ≈ 0.1 m).
GRID_DEGREES = 1e-6
LABEL_CSS = ("<style>.street-label{font:bold 12px sans-serif;color:#222;text-align:center;"
             "text-shadow:0 0 3px #fff,0 0 3px #fff;white-space:nowrap;pointer-events:none}"
             "</style>")
#: Zoom range of every map (marker clustering needs a maximum even without tiles).
MIN_ZOOM, MAX_ZOOM = 9, 19
#: Markers stop clustering from this zoom on.
CLUSTER_UNTIL_ZOOM = 16
#: Colours a legend swatch accepts (it lands in a CSS declaration): ``#rgb`` to ``#rrggbbaa``.
_CSS_COLOUR = re.compile(r"#[0-9A-Fa-f]{3,8}")


class HtmlTooltip(folium.Tooltip):
    """A tooltip showing ``markup``: HTML whose user text is already escaped with
    :func:`~layers.encoding.html_text`. It reaches ``bindTooltip`` as a JSON string (folium's
    ``Tooltip`` pastes its text into a JavaScript template literal, where ``${…}`` runs)."""

    _template = Template("""{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindTooltip({{ this.text|tojson }},
            {{ this.options|tojavascript }});
    {% endmacro %}""")

    def __init__(self, markup: str, *, sticky: bool = True) -> None:
        super().__init__(f"<div>{markup}</div>", sticky=sticky)


def _geojson(frame: gpd.GeoDataFrame, columns: list[str]) -> dict:
    """GeoJSON of the given columns, geometry rounded to :data:`GRID_DEGREES`."""
    rounded = frame[columns].copy()
    rounded = gpd.GeoDataFrame(rounded, geometry=shapely.set_precision(
        frame.geometry.to_numpy(), GRID_DEGREES), crs=frame.crs)
    return json.loads(rounded.to_json(drop_id=True))


def base_map(bounds: tuple[float, float, float, float], *, attribution: str = "") -> folium.Map:
    """An empty map (no tiles: a plain background) fitted to ``bounds``
    (minx, miny, maxx, maxy in WGS-84 degrees, or GCJ-02 when drawn on AMap tiles)."""
    minx, miny, maxx, maxy = bounds
    fmap = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None,
                      control_scale=True, zoom_snap=0.25)
    # without a tile layer folium drops min/max zoom, which marker clustering needs
    fmap.options.update(minZoom=MIN_ZOOM, maxZoom=MAX_ZOOM)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    fmap.get_root().header.add_child(folium.Element(LABEL_CSS))
    if attribution:
        _Attribution(attribution).add_to(fmap)
    return fmap


class _Attribution(MacroElement):
    """A line of text added to the map's attribution control (HTML-escaped, then JSON)."""

    _template = Template("""{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
    {% endmacro %}""")

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = html_text(text)


def add_legend(fmap: folium.Map, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
    """One fixed legend box at the bottom right: per (title, entries) section a title and a
    swatch a (colour, label) entry. Titles and labels are HTML-escaped.

    Raises
    ------
    ValueError
        When a colour is not a hex colour (``#rgb`` … ``#rrggbbaa``).
    """
    bad = [colour for _, entries in sections for colour, _ in entries
           if not _CSS_COLOUR.fullmatch(str(colour))]
    if bad:
        raise ValueError(f"legend colours must be hex colours like #1b9e77, got {bad!r}")
    parts = []
    for title, entries in sections:
        parts.append(f"<b>{html_text(title)}</b>")
        parts += [f'<div><span style="display:inline-block;width:12px;height:12px;'
                  f'margin-right:4px;background:{colour}"></span>'
                  f"{html_text(label)}</div>" for colour, label in entries]
    fmap.get_root().html.add_child(folium.Element(
        f'<div class="map-legend" style="position:fixed;bottom:28px;right:8px;z-index:1000;'
        f'background:#fffe;padding:6px 8px;font:12px sans-serif;border-radius:4px;'
        f'box-shadow:0 1px 4px #0004;max-height:60%;max-width:30%;overflow:auto;'
        f'overflow-wrap:anywhere">{"".join(parts)}</div>'))


def street_layer(streets: gpd.GeoDataFrame, *, name: str, label_field: str = "name",
                 aliases: tuple[str, str, str, str] = ("街道", "English", "代码", "常住人口"),
                 ) -> folium.FeatureGroup:
    """Street outlines with a tooltip (name, English name, code, residents) and a text label
    (``label_field``) at each street's inner point. Every text is HTML-escaped."""
    frame = escaped_columns(streets, ["name", "name_en", "code"])
    frame["residents"] = streets["population"].map(lambda p: f"{p:,.0f}" if pd.notna(p) else "–")
    group = folium.FeatureGroup(name=html_text(name))
    folium.GeoJson(
        _geojson(frame, ["code", "name", "name_en", "residents"]),
        style_function=lambda _: {"color": "#333333", "weight": 2, "fillOpacity": 0.0,
                                  "className": "street-boundary"},
        highlight_function=lambda _: {"weight": 4},
        tooltip=folium.GeoJsonTooltip(["name", "name_en", "code", "residents"],
                                      aliases=_aliases(aliases)),
    ).add_to(group)
    points = streets.geometry.representative_point()
    for point, label in zip(points, streets[label_field].map(html_text), strict=True):
        folium.Marker(  # not interactive: a label never takes a marker's hover or click
            [point.y, point.x], interactive=False,
            icon=folium.DivIcon(html=f'<div class="street-label">{label}</div>',
                                icon_size=(120, 18), icon_anchor=(60, 9),
                                class_name="street-label-icon"),
        ).add_to(group)
    return group


def _aliases(aliases: tuple[str, ...]) -> list[str]:
    """Tooltip labels, HTML-escaped: GeoJSON tooltips insert them as HTML."""
    return [html_text(alias) for alias in aliases]


def _cluster(name: str, category: str, show: bool) -> MarkerCluster:
    """A marker cluster whose bubbles are filled with the category's colour and carry the
    classes ``facility-cluster facility-cluster-<category>`` (the category as a class token);
    the colour and class reach the icon function as JSON strings."""
    colour = js_value(html_text(category_colour(category)))
    classes = js_value(f"facility-cluster facility-cluster-{class_token(category)}")
    icon = (
        "function(cluster){var n=cluster.getChildCount();var s=n<10?26:n<50?32:38;"
        "return L.divIcon({html:'<div style=\"background:'+" + colour + "+';color:#fff;"
        "border-radius:50%;width:'+s+'px;height:'+s+'px;line-height:'+s+'px;"
        "text-align:center;font:bold 12px sans-serif;opacity:.85\">'+n+'</div>',"
        "className:" + classes + ",iconSize:L.point(s,s)});}"
    )
    return MarkerCluster(name=html_text(name), show=show, icon_create_function=icon,
                         options={"disableClusteringAtZoom": CLUSTER_UNTIL_ZOOM,
                                  "showCoverageOnHover": False})


#: The map pane facility markers are drawn in: above the streets, cells and outlines (Leaflet's
#: overlay pane is at z-index 400), so a street's or a cell's shape never covers a marker.
FACILITY_PANE = "facilities"


def add_facility_pane(fmap: folium.Map) -> None:
    """The pane :func:`facility_layer` draws into with ``pane=FACILITY_PANE``."""
    folium.map.CustomPane(FACILITY_PANE, z_index=450, pointer_events=True).add_to(fmap)


def facility_layer(facilities: gpd.GeoDataFrame, *, category: str, name: str,
                   show: bool = True, aliases: tuple[str, str] = ("容量", "地址"),
                   pane: str | None = None) -> MarkerCluster:
    """One category's facilities as clustered circle markers sized by capacity; planned ones
    hollow and dashed, closed ones dotted. ``show`` False adds the layer switched off;
    ``pane``: the map pane to draw the markers in (see :func:`add_facility_pane`).

    Each marker's tooltip (:class:`HtmlTooltip`) shows the name, subtype, status, capacity and
    address, HTML-escaped.
    """
    rows = facilities[facilities["category"] == category]
    frame = escaped_columns(rows, ["name", "address", "subtype", "status"])
    capacity_label, address_label = _aliases(aliases)
    colour = category_colour(category)
    largest = float(rows["capacity"].max()) if rows["capacity"].notna().any() else 0.0
    group = _cluster(name, category, show)
    for row, status in zip(frame.itertuples(), rows["status"], strict=True):
        size = 3 + 6 * (row.capacity / largest) ** 0.5 if largest and pd.notna(row.capacity) else 4
        style = STATUS_STYLE.get(status, STATUS_STYLE["existing"])
        capacity = f"{row.capacity:,.0f}" if pd.notna(row.capacity) else "–"
        folium.CircleMarker(
            location=[row.lat, row.lon], radius=size, color=colour, weight=1.5,
            fill=True, fill_color=colour, fill_opacity=style["fill_opacity"],
            dash_array=style["dash_array"],
            class_name=f"facility facility-{class_token(category)}",
            **({"pane": pane} if pane else {}),
            tooltip=HtmlTooltip(f"<b>{row.name}</b><br>{row.subtype} · {row.status}"
                                f"<br>{capacity_label} {capacity}<br>{address_label} "
                                f"{row.address}"),
        ).add_to(group)
    return group


def cell_fills(cells: pd.DataFrame, *, radius_m: float, mode: str) -> list[str]:
    """Each cell's fill colour: by distance relative to ``radius_m`` (metres) in mode
    "distance", covered blue / gap red in mode "covered"."""
    return [distance_colour(d, radius_m) if mode == "distance"
            else (COVERED_COLOUR if covered else GAP_COLOUR)
            for d, covered in zip(cells["distance_m"], cells["covered"], strict=True)]


def coverage_layer(cells: gpd.GeoDataFrame, *, radius_m: float, name: str,
                   mode: str = "distance",
                   aliases: tuple[str, str, str, str] = ("街道", "最近距离", "最近设施", "覆盖"),
                   ) -> folium.FeatureGroup:
    """H3 cells of one category as one GeoJSON layer.

    ``mode`` "distance" colours by distance to the nearest facility relative to ``radius_m``
    (metres); "covered" colours covered cells blue and gaps red.
    """
    frame = escaped_columns(cells, ["street", "nearest_name"])
    frame["fill"] = cell_fills(cells, radius_m=radius_m, mode=mode)
    frame["distance"] = cells["distance_m"].map(lambda d: f"{d:,.0f} m" if d != float("inf")
                                                else "–")
    frame["covered"] = cells["covered"].map({True: "✓", False: "✗"})
    group = folium.FeatureGroup(name=html_text(name))
    folium.GeoJson(
        _geojson(frame, ["street", "distance", "nearest_name", "covered", "fill"]),
        style_function=_cell_style,
        tooltip=folium.GeoJsonTooltip(["street", "distance", "nearest_name", "covered"],
                                      aliases=_aliases(aliases)),
    ).add_to(group)
    return group


def _cell_style(feature: dict) -> dict:
    return {"fillColor": feature["properties"]["fill"], "color": "#ffffff", "weight": 0.3,
            "fillOpacity": 0.55, "className": "coverage-cell"}


def merged_cells(cells: gpd.GeoDataFrame, *, radius_m: float, mode: str) -> gpd.GeoDataFrame:
    """The cells of one category merged by street, covered or not, and colour band: one outline
    each (see :func:`geo.engine.hexgrid.cells_outline`), with ``code``, ``street``, ``covered``,
    ``fill`` and ``cells`` (how many). For grids too large to draw cell by cell."""
    frame = pd.DataFrame(cells.drop(columns="geometry")).assign(
        fill=cell_fills(cells, radius_m=radius_m, mode=mode))
    keys = ["code", "street", "covered", "fill"]
    rows = [{**dict(zip(keys, key, strict=True)), "cells": len(group),
             "geometry": cells_outline(group["cell"])}
            for key, group in frame.groupby(keys, sort=True)]
    return gpd.GeoDataFrame(rows, columns=[*keys, "cells", "geometry"], geometry="geometry",
                            crs=cells.crs)


def merged_coverage_layer(merged: gpd.GeoDataFrame, *, radius_m: float, name: str,
                          mode: str = "distance",
                          aliases: tuple[str, str, str] = ("街道", "距离", "网格数"),
                          covered: str = "已覆盖", gap: str = "缺口") -> folium.FeatureGroup:
    """:func:`merged_cells` as one GeoJSON layer, coloured like :func:`coverage_layer`, each
    area's tooltip naming its street, its distance band and how many cells it holds."""
    bands = dict(coverage_legend_entries(radius_m=radius_m, mode=mode, covered=covered, gap=gap))
    frame = escaped_columns(merged, ["street"])
    frame["band"] = merged["fill"].map(bands).map(html_text)
    frame["cells"] = merged["cells"].map("{:,}".format)
    group = folium.FeatureGroup(name=html_text(name))
    if len(frame):
        folium.GeoJson(
            _geojson(frame, ["street", "band", "cells", "fill"]), style_function=_cell_style,
            tooltip=folium.GeoJsonTooltip(["street", "band", "cells"], aliases=_aliases(aliases)),
        ).add_to(group)
    return group


def gap_layer(cells: gpd.GeoDataFrame, *, name: str, show: bool = True) -> folium.FeatureGroup:
    """The uncovered cells of one category, outlined in red (one GeoJSON layer)."""
    gaps = cells[~cells["covered"]]
    group = folium.FeatureGroup(name=html_text(name), show=show)
    if len(gaps):
        folium.GeoJson(
            _geojson(gaps, []),
            style_function=lambda _: {"color": GAP_COLOUR, "weight": 1.2, "fillColor": GAP_COLOUR,
                                      "fillOpacity": 0.15, "className": "gap-cell"},
        ).add_to(group)
    return group


def change_layer(cells: gpd.GeoDataFrame, *, name: str) -> folium.FeatureGroup:
    """Cells whose coverage a scenario changed (``change`` "gained" or "lost"): gained ones
    green, lost ones dark red, as one GeoJSON layer."""
    group = folium.FeatureGroup(name=html_text(name))
    if len(cells):
        folium.GeoJson(
            _geojson(cells, ["change"]),
            style_function=lambda f: {
                "fillColor": CHANGE_COLOURS[f["properties"]["change"]],
                "color": CHANGE_COLOURS[f["properties"]["change"]], "weight": 1.5,
                "fillOpacity": 0.6,
                "className": f"change-cell change-{class_token(f['properties']['change'])}"},
        ).add_to(group)
    return group


def isochrone_layer(outlines: gpd.GeoDataFrame, *, name: str, colour: str,
                    aliases: tuple[str, str, str] = ("设施", "网格数", "面积 km²"),
                    show: bool = False) -> folium.FeatureGroup:
    """Each facility's reach within the radius (see :func:`geo.plan.reach.isochrones`)
    outlined in ``colour``, with a tooltip (name, cells, km²); HTML-escaped text."""
    group = folium.FeatureGroup(name=html_text(name), show=show)
    facilities = outlines[(outlines["scope"] == "facility") & ~outlines.geometry.is_empty]
    if len(facilities):
        frame = escaped_columns(facilities, ["name"])
        frame["area"] = facilities["area_km2"].map(lambda a: f"{a:.2f}")
        folium.GeoJson(
            _geojson(frame, ["name", "cells", "area"]),
            style_function=lambda _: {"color": colour, "weight": 1.5, "fillOpacity": 0.04,
                                      "dashArray": "4 3", "className": "isochrone"},
            tooltip=folium.GeoJsonTooltip(["name", "cells", "area"], aliases=_aliases(aliases)),
        ).add_to(group)
    return group


def add_layer_control(fmap: folium.Map) -> None:
    """A layer switcher, expanded, listing every feature group added so far."""
    folium.LayerControl(collapsed=False).add_to(fmap)


def coverage_legend_entries(*, radius_m: float, mode: str,
                            covered: str = "已覆盖 covered",
                            gap: str = "缺口 gap") -> list[tuple[str, str]]:
    """Legend entries of :func:`coverage_layer` for ``mode`` and ``radius_m`` (metres)."""
    if mode == "covered":
        return [(COVERED_COLOUR, f"≤ {radius_m:,.0f} m {covered}"),
                (GAP_COLOUR, f"> {radius_m:,.0f} m {gap}")]
    entries, lower = [], 0.0
    for limit, colour in DISTANCE_BANDS:
        upper = limit * radius_m
        label = (f"{lower:,.0f}–{upper:,.0f} m" if upper != float("inf")
                 else f"> {lower:,.0f} m")
        entries.append((colour, label))
        lower = upper
    return entries
