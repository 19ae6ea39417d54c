"""Overview page: the Changning map with street boundaries, facilities and H3 coverage of one
category, and the per-street coverage table against target.

Run with ``streamlit run app.py``; it also routes to the pages under ``pages/``. Logic lives
in ``geo/`` (computation) and ``layers/`` (map).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.config import DEFAULT_RESOLUTION, MAX_RESOLUTION, MIN_RESOLUTION
from geo.coverage import CoverageResult, category_cells
from geo.tables import district_table, street_table
from geo.targets import Targets
from layers.folium_layers import (
    add_layer_control,
    add_legend,
    base_map,
    coverage_layer,
    coverage_legend_entries,
    facility_layer,
    street_layer,
)
from layers.offline import standalone_html
from ui.data import load_coverage, load_inputs
from ui.widgets import or_stop, page_header, show_table

MAP_HEIGHT = 620
BASEMAPS = {"OpenStreetMap": "OpenStreetMap", "无底图 None (offline)": None}


def render_map(result: CoverageResult, facilities: pd.DataFrame, targets: Targets, *,
               category: str, mode: str, tiles: str | None) -> None:
    """Draw streets, every facility layer and the chosen category's cells."""
    fmap = base_map(tuple(result.boundaries.total_bounds), tiles=tiles,
                    attribution="Demo data, approximate 演示数据（示意）")
    radius = targets[category].radius_m
    coverage_layer(category_cells(result, category), radius_m=radius,
                   name=f"覆盖 Coverage: {targets[category].label()}", mode=mode).add_to(fmap)
    add_legend(fmap, title=f"{targets[category].bilingual()}: 最近距离 distance",
               entries=coverage_legend_entries(radius_m=radius, mode=mode))
    street_layer(result.boundaries).add_to(fmap)
    for key in result.categories:
        facility_layer(facilities, category=key,
                       name=targets[key].bilingual(), show=key == category).add_to(fmap)
    add_layer_control(fmap)
    st.iframe(standalone_html(fmap), height=MAP_HEIGHT)


def overview() -> None:
    """The overview page."""
    page_header("长宁区 15 分钟社区生活圈设施覆盖",
                "Changning District: 15-minute walk coverage of facilities, per street")
    targets, _, facilities = or_stop(load_inputs)
    with st.sidebar:
        present = [c for c in targets.keys() if c in set(facilities["category"])]
        category = st.selectbox("设施类别 Category", present,
                                format_func=lambda c: targets[c].bilingual(), key="category")
        resolution = st.slider("H3 分辨率 Resolution", MIN_RESOLUTION, MAX_RESOLUTION,
                               DEFAULT_RESOLUTION, key="resolution")
        mode = st.radio("着色 Colour by", ["distance", "covered"],
                        format_func={"distance": "距离 Distance",
                                     "covered": "覆盖/缺口 Covered/gap"}.get, key="mode")
        tiles = BASEMAPS[st.selectbox("底图 Basemap", list(BASEMAPS), key="basemap")]
        st.caption(f"半径 Radius {targets[category].radius_m:,.0f} m — "
                   f"{targets[category].radius_source}")
    result = or_stop(lambda: load_coverage(resolution))
    st.subheader("全区 District")
    show_table(district_table(result, {c: targets[c].bilingual() for c in result.categories}))
    render_map(result, facilities, targets, category=category, mode=mode, tiles=tiles)
    st.subheader(f"各街道覆盖 Coverage per street: {targets[category].label()}")
    table = street_table(result, category)
    show_table(table, highlight=True)
    below = int((table["meets_target"] == False).sum())  # noqa: E712
    st.caption(f"低于目标的街道 Streets below target: {below} / {len(table)} (highlighted)")


def main() -> None:
    """Navigation between the overview and the pages under pages/."""
    pages = [
        st.Page(overview, title="总览 Overview", default=True),
        st.Page("pages/targets_and_data.py", title="目标与数据 Targets and data",
                url_path="targets"),
    ]
    st.navigation(pages).run()


main()
