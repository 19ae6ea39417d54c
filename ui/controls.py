"""The map controls shared by the pages, and drawing the map in the page."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import streamlit as st

from geo.engine.result import CoverageResult, categories_present
from geo.model.config import DEFAULT_RESOLUTION, MAX_RESOLUTION, MIN_RESOLUTION
from geo.model.targets import Targets
from layers.basemaps import BASEMAPS, MissingKeyError, tianditu_key
from layers.explorer import MAP_CELL_LIMIT, MapView
from ui.data import (
    load_category_cells,
    load_coverage,
    load_dataset,
    load_inputs,
    load_map_html,
)
from ui.i18n import category_label, lang, t
from ui.markdown import as_text
from ui.widgets import or_stop

__all__ = ["Choices", "PageInputs", "category_names", "map_controls", "map_view", "page_inputs",
           "secrets", "show_map"]

#: Session-state keys of the shared controls.
KEYS = {"category": "category", "resolution": "resolution", "mode": "mode",
        "basemap": "basemap"}
MAP_HEIGHT = 620


@dataclass(frozen=True)
class Choices:
    """What the user picked: category, H3 resolution, colour mode and basemap key."""

    category: str
    resolution: int
    mode: str
    basemap: str


@dataclass(frozen=True)
class PageInputs:
    """What a map page works on: the loaded data, the user's choices and the coverage."""

    targets: Targets
    streets: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    categories: tuple[str, ...]
    choices: Choices
    result: CoverageResult
    demo: bool


def page_inputs() -> PageInputs:
    """Load the data, draw the map controls in the sidebar and compute the coverage; on bad
    input the page shows the message and stops."""
    targets, streets, facilities = or_stop(load_inputs)
    categories = categories_present(facilities, targets)
    choices = map_controls(targets, categories)
    result = or_stop(lambda: load_coverage(choices.resolution))
    return PageInputs(targets=targets, streets=streets, facilities=facilities,
                      categories=categories, choices=choices, result=result,
                      demo=load_dataset().is_demo)


def category_names(targets: Targets, categories: Sequence[str]) -> dict[str, str]:
    """Display name of each category in the chosen language."""
    return {c: category_label(targets, c) for c in categories}


def map_controls(targets: Targets, categories: Sequence[str]) -> Choices:
    """Category, resolution, colour and basemap pickers in the sidebar."""
    names = category_names(targets, categories)
    with st.sidebar:
        category = st.selectbox(t("设施类别", "Category"), list(categories),
                                format_func=names.get, key=KEYS["category"])
        resolution = st.slider(t("H3 分辨率", "H3 resolution"), MIN_RESOLUTION, MAX_RESOLUTION,
                               DEFAULT_RESOLUTION, key=KEYS["resolution"])
        mode = st.radio(t("着色", "Colour by"), ["distance", "covered"],
                        format_func={"distance": t("距离", "Distance"),
                                     "covered": t("覆盖/缺口", "Covered/gap")}.get,
                        key=KEYS["mode"])
        basemap = st.selectbox(
            t("底图", "Basemap"), list(BASEMAPS), key=KEYS["basemap"],
            format_func=lambda k: BASEMAPS[k].label_en if lang() == "en" else BASEMAPS[k].label_zh)
        note = BASEMAPS[basemap].note_en if lang() == "en" else BASEMAPS[basemap].note_zh
        if note:
            st.caption(note)
        target = targets[category]
        st.caption(t(f"服务半径 {target.radius_m:,.0f} 米。", f"Radius {target.radius_m:,.0f} m. ")
                   + as_text(target.radius_source))
    return Choices(category=category, resolution=resolution, mode=mode, basemap=basemap)


def secrets() -> dict[str, str]:
    """Streamlit secrets as a plain mapping; empty when there is no secrets file."""
    try:
        return dict(st.secrets)
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return {}


def map_view(choices: Choices, *, targets: Targets, categories: Sequence[str],
             focus: tuple[float, float, float, float] | None = None) -> MapView:
    """What the map shows for the user's choices, in the chosen language."""
    return MapView(
        category=choices.category,
        radius_m=targets[choices.category].radius_m,
        category_names=category_names(targets, categories),
        mode=choices.mode,
        basemap=choices.basemap,
        lang=lang(),
        shown=(choices.category,),
        focus=focus,
        demo=load_dataset().is_demo,
        tianditu_key=tianditu_key(os.environ, secrets()),
        distance="network" if load_dataset().network is not None else "straight",
        detour=targets.detour_factor,
    )


def show_map(choices: Choices, *, targets: Targets, categories: Sequence[str],
             focus: tuple[float, float, float, float] | None = None) -> None:
    """Draw the coverage map of the chosen category in the page (offline HTML in an iframe)."""
    view = map_view(choices, targets=targets, categories=categories, focus=focus)
    try:
        html = load_map_html(view, choices.resolution)
    except MissingKeyError as exc:
        st.error(as_text(str(exc)))
        return
    st.iframe(html, height=MAP_HEIGHT)
    cells = len(load_category_cells(choices.resolution, choices.category))
    if cells > MAP_CELL_LIMIT:
        st.caption(t(f"网格较多（{cells:,} 个），地图按街道和距离段合并显示；选择街道或较低分辨率"
                     "可查看单个网格。",
                     f"Many cells ({cells:,}): the map merges them by street and distance band; "
                     "pick a street or a coarser resolution to see single cells."))
