"""The Data page's panels: what the app shows now, importing facilities, importing boundaries.

An import is checked first (every row accepted or rejected with its reason, hints about the
coordinates) and applied only when the user says so; applying writes the whole dataset anew
(:func:`geo.data.dataset_io.write_dataset`), so it either lands completely or not at all.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.data.area import placement_area
from geo.data.dataset import FACILITY_MODES, Dataset, prefix_ids, with_boundaries, with_facilities
from geo.data.dataset_io import reset_dataset, write_dataset
from geo.data.geocode import GEOCODE_CACHE, PROVIDER_NAMES, Geocoder, geocoder_for
from geo.data.importer import (
    FIELD_ALIASES,
    REASONS,
    ImportReport,
    boundary_problems,
    import_facilities,
    parse_crs,
    suggest_mapping,
)
from geo.data.io import boundary_field_defaults, read_table, read_vector_file
from geo.data.schema import normalize_boundaries
from geo.model.errors import InputError
from geo.model.targets import Targets
from layers.folium_layers import base_map, street_layer
from layers.offline import standalone_html
from ui.controls import secrets
from ui.data import dataset_file, load_dataset
from ui.i18n import category_label, column_label, lang, t
from ui.widgets import or_error, show_table

__all__ = ["boundaries_panel", "current_panel", "facilities_panel"]

T = TypeVar("T")

TABLE_TYPES = ["csv", "xlsx", "geojson", "json", "gpkg", "zip"]
BOUNDARY_TYPES = ["geojson", "json", "gpkg", "zip"]
CRS_CHOICES = {"wgs84": ("WGS-84（GPS、天地图）", "WGS-84 (GPS, Tianditu)"),
               "gcj02": ("GCJ-02（高德、腾讯）", "GCJ-02 (AMap, Tencent)"),
               "bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
               "cgcs2000": ("CGCS2000 经纬度", "CGCS2000 lon/lat"),
               "epsg": ("投影坐标 EPSG 代码…", "Projected, EPSG code…")}
MODE_LABELS = {"replace_categories": ("替换文件中这些类别的设施", "Replace these categories' "
                                                            "facilities"),
               "append": ("追加到现有设施", "Add to the existing facilities"),
               "replace_all": ("替换全部设施", "Replace every facility")}
PROVIDER_LABELS = {"": ("不做地址解析", "No geocoding"), "amap": ("高德地图", "AMap (Gaode)"),
                   "tianditu": ("天地图", "Tianditu"), "nominatim": ("Nominatim (OSM)",
                                                                    "Nominatim (OSM)")}
#: The importer's reasons (keys of geo.data.importer.REASONS) in Chinese, for the summary table.
REASONS_ZH = {"coords": "坐标缺失或非数字", "range": "坐标超出范围", "outside": "不在研究范围内",
              "duplicate": "编号重复", "category": "类别未知", "name": "名称为空",
              "capacity": "容量不是 ≥ 0 的数字", "status": "状态未知", "geocode": "地址解析失败"}
NONE = ""
PREVIEW_ROWS = 20


def _pair(pair: tuple[str, str]) -> str:
    return t(*pair)


def _reason_label(reason: str) -> str:
    key = next((k for k, text in REASONS.items() if text == reason), None)
    return t(REASONS_ZH.get(key, reason), reason)


def _read_upload(upload, read: Callable[[Path], T]) -> T:
    """``read`` the uploaded file from a temporary copy that keeps its name (and suffix)."""
    with tempfile.TemporaryDirectory(prefix="changning-upload-") as folder:
        path = Path(folder) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            return read(path)
        except InputError as exc:
            raise InputError(str(exc).replace(str(path), upload.name)) from exc


def _origin(upload) -> str:
    return f"{upload.name} ({datetime.now():%Y-%m-%d %H:%M})"


def _save(dataset: Dataset, message: str) -> None:
    """Store the new dataset; say so, or say why not (the old one stays)."""
    try:
        write_dataset(dataset, dataset_file())
    except (OSError, ValueError, RuntimeError) as exc:
        st.error(t(f"保存失败，原数据未改变：{exc}",
                   f"Saving failed; the data is unchanged: {exc}"))
        return
    st.session_state["data_saved"] = message
    st.session_state.pop("fac_report", None)  # imported: the check is done with
    st.rerun()


# -- what is loaded ------------------------------------------------------------------------------


def _origin_text(origins: tuple[str, ...]) -> str:
    return " + ".join(t("演示数据", "demo") if o == "demo" else o for o in origins)


def dataset_table(dataset: Dataset, targets: Targets) -> pd.DataFrame:
    """One row per part of the dataset: what it is, how many features, where it came from."""
    rows = [{"name": t("街道边界", "Street boundaries"), "count": len(dataset.streets),
             "source": _origin_text((dataset.boundaries_origin,))}]
    counts = dataset.facilities["category"].value_counts()
    for category, origins in dataset.facility_origins.items():
        rows.append({"name": category_label(targets, category),
                     "count": int(counts.get(category, 0)), "source": _origin_text(origins)})
    return pd.DataFrame(rows)


def current_panel(targets: Targets) -> None:
    """What the app shows now, and going back to the demo."""
    if "data_saved" in st.session_state:
        st.success(st.session_state.pop("data_saved"))
    dataset = load_dataset()
    show_table(dataset_table(dataset, targets))
    if dataset.all_demo:
        return
    sure = st.checkbox(t("确认删除导入的数据，恢复演示数据", "Yes, delete the imported data and go "
                                                     "back to the demo"), key="reset_sure")
    if st.button(t("恢复演示数据", "Back to the demo data"), disabled=not sure, key="reset"):
        reset_dataset(dataset_file())
        st.session_state["data_saved"] = t("已恢复演示数据。", "The demo data is back.")
        st.rerun()


# -- facilities ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacilityChoices:
    """How the user reads the uploaded table."""

    mapping: dict[str, str]
    crs_text: str
    category: str | None
    category_field: str | None
    provider: str
    id_prefix: str

    def key(self, file_id: str) -> tuple:
        return (file_id, tuple(sorted(self.mapping.items())), self.crs_text, self.category,
                self.category_field, self.provider)


def _mapping_inputs(columns: list[str], file_id: str) -> dict[str, str]:
    suggested = suggest_mapping(columns)
    options = [NONE, *columns]
    mapping = {}
    grid = st.columns(5)
    for number, field in enumerate(FIELD_ALIASES):
        chosen = grid[number % 5].selectbox(
            column_label(field), options, index=options.index(suggested.get(field, NONE)),
            format_func=lambda c: c or "—", key=f"fac_map_{field}_{file_id}")
        if chosen:
            mapping[field] = chosen
    return mapping


def _crs_input() -> str:
    left, right = st.columns(2)
    choice = left.selectbox(t("坐标系", "Coordinate system"), list(CRS_CHOICES),
                            format_func=lambda k: _pair(CRS_CHOICES[k]), key="fac_crs")
    if choice != "epsg":
        return choice
    code = right.text_input(t("EPSG 代码", "EPSG code"), value="4547", key="fac_epsg")
    return f"EPSG:{code.strip().removeprefix('EPSG:').removeprefix('epsg:')}"


def _category_inputs(targets: Targets, mapping: dict[str, str]) -> tuple[str | None, str | None]:
    labels = {k: targets[k].label(lang()) for k in targets.keys()}
    from_column = "category" in mapping
    how = st.radio(t("设施类别", "Category"), ["column", "one"], index=0 if from_column else 1,
                   horizontal=True, key="fac_category_how",
                   format_func={"column": t("取自“类别”列", "From the category column"),
                                "one": t("全部为同一类别", "All rows are one category")}.get)
    if how == "one":
        return st.selectbox(t("类别", "Category"), list(labels), format_func=labels.get,
                            key="fac_category"), None
    if not from_column:
        st.error(t("请先在上面指定“类别”列。", "Map the category column above first."))
    return None, mapping.get("category")


def facility_choices(table: pd.DataFrame, targets: Targets, file_id: str) -> FacilityChoices:
    """The mapping, CRS, category, geocoding provider and id prefix the user picked."""
    st.markdown(t("**字段对应**（已按表头自动建议，可更正）",
                  "**Columns** (suggested from the headers; correct them if needed)"))
    mapping = _mapping_inputs([str(c) for c in table.columns], file_id)
    crs_text = _crs_input()
    category, category_field = _category_inputs(targets, mapping)
    left, right = st.columns(2)
    provider = left.selectbox(t("地址解析（无坐标的行）", "Geocode rows without coordinates"),
                              [NONE, *PROVIDER_NAMES], key="fac_geocode",
                              format_func=lambda k: _pair(PROVIDER_LABELS.get(k, (k, k))))
    id_prefix = right.text_input(t("编号前缀（避免与其他类别重复）",
                                   "Id prefix (keeps ids apart from other lists)"),
                                 key="fac_prefix")
    return FacilityChoices(mapping, crs_text, category, category_field, provider,
                           id_prefix.strip())


def _geocoder(name: str) -> Geocoder | None:
    """The provider's geocoder (key from the environment or secrets, answers cached)."""
    return geocoder_for(name, secrets=secrets(), cache_path=GEOCODE_CACHE) if name else None


