"""The Data page's population and walking-network imports: upload where residents live
(polygons or points with residents, or a GeoTIFF grid) or a walking network (GraphML, OSM XML,
line edges), see what it holds and what falls outside the streets' cells, then store it as a
new dataset version (or drop it: the streets' populations, straight lines)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from geo.data.dataset import DEMO, Dataset, with_network, with_population
from geo.data.population_io import DEFAULT_POPULATION_FIELD, RASTER_SUFFIXES
from geo.engine.hexgrid import street_grid
from geo.engine.incremental import grid_snap
from geo.engine.network import DEFAULT_MAX_SNAP_M, WalkingNetwork
from geo.engine.population import PopulationLayer, layer_population
from geo.model.config import DEFAULT_RESOLUTION
from ui.data import dataset_store, load_dataset_version
from ui.i18n import t
from ui.markdown import as_text
from ui.uploads import parsed_features, read_living
from ui.versions import save_version, saved
from ui.widgets import or_error, show_table

__all__ = ["network_panel", "population_panel"]

POPULATION_TYPES = ["geojson", "json", "gpkg", "zip", "tif", "tiff"]
NETWORK_TYPES = ["graphml", "xml", "osm", "gpkg", "geojson", "json", "zip"]
NONE = ""


def _base(prefix: str, upload) -> int:
    """The dataset version the upload is checked against (fixed at the first look)."""
    key = f"{prefix}_base_{upload.file_id}"
    st.session_state.setdefault(key, dataset_store().current_version())
    return st.session_state[key]


def _origin(origin: str) -> str:
    """Where a part came from, for the page: the demo, or the imported file."""
    return t("演示数据", "demo") if origin == DEMO else as_text(origin)


def _stamp(name: str) -> str:
    return f"{name} ({datetime.now():%Y-%m-%d %H:%M})"


def _store(new: Dataset, *, before: Dataset, base: int, action: str, detail: str,
           done: tuple[str, str]) -> None:
    version = save_version(new, before=before, base_version=base, action=action, detail=detail,
                           again=("请重新上传。", "upload again."))
    if version is not None:
        saved(t(f"{done[0]}（版本 {version}）。", f"{done[1]} (version {version})."))
        st.rerun()


# -- where residents live ---------------------------------------------------------------------

def _population_fields(upload) -> tuple[str | None, str | None] | None:
    """The residents and 60+ fields the user picks from the uploaded layer's fields."""
    raw = or_error(lambda: parsed_features(upload))
    if raw is None:
        return None
    columns = [str(c) for c in raw.columns if c != "geometry"]
    if not columns:
        st.error(t("该图层没有属性字段，无法读取人口。", "The layer has no fields to read "
                                                     "residents from."))
        return None
    left, right = st.columns(2)
    default = DEFAULT_POPULATION_FIELD if DEFAULT_POPULATION_FIELD in columns else columns[0]
    field = left.selectbox(t("常住人口字段", "Residents field"), columns,
                           index=columns.index(default), key=f"pop_field_{upload.file_id}")
    elderly = right.selectbox(t("60岁以上人口字段（可选）", "Aged 60+ field (optional)"),
                              [NONE, *columns], format_func=lambda c: c or "—",
                              key=f"pop_elderly_{upload.file_id}") or None
    return field, elderly


def _population_summary(layer: PopulationLayer, dataset: Dataset) -> None:
    """What the layer holds, what it ignored, and how much lands on the streets' cells."""
    grid = street_grid(dataset.streets, resolution=DEFAULT_RESOLUTION)
    people = layer_population(grid, layer)
    columns = st.columns(3)
    columns[0].metric(t("居民", "Residents"), f"{people.input:,.0f}")
    columns[1].metric(t("落在街道网格内", "On the streets' cells"), f"{people.assigned:,.0f}")
    columns[2].metric(t("在网格之外", "Outside every cell"), f"{people.outside:,.0f}")
    if layer.has_elderly:
        st.caption(t(f"其中60岁以上 {people.elderly_input:,.0f} 人。",
                     f"Of whom {people.elderly_input:,.0f} aged 60 and over."))
    st.caption(t(f"{len(layer.polygons)} 个面，{len(layer.points)} 个点。",
                 f"{len(layer.polygons)} polygons, {len(layer.points)} points."))
    if layer.ignored:
        show_table(pd.DataFrame({"reason": list(layer.ignored),
                                 "count": list(layer.ignored.values())}))


