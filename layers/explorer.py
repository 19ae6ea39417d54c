"""The whole coverage map: basemap, streets, facility clusters, coverage and gap cells, legend.

Built from plain frames (no streamlit); the pages cache the frames and rebuild this map, which
is cheap. On AMap tiles (GCJ-02) every overlay is shifted to GCJ-02 so that it lines up.

Output encoding: this module passes text (category display names, map words) to the functions
of :mod:`layers.folium_layers` as plain text; they HTML-escape it and hand it to JavaScript as
JSON (see :mod:`layers.encoding`). Nothing here builds HTML or JavaScript itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import folium
import geopandas as gpd

from geo.data.shift import shift_bounds_to_gcj02, shift_geometries_to_gcj02
from layers.basemaps import BASEMAPS, add_basemap
from layers.folium_layers import (
    FACILITY_PANE,
    add_facility_pane,
    add_layer_control,
    add_legend,
    base_map,
    change_layer,
    coverage_layer,
    coverage_legend_entries,
    facility_layer,
    gap_layer,
    isochrone_layer,
    merged_cells,
    merged_coverage_layer,
    street_layer,
)
from layers.style import CHANGE_COLOURS, GAP_COLOUR, category_colour

__all__ = ["MAP_CELL_LIMIT", "MapView", "explorer_map"]

#: Above this many cells the coverage is drawn merged by street and distance band (one outline
#: each, tooltips per area) instead of cell by cell: 113 Shanghai streets at resolution 10 make
#: a 111 MB map cell by cell, about 2 MB merged.
MAP_CELL_LIMIT = 20_000

#: Map text in each language.
TEXT = {
    "zh": {"streets": "街道边界", "coverage": "覆盖", "gaps": "缺口网格", "distance": "最近距离",
           "covered": "已覆盖", "gap": "缺口", "facilities": "设施",
           "street_aliases": ("街道", "English", "代码", "常住人口"),
           "cell_aliases": ("街道", "最近距离", "最近设施", "覆盖"),
           "band_aliases": ("街道", "距离", "网格数"),
           "facility_aliases": ("容量", "地址"),
           "demo": "演示数据（示意，非官方）", "changes": "覆盖变化",
           "gained": "新增覆盖", "lost": "失去覆盖",
           "network": "沿路网步行", "straight": "直线", "detour": "直线 × 绕行系数 {}",
           "reach": "各设施可达范围", "reach_aliases": ("设施", "网格数", "面积 km²")},
    "en": {"streets": "Street boundaries", "coverage": "Coverage", "gaps": "Gap cells",
           "distance": "distance to nearest", "covered": "covered", "gap": "gap",
           "facilities": "Facilities",
           "street_aliases": ("Street", "English", "Code", "Residents"),
           "cell_aliases": ("Street", "Distance", "Nearest", "Covered"),
           "band_aliases": ("Street", "Distance", "Cells"),
           "facility_aliases": ("Capacity", "Address"),
           "demo": "Demo data (approximate, not official)", "changes": "Coverage change",
           "gained": "newly covered", "lost": "no longer covered",
           "network": "walk along the streets", "straight": "straight line",
           "detour": "straight line × detour factor {}",
           "reach": "Each facility's reach", "reach_aliases": ("Facility", "Cells", "Area km²")},
}


@dataclass(frozen=True)
class MapView:
    """What the map shows.

    ``category``: the category whose coverage is drawn; ``radius_m`` its radius in metres;
    ``mode``: "distance" or "covered"; ``basemap``: a key of ``layers.basemaps.BASEMAPS``;
    ``category_names``: display name of every facility category to draw, in order;
    ``shown``: the facility categories switched on at first (the others can be toggled on);
    ``focus``: bounds (minx, miny, maxx, maxy, WGS-84 degrees) to zoom to, else the streets';
    ``distance``: "network" (walks along the street network) or "straight" (straight lines
    times ``detour``), said in the legend.
    """

    category: str
    radius_m: float
    category_names: Mapping[str, str]
    mode: str = "distance"
    basemap: str = "none"
    lang: str = "zh"
    shown: tuple[str, ...] = ()
    focus: tuple[float, float, float, float] | None = None
    demo: bool = True
    tianditu_key: str | None = field(default=None, repr=False)
    distance: str = "straight"
    detour: float = 1.0


def _measured(view: MapView, text: Mapping[str, str]) -> str:
    """How the map's distances were measured, in the map's language."""
    if view.distance == "network":
        return text["network"]
    return text["detour"].format(f"{view.detour:g}") if view.detour != 1 else text["straight"]


def _for_basemap(view: MapView, *frames: gpd.GeoDataFrame) -> list[gpd.GeoDataFrame]:
    """The frames as drawn on the basemap: shifted to GCJ-02 for AMap, else unchanged."""
    if BASEMAPS[view.basemap].needs_gcj02:
        return [shift_geometries_to_gcj02(frame) for frame in frames]
    return list(frames)


def explorer_map(view: MapView, *, streets: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
                 cells: gpd.GeoDataFrame, changes: gpd.GeoDataFrame | None = None,
                 cell_limit: int | None = None,
                 reach: gpd.GeoDataFrame | None = None) -> folium.Map:
    """The coverage map of ``view.category``.

    Parameters
    ----------
    streets, facilities
        Normalised frames in EPSG:4326.
    cells
        The category's cells (see ``geo.plan.tables.category_cells``), EPSG:4326.
    changes
        Cells whose coverage a scenario changed, with ``change`` "gained"/"lost" (EPSG:4326).
    cell_limit
        With more cells than this (default :data:`MAP_CELL_LIMIT`), the coverage and gaps are
        drawn merged by street and distance band (:func:`layers.folium_layers.merged_cells`).
    reach
        Each facility's reach within the radius (see ``geo.plan.reach.isochrones``),
        EPSG:4326: a layer switched off at first.

    Raises
    ------
    layers.basemaps.MissingKeyError
        When Tianditu is chosen without a key.
    """
    text = TEXT.get(view.lang, TEXT["zh"])
    merged = len(cells) > (MAP_CELL_LIMIT if cell_limit is None else cell_limit)
    if merged:
        cells = merged_cells(cells, radius_m=view.radius_m, mode=view.mode)
    streets, facilities, cells = _for_basemap(view, streets, facilities, cells)
    bounds = view.focus or tuple(streets.total_bounds)
    if view.focus and BASEMAPS[view.basemap].needs_gcj02:
        bounds = shift_bounds_to_gcj02(view.focus)
    fmap = base_map(bounds, attribution=text["demo"] if view.demo else "")
    add_basemap(fmap, view.basemap, tianditu_key=view.tianditu_key)
    name = view.category_names.get(view.category, view.category)
    if merged:
        merged_coverage_layer(cells, radius_m=view.radius_m, name=f"{text['coverage']}: {name}",
                              mode=view.mode, aliases=text["band_aliases"],
                              covered=text["covered"], gap=text["gap"]).add_to(fmap)
    else:
        coverage_layer(cells, radius_m=view.radius_m, name=f"{text['coverage']}: {name}",
                       mode=view.mode, aliases=text["cell_aliases"]).add_to(fmap)
    gap_layer(cells, name=f"{text['gaps']}: {name}").add_to(fmap)
    if changes is not None:
        (changes,) = _for_basemap(view, changes)
        change_layer(changes, name=text["changes"]).add_to(fmap)
    if reach is not None:
        (reach,) = _for_basemap(view, reach)
        isochrone_layer(reach, name=f"{text['reach']}: {name}",
                        colour=category_colour(view.category),
                        aliases=text["reach_aliases"]).add_to(fmap)
    label = "name_en" if view.lang == "en" else "name"
    street_layer(streets, name=text["streets"], label_field=label,
                 aliases=text["street_aliases"]).add_to(fmap)
    add_facility_pane(fmap)
    for key, display in view.category_names.items():
        facility_layer(facilities, category=key, name=f"{text['facilities']}: {display}",
                       pane=FACILITY_PANE,
                       show=key in view.shown, aliases=text["facility_aliases"]).add_to(fmap)
    add_layer_control(fmap)
    add_legend(fmap, [
        (f"{name}: {text['distance']}（{_measured(view, text)}）" if view.mode == "distance"
         else f"{name}（{_measured(view, text)}）",
         coverage_legend_entries(radius_m=view.radius_m, mode=view.mode,
                                 covered=text["covered"], gap=text["gap"])),
        (text["gaps"], [(GAP_COLOUR, f"> {view.radius_m:,.0f} m")]),
        (text["facilities"], [(category_colour(k), v) for k, v in view.category_names.items()]),
        *([(text["changes"], [(CHANGE_COLOURS["gained"], text["gained"]),
                              (CHANGE_COLOURS["lost"], text["lost"])])]
          if changes is not None else []),
    ])
    return fmap