def check_facilities(table: pd.DataFrame, choices: FacilityChoices, *, targets: Targets,
                     dataset: Dataset, name: str) -> ImportReport:
    """Every row of ``table`` accepted or rejected (geocoding with a progress bar)."""
    geocoder = _geocoder(choices.provider)
    bar = st.progress(0.0, text=t("地址解析中…", "Geocoding…")) if geocoder else None

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(done / max(total, 1), text=t(f"地址解析 {done}/{total}",
                                                      f"Geocoding {done}/{total}"))

    geocoding = {"geocoder": geocoder, "progress": progress} if geocoder else {}
    report = import_facilities(table, known_categories=targets.keys(), mapping=choices.mapping,
                               crs=parse_crs(choices.crs_text), category=choices.category,
                               category_field=choices.category_field,
                               area=placement_area(dataset.streets, targets),
                               source=f"import: {name}", **geocoding)
    if bar is not None:
        bar.empty()
    return report


def show_report(report: ImportReport, *, name: str) -> None:
    """Counts, reasons, hints, the accepted rows and the rejected ones (downloadable)."""
    summary = report.summary()
    left, right = st.columns(2)
    left.metric(t("可导入", "Accepted"), summary["accepted"])
    right.metric(t("被拒绝", "Rejected"), summary["rejected"])
    for hint in report.hints:
        st.warning(hint, icon="💡")
    if summary["reasons"]:
        st.dataframe(pd.DataFrame({
            t("原因", "Reason"): [_reason_label(r) for r in summary["reasons"]],
            t("行数", "Rows"): list(summary["reasons"].values())}), hide_index=True)
    if len(report.accepted):
        st.caption(t(f"可导入的行（前 {PREVIEW_ROWS} 行）",
                     f"Accepted rows (first {PREVIEW_ROWS})"))
        show_table(pd.DataFrame(report.accepted.drop(columns="geometry")).head(PREVIEW_ROWS))
    if len(report.rejected):
        st.caption(t("被拒绝的行（原样保留，附原因）",
                     "Rejected rows, as they came, with the reason"))
        st.dataframe(report.rejected, hide_index=True)
        st.download_button(t("下载被拒绝的行（CSV）", "Download the rejected rows (CSV)"),
                           report.rejected.to_csv(index=False).encode("utf-8-sig"),
                           file_name=f"rejected-{Path(name).stem}.csv", mime="text/csv",
                           key="fac_rejected_download")


