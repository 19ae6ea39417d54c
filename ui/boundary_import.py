"""The Data page's boundary import: upload official street boundaries in any CRS (parsed once),
pick the layer and the fields, see overlaps and gaps on an offline map, then store them as a
new dataset version — refused when the data changed since the upload was checked."""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.data.area import placement_area
from geo.data.dataset import with_boundaries
from geo.data.io import boundary_field_defaults
from geo.data.rules import inside_area
from geo.data.schema import boundary_problems, normalize_boundaries
from geo.model.config import METRIC_CRS
from geo.model.errors import InputError
from geo.model.targets import Targets
from layers.folium_layers import base_map, street_layer
from layers.offline import standalone_html
from ui.data import dataset_store, load_dataset_version
from ui.i18n import t
from ui.markdown import as_text
from ui.uploads import chosen_part, parsed_features
from ui.versions import save_version, saved
from ui.widgets import or_error, show_table

__all__ = ["boundaries_panel"]

BOUNDARY_TYPES = ["geojson", "json", "gpkg", "zip"]
NONE = ""


def _boundary_fields(columns: list[str], file_id: str) -> dict[str, str | None]:
    defaults = boundary_field_defaults(columns)
    labels = {"code": t("街道代码", "Street code"), "name": t("街道名称", "Street name"),
              "name_en": t("英文名（可选）", "English name (optional)"),
              "population": t("常住人口（可选）", "Population (optional)")}
    options = [NONE, *columns]
    grid = st.columns(len(labels))
    return {role: grid[i].selectbox(labels[role], options,
                                    index=options.index(defaults.get(role) or NONE),
                                    format_func=lambda c: c or "—",
                                    key=f"bnd_{role}_{file_id}") or None
            for i, role in enumerate(labels)}


def boundaries_preview(streets: gpd.GeoDataFrame) -> None:
    """The imported streets on an offline map, and their table."""
    fmap = base_map(tuple(streets.total_bounds))
    street_layer(streets, name=t("街道", "Streets")).add_to(fmap)
    st.iframe(standalone_html(fmap), height=420)
    area = streets.to_crs(METRIC_CRS).area / 1e6
    show_table(pd.DataFrame({"code": streets["code"], "name": streets["name"],
                             "residents": streets["population"], "area_km2": area.round(2)}))


def _normalised(gdf: gpd.GeoDataFrame, fields: dict[str, str | None], name: str
                ) -> gpd.GeoDataFrame:
    if not fields["code"] or not fields["name"]:
        raise InputError(t("请指定街道代码和名称字段。", "Choose the street code and name fields."))
    return normalize_boundaries(gdf, code_field=fields["code"], name_field=fields["name"],
                                name_en_field=fields["name_en"],
                                population_field=fields["population"],
                                source=f"boundaries file {name}")


def _save(streets: gpd.GeoDataFrame, *, name: str, base_version: int,
          targets: Targets) -> None:
    dataset = or_error(lambda: load_dataset_version(base_version))
    if dataset is None:
        return
    outside = int((~inside_area(placement_area(streets, targets),
                                dataset.facilities["lon"].to_numpy(),
                                dataset.facilities["lat"].to_numpy())).sum())
    new = with_boundaries(dataset, streets, origin=f"{name} ({datetime.now():%Y-%m-%d %H:%M})")
    version = save_version(new, before=dataset, base_version=base_version, action="boundaries",
                           detail=name, again=("请重新上传。", "upload again."))
    if version is None:
        return
    extra = t(f"；{outside} 个设施在新的研究范围之外", f"; {outside} facilities lie outside "
                                                       f"the new study area") if outside else ""
    saved(t(f"已导入街道边界（{as_text(name)}，版本 {version}）{extra}。",
            f"Imported the street boundaries ({as_text(name)}, version {version}){extra}."))
    st.rerun()


def boundaries_panel(targets: Targets) -> None:
    """Upload official boundaries, map their fields, see overlaps and gaps, then replace."""
    upload = st.file_uploader(t("街道边界：GeoJSON、GeoPackage 或压缩的 Shapefile（任意坐标系）",
                                "Street boundaries: GeoJSON, GeoPackage or zipped Shapefile "
                                "(any CRS)"), type=BOUNDARY_TYPES, key="bnd_upload")
    if upload is None:
        return
    key = f"bnd_base_{upload.file_id}"
    st.session_state.setdefault(key, dataset_store().current_version())
    picked = chosen_part(upload, key=f"bnd_layer_{upload.file_id}")
    if picked is None:
        return
    layer = picked[1]
    raw = or_error(lambda: parsed_features(upload, layer=layer))
    if raw is None:
        return
    fields = _boundary_fields([str(c) for c in raw.columns if c != "geometry"], upload.file_id)
    streets = or_error(lambda: _normalised(raw, fields, upload.name))
    if streets is None:
        return
    problems = boundary_problems(streets)
    for problem in problems:
        st.warning(as_text(problem))
    if not problems:
        st.success(t(f"{len(streets)} 个街道，无重叠、无空隙。",
                     f"{len(streets)} streets, no overlaps and no gaps."))
    boundaries_preview(streets)
    if st.button(t(f"用这 {len(streets)} 个街道替换现有边界",
                   f"Replace the boundaries with these {len(streets)} streets"),
                 type="primary", key="bnd_apply"):
        _save(streets, name=upload.name, base_version=st.session_state[key], targets=targets)
