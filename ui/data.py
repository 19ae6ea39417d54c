"""Cached loaders: plain ``geo/`` functions wrapped at the UI edge with hashable arguments."""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from geo.coverage import CoverageResult, category_cells, compute_coverage
from geo.io import read_demo, read_targets
from geo.targets import Targets
from layers.explorer import MapView, explorer_map
from layers.offline import standalone_html

__all__ = [
    "DEMO_NOTICE",
    "load_category_cells",
    "load_coverage",
    "load_inputs",
    "load_map_html",
]

DEMO_NOTICE = ("演示数据：街道边界、人口与设施均为本项目生成的示意数据，非官方数据。"
               " Demo data: boundaries, populations and facilities are approximate, generated "
               "by this project — not official data.")


@st.cache_data(show_spinner=False)
def load_inputs() -> tuple[Targets, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Targets, streets and facilities of the embedded demo data."""
    targets = read_targets()
    streets, facilities = read_demo(targets)
    return targets, streets, facilities


@st.cache_data(show_spinner="Computing coverage 正在计算覆盖…")
def load_coverage(resolution: int) -> CoverageResult:
    """Coverage of the demo data at an H3 resolution."""
    targets, streets, facilities = load_inputs()
    return compute_coverage(streets, facilities, targets, resolution=resolution)


@st.cache_data(show_spinner=False)
def load_category_cells(resolution: int, category: str) -> gpd.GeoDataFrame:
    """The cells of one category with their hexagons, for the map."""
    return category_cells(load_coverage(resolution), category)


@st.cache_data(show_spinner=False, max_entries=64)
def load_map_html(view: MapView, resolution: int) -> str:
    """The offline HTML document of the coverage map for ``view`` at an H3 resolution.

    The rendered text is cached, not the folium map: rebuilding the same view is skipped.
    """
    _, streets, facilities = load_inputs()
    cells = load_category_cells(resolution, view.category)
    return standalone_html(explorer_map(view, streets=streets, facilities=facilities, cells=cells))