def apply_facilities(report: ImportReport, choices: FacilityChoices, *, upload) -> None:
    """The import mode and the button that stores the accepted rows."""
    mode = st.radio(t("导入方式", "How to import"), list(FACILITY_MODES), key="fac_mode",
                    format_func=lambda m: _pair(MODE_LABELS[m]))
    rejected = len(report.rejected)
    label = t(f"导入 {len(report.accepted)} 个设施", f"Import {len(report.accepted)} facilities")
    if rejected:
        st.caption(t(f"{rejected} 行被拒绝，不会导入（可在上方下载）。",
                     f"{rejected} rejected rows will not be imported (download them above)."))
    if not st.button(label, type="primary", disabled=not len(report.accepted), key="fac_apply"):
        return
    dataset = load_dataset()
    new = or_error(lambda: with_facilities(dataset, prefix_ids(report.accepted, choices.id_prefix),
                                         mode=mode, origin=_origin(upload)))
    if new is not None:
        _save(new, t(f"已导入 {len(report.accepted)} 个设施（{upload.name}）。",
                     f"Imported {len(report.accepted)} facilities ({upload.name})."))


def facilities_panel(targets: Targets) -> None:
    """Upload a facility list, map its columns, check every row, then import it."""
    upload = st.file_uploader(t("设施清单：CSV、Excel、GeoJSON、GeoPackage 或压缩的 Shapefile",
                                "Facility list: CSV, Excel, GeoJSON, GeoPackage or zipped "
                                "Shapefile"), type=TABLE_TYPES, key="fac_upload")
    if upload is None:
        return
    table = or_error(lambda: _read_upload(upload, read_table))
    if table is None:
        return
    st.caption(t(f"{upload.name}：{len(table)} 行，前 {PREVIEW_ROWS} 行如下",
                 f"{upload.name}: {len(table)} rows; the first {PREVIEW_ROWS}:"))
    st.dataframe(table.head(PREVIEW_ROWS), hide_index=True)
    choices = facility_choices(table, targets, upload.file_id)
    key = choices.key(upload.file_id)
    if st.button(t("检查", "Check"), key="fac_check"):
        report = or_error(lambda: check_facilities(table, choices, targets=targets,
                                                 dataset=load_dataset(), name=upload.name))
        st.session_state["fac_report"] = (key, report) if report is not None else None
    checked = st.session_state.get("fac_report")
    if not checked:
        return
    if checked[0] != key:
        st.info(t("设置已更改，请重新检查。", "The settings changed: check again."))
        return
    show_report(checked[1], name=upload.name)
    apply_facilities(checked[1], choices, upload=upload)