def population_panel() -> None:
    """Upload where residents live; use it, or go back to the streets' populations."""
    current = load_dataset_version(dataset_store().current_version())
    if current.population is not None:
        st.caption(t(f"当前人口分布：{_origin(current.population_origin)}",
                     f"Where residents live now: {_origin(current.population_origin)}"))
        if st.button(t("不用人口图层（按街道人口平均分布）",
                       "Drop the population layer (spread each street's population)"),
                     key="pop_drop"):
            _store(with_population(current, None, origin=""), before=current,
                   base=dataset_store().current_version(), action="population",
                   detail="removed", done=("已改回按街道人口平均分布",
                                           "Back to each street's population spread evenly"))
    upload = st.file_uploader(
        t("居住人口：居委/小区面或住宅点（GeoJSON、GeoPackage、压缩 Shapefile），或人口栅格 "
          "GeoTIFF", "Where residents live: polygons or points with residents (GeoJSON, "
          "GeoPackage, zipped Shapefile), or a GeoTIFF population grid"),
        type=POPULATION_TYPES, key="pop_upload")
    if upload is None:
        return
    base = _base("pop", upload)
    raster = Path(upload.name).suffix.lower() in RASTER_SUFFIXES
    fields = (None, None) if raster else _population_fields(upload)
    if fields is None:
        return
    layer = or_error(lambda: read_living(upload, "population", fields=fields))
    dataset = or_error(lambda: load_dataset_version(base))
    if layer is None or dataset is None:
        return
    _population_summary(layer, dataset)
    if st.button(t("使用该人口图层", "Use this population layer"), type="primary",
                 key="pop_apply"):
        _store(with_population(dataset, layer, origin=_stamp(upload.name)), before=dataset,
               base=base, action="population", detail=upload.name,
               done=(f"已导入人口图层（{as_text(upload.name)}）",
                     f"Imported the population layer ({as_text(upload.name)})"))


# -- the walking network ----------------------------------------------------------------------

def _network_summary(network: WalkingNetwork, dataset: Dataset) -> None:
    """What the network holds and how many of the streets' cells it leaves unreachable."""
    grid = street_grid(dataset.streets, resolution=DEFAULT_RESOLUTION)
    far = int((~grid_snap(network, grid).reachable).sum()) if len(grid) else 0
    columns = st.columns(3)
    columns[0].metric(t("路段", "Edges"), f"{network.n_edges:,}")
    columns[1].metric(t("总长 km", "Length km"), f"{np.sum(network.edge_length) / 1000:,.1f}")
    columns[2].metric(t("不可达网格", "Unreachable cells"), f"{far:,} / {len(grid):,}")
    st.caption(t(f"距任何路段超过 {network.max_snap_m:,.0f} 米的网格不可达（计为未覆盖）。",
                 f"Cells farther than {network.max_snap_m:,.0f} m from every edge are "
                 "unreachable (counted uncovered)."))


def network_panel() -> None:
    """Upload a walking network; use it, or go back to straight lines."""
    current = load_dataset_version(dataset_store().current_version())
    if current.network is not None:
        st.caption(t(f"当前步行路网：{_origin(current.network_origin)}",
                     f"Walking network now: {_origin(current.network_origin)}"))
        if st.button(t("不用路网（直线距离）", "Drop the network (straight lines)"),
                     key="net_drop"):
            _store(with_network(current, None, origin=""), before=current,
                   base=dataset_store().current_version(), action="network", detail="removed",
                   done=("已改回直线距离", "Back to straight lines"))
    upload = st.file_uploader(
        t("步行路网：GraphML（OSMnx）、OSM XML（.osm）或线图层（GeoPackage、GeoJSON、压缩 "
          "Shapefile）", "Walking network: GraphML (OSMnx), OSM XML (.osm) or line edges "
          "(GeoPackage, GeoJSON, zipped Shapefile)"), type=NETWORK_TYPES, key="net_upload")
    if upload is None:
        return
    base = _base("net", upload)
    snap = st.number_input(t("最大接入距离（米）", "Farthest attachment (m)"), min_value=10.0,
                           max_value=2000.0, value=DEFAULT_MAX_SNAP_M, step=10.0,
                           key=f"net_snap_{upload.file_id}")
    network = or_error(lambda: read_living(upload, "network"))
    dataset = or_error(lambda: load_dataset_version(base))
    if network is None or dataset is None:
        return
    network = or_error(lambda: network.with_max_snap(float(snap)))
    if network is None:
        return
    _network_summary(network, dataset)
    if st.button(t("使用该步行路网", "Use this walking network"), type="primary",
                 key="net_apply"):
        _store(with_network(dataset, network, origin=_stamp(upload.name)), before=dataset,
               base=base, action="network", detail=upload.name,
               done=(f"已导入步行路网（{as_text(upload.name)}）",
                     f"Imported the walking network ({as_text(upload.name)})"))
