"""Cached loaders: plain ``geo/`` functions wrapped at the UI edge with hashable arguments.

Everything is keyed by the dataset store and its newest version
(:class:`geo.data.dataset_store.DatasetStore`), so an import shows on every page and in every
session at once, with no stale cache.
"""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from geo.data.dataset import Dataset
from geo.data.dataset_store import DatasetStore
from geo.data.files import clean_stale_temp
from geo.data.io import read_targets
from geo.data.target_store import TargetStore, with_overrides
from geo.engine.coverage import compute_coverage
from geo.engine.result import CoverageResult
from geo.model import config
from geo.model.targets import Targets
from geo.plan.reach import isochrones
from geo.plan.tables import category_cells
from layers.explorer import MapView, explorer_map
from layers.offline import standalone_html

__all__ = [
    "DEMO_NOTICE",
    "current_version",
    "dataset_store",
    "load_category_cells",
    "load_coverage",
    "load_dataset",
    "load_dataset_version",
    "load_inputs",
    "load_isochrones",
    "load_map_html",
    "load_targets",
]

DEMO_NOTICE = ("演示数据：街道边界、人口与设施均为本项目生成的示意数据，非官方数据。"
               " Demo data: boundaries, populations and facilities are approximate, generated "
               "by this project — not official data.")

#: The dataset store's file, its newest version number (0: the demo) and the targets set in
#: the app (category → radius, share, who at when), as a tuple of items.
Version = tuple


@st.cache_data(show_spinner=False)
def _targets(overrides: tuple = ()) -> Targets:
    return with_overrides(read_targets(), dict(overrides))


def load_targets() -> Targets:
    """The targets file's radii and shares, with those an administrator set in the app."""
    return _targets(_overrides())


@st.cache_resource(show_spinner=False)
def _started(path: str) -> bool:
    """Once a server process: what killed processes left in the temporary folder removed, an
    earlier release's dataset.gpkg moved into the store."""
    clean_stale_temp()
    DatasetStore(path).migrate_legacy(config.DATASET_FILE, _targets(), user="migration")
    return True


def dataset_store() -> DatasetStore:
    """The store of the dataset versions (``CHANGNING_STATE_DIR``/dataset.sqlite)."""
    store = DatasetStore(config.DATASET_DB)
    _started(str(store.path))
    return store


def current_version() -> Version:
    """The store's path, newest version number and the targets set in the app: the key of
    every cache (an import or a target change shows on every page at once)."""
    store = dataset_store()
    return (str(store.path), store.current_version(), _overrides())


def _overrides() -> tuple:
    return tuple(TargetStore(config.STATE_DB).overrides().items())


@st.cache_data(show_spinner=False, max_entries=4)
def _dataset(version: Version) -> Dataset:
    return DatasetStore(version[0]).read(_targets(), version=version[1])  # file categories


def load_dataset() -> Dataset:
    """The dataset the app shows: the imported one, or the embedded demo."""
    return _dataset(current_version())


def load_dataset_version(version: int) -> Dataset:
    """The dataset of one stored version (0: the demo), e.g. the one a check was made on."""
    return _dataset((str(dataset_store().path), version))


def load_inputs() -> tuple[Targets, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Targets, streets and facilities of the dataset the app shows."""
    version = current_version()
    dataset = _dataset(version)
    return _targets(version[2]), dataset.streets, dataset.facilities


@st.cache_data(show_spinner="Computing coverage 正在计算覆盖…", max_entries=16)
def _coverage(resolution: int, version: Version) -> CoverageResult:
    dataset = _dataset(version)
    return compute_coverage(dataset.streets, dataset.facilities, _targets(version[2]),
                            resolution=resolution, network=dataset.network,
                            population=dataset.population)


def load_coverage(resolution: int) -> CoverageResult:
    """Coverage of the shown dataset at an H3 resolution."""
    return _coverage(resolution, current_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _category_cells(resolution: int, category: str, version: Version) -> gpd.GeoDataFrame:
    return category_cells(_coverage(resolution, version), category)


def load_category_cells(resolution: int, category: str) -> gpd.GeoDataFrame:
    """The cells of one category with their hexagons, for the map."""
    return _category_cells(resolution, category, current_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _isochrones(resolution: int, category: str, version: Version) -> gpd.GeoDataFrame:
    return isochrones(_coverage(resolution, version), _dataset(version).facilities,
                      category=category)


def load_isochrones(resolution: int, category: str) -> gpd.GeoDataFrame:
    """Each facility's reach within its category's radius, and the category's, for the map and
    the GeoJSON export (see :func:`geo.plan.reach.isochrones`)."""
    return _isochrones(resolution, category, current_version())


@st.cache_data(show_spinner=False, max_entries=64)
def _map_html(view: MapView, resolution: int, version: Version) -> str:
    dataset = _dataset(version)
    cells = _category_cells(resolution, view.category, version)
    return standalone_html(explorer_map(view, streets=dataset.streets,
                                        facilities=dataset.facilities, cells=cells,
                                        reach=_isochrones(resolution, view.category, version)))


def load_map_html(view: MapView, resolution: int) -> str:
    """The offline HTML document of the coverage map for ``view`` at an H3 resolution.

    The rendered text is cached, not the folium map: rebuilding the same view is skipped.
    """
    return _map_html(view, resolution, current_version())