# -- boundaries ----------------------------------------------------------------------------------


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
    area = streets.to_crs("EPSG:32651").area / 1e6
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


def boundaries_panel() -> None:
    """Upload official boundaries, map their fields, see overlaps and gaps, then replace."""
    upload = st.file_uploader(t("街道边界：GeoJSON、GeoPackage 或压缩的 Shapefile（任意坐标系）",
                                "Street boundaries: GeoJSON, GeoPackage or zipped Shapefile "
                                "(any CRS)"), type=BOUNDARY_TYPES, key="bnd_upload")
    if upload is None:
        return
    raw = or_error(lambda: _read_upload(
        upload, lambda p: read_vector_file(p, what="boundaries file")))
    if raw is None:
        return
    fields = _boundary_fields([str(c) for c in raw.columns if c != "geometry"], upload.file_id)
    streets = or_error(lambda: _normalised(raw, fields, upload.name))
    if streets is None:
        return
    problems = boundary_problems(streets)
    for problem in problems:
        st.warning(problem)
    if not problems:
        st.success(t(f"{len(streets)} 个街道，无重叠、无空隙。",
                     f"{len(streets)} streets, no overlaps and no gaps."))
    boundaries_preview(streets)
    if st.button(t(f"用这 {len(streets)} 个街道替换现有边界",
                   f"Replace the boundaries with these {len(streets)} streets"),
                 type="primary", key="bnd_apply"):
        new = with_boundaries(load_dataset(), streets, origin=_origin(upload))
        _save(new, t(f"已导入街道边界（{upload.name}）。",
                     f"Imported the street boundaries ({upload.name})."))
