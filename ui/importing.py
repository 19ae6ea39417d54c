"""The Data page's facility import: upload a list (parsed once), pick its sheet or layer and
encoding, map its columns, its coordinate system and which source classes are which category
(or ignored), check every row against the current dataset version, then import it as a new
version — refused when another import landed since the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from geo.data.area import placement_area
from geo.data.dataset import FACILITY_MODES, Dataset, prefix_ids, with_facilities
from geo.data.export_io import csv_bytes
from geo.data.geocode import GEOCODE_CACHE, PROVIDER_NAMES, Geocoder, geocoder_for
from geo.data.importer import ImportReport, import_facilities
from geo.data.io import TableRead
from geo.data.mapping import FIELD_ALIASES, IGNORE, class_table, parse_crs, suggest_mapping
from geo.data.rules import INTERNAL_COLUMNS, REASONS
from geo.model.targets import Targets
from ui.controls import secrets
from ui.data import dataset_store, load_dataset_version
from ui.i18n import column_label, lang, t
from ui.markdown import as_text
from ui.uploads import chosen_part, parsed_table
from ui.versions import save_version, saved
from ui.widgets import or_error, show_table

__all__ = ["facilities_panel"]

TABLE_TYPES = ["csv", "txt", "xlsx", "geojson", "json", "gpkg", "zip"]
CRS_CHOICES = {"wgs84": ("WGS-84（GPS、天地图）", "WGS-84 (GPS, Tianditu)"),
               "gcj02": ("GCJ-02（高德、腾讯）", "GCJ-02 (AMap, Tencent)"),
               "bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
               "cgcs2000": ("CGCS2000 经纬度", "CGCS2000 lon/lat"),
               "epsg": ("投影坐标 EPSG 代码…", "Projected, EPSG code…")}
ENCODINGS = ["", "utf-8", "gb18030", "big5", "utf-16", "shift_jis"]
MODE_LABELS = {"replace_categories": ("替换文件中这些类别的设施", "Replace these categories' "
                                                            "facilities"),
               "append": ("追加到现有设施", "Add to the existing facilities"),
               "replace_all": ("替换全部设施", "Replace every facility")}
PROVIDER_LABELS = {"": ("不做地址解析", "No geocoding"), "amap": ("高德地图", "AMap (Gaode)"),
                   "tianditu": ("天地图", "Tianditu"), "nominatim": ("Nominatim (OSM)",
                                                                    "Nominatim (OSM)")}
#: The rules' reasons (keys of geo.data.rules.REASONS) in Chinese, for the summary table.
REASONS_ZH = {"coords": "坐标缺失或非数字", "range": "坐标超出范围", "crs": "坐标系未知",
              "outside": "不在研究范围内", "duplicate": "编号重复", "category": "类别未知",
              "capacity": "容量不是有限的 ≥ 0 数字", "status": "状态未知",
              "geocode": "地址解析失败"}
NONE = ""
PREVIEW_ROWS = 20


def _pair(pair: tuple[str, str]) -> str:
    return t(*pair)


def _reason_label(reason: str) -> str:
    key = next((k for k, text in REASONS.items() if text == reason), None)
    return t(REASONS_ZH.get(key, reason), reason)


def _origin(name: str) -> str:
    return f"{name} ({datetime.now():%Y-%m-%d %H:%M})"


# -- reading the upload --------------------------------------------------------------------------


def _read(upload) -> TableRead | None:
    """The upload read with the sheet/layer and encoding the user picks (pickers shown only
    when the file has several sheets or layers, or is a CSV)."""
    picked = chosen_part(upload, key=f"fac_part_{upload.file_id}")
    if picked is None:
        return None
    fmt, part = picked
    sheet, layer = (part, None) if fmt == "xlsx" else (None, part)
    encoding = None
    if fmt == "csv":
        encoding = st.selectbox(t("文字编码", "Text encoding"), ENCODINGS,
                                format_func=lambda e: e or t("自动识别", "detect"),
                                key=f"fac_encoding_{upload.file_id}") or None
    return or_error(lambda: parsed_table(upload, sheet=sheet, layer=layer, encoding=encoding))


def _show_read(read: TableRead, name: str) -> None:
    for note in read.notes:
        st.warning(as_text(note), icon="📄")
    shown = read.frame.drop(columns=[c for c in INTERNAL_COLUMNS if c in read.frame.columns])
    where = f" · {as_text(read.part)}" if read.part else ""
    encoding = f" · {read.encoding}" if read.encoding else ""
    name = as_text(name)
    st.caption(t(f"{name}{where}{encoding}：{len(shown)} 行，前 {PREVIEW_ROWS} 行如下",
                 f"{name}{where}{encoding}: {len(shown)} rows; the first {PREVIEW_ROWS}:"))
    st.dataframe(shown.head(PREVIEW_ROWS), hide_index=True)


# -- choices ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacilityChoices:
    """How the user reads the uploaded table."""

    mapping: dict[str, str]
    crs_text: str
    category: str | None
    category_field: str | None
    category_map: dict[str, str]
    provider: str
    id_prefix: str

    def key(self, file_id: str) -> tuple:
        return (file_id, tuple(sorted(self.mapping.items())), self.crs_text, self.category,
                self.category_field, tuple(sorted(self.category_map.items())), self.provider)

    @property
    def ready(self) -> bool:
        """Whether a category source is chosen (none is assumed)."""
        return bool(self.category or self.category_field)


def _mapping_inputs(columns: list[str], file_id: str) -> dict[str, str]:
    suggested = suggest_mapping(columns)
    options = [NONE, *columns]
    mapping = {}
    grid = st.columns(6)
    for number, field in enumerate(FIELD_ALIASES):
        chosen = grid[number % 6].selectbox(
            column_label(field), options, index=options.index(suggested.get(field, NONE)),
            format_func=lambda c: c or "—", key=f"fac_map_{field}_{file_id}")
        if chosen:
            mapping[field] = chosen
    return mapping


def _crs_input() -> str:
    left, right = st.columns(2)
    choice = left.selectbox(t("坐标系（行内“坐标系”列优先）",
                              "Coordinate system (a row's own crs column wins)"),
                            list(CRS_CHOICES), format_func=lambda k: _pair(CRS_CHOICES[k]),
                            key="fac_crs")
    if choice != "epsg":
        return choice
    code = right.text_input(t("EPSG 代码", "EPSG code"), value="4547", key="fac_epsg")
    return f"EPSG:{code.strip().removeprefix('EPSG:').removeprefix('epsg:')}"


def _class_inputs(frame: pd.DataFrame, column: str, targets: Targets,
                  file_id: str) -> dict[str, str]:
    """Each distinct class of ``column`` with its rows and category: one multiselect of
    classes a category (pre-filled from the known classes), every other class ignored."""
    table = class_table(frame[column], known_categories=targets.keys())
    classes = table["class"].tolist()
    chosen: dict[str, str] = {}
    grid = st.columns(min(len(targets.keys()), 5))
    for number, category in enumerate(targets.keys()):
        default = table.loc[table["category"] == category, "class"].tolist()
        picked = grid[number % len(grid)].multiselect(
            as_text(targets[category].label(lang())), classes, default=default,
            key=f"fac_classes_{category}_{file_id}_{column}")
        for cls in picked:
            if cls in chosen:
                st.error(as_text(t(f"类 {cls!r} 同时被选为 {chosen[cls]} 和 {category}。",
                                   f"Class {cls!r} is chosen for both {chosen[cls]} and "
                                   f"{category}.")))
            chosen[cls] = category
    mapped = {cls: chosen.get(cls, IGNORE) for cls in classes}
    shown = table.assign(category=[mapped[c] for c in classes])
    ignored = int(shown.loc[shown["category"] == IGNORE, "rows"].sum())
    st.caption(t(f"{len(classes)} 个类；未选的类忽略（{ignored} 行，计入报告，不导入）。",
                 f"{len(classes)} classes; classes not chosen are ignored ({ignored} rows: "
                 f"counted in the report, not imported)."))
    st.dataframe(shown.rename(columns={"class": t("源类别", "Source class"),
                                       "rows": t("行数", "Rows"),
                                       "category": t("类别", "Category")}),
                 hide_index=True, height=min(38 + 35 * len(classes), 320))
    return mapped


def _category_inputs(frame: pd.DataFrame, targets: Targets, mapping: dict[str, str],
                     file_id: str) -> tuple[str | None, str | None, dict[str, str]]:
    columns = [c for c in frame.columns if c not in INTERNAL_COLUMNS]
    class_column = mapping.get("category") or mapping.get("subtype")
    how = st.radio(t("设施类别", "Category"), ["column", "one"],
                   index=0 if class_column else 1, horizontal=True, key="fac_category_how",
                   format_func={"column": t("按列中的类别或源类别",
                                            "From a column of categories or source classes"),
                                "one": t("全部为同一类别", "All rows are one category")}.get)
    if how == "one":
        labels = {k: targets[k].label(lang()) for k in targets.keys()}
        category = st.selectbox(t("类别（请选择）", "Category (choose one)"), list(labels),
                                index=None, format_func=labels.get, key="fac_category")
        return category, None, {}
    column = st.selectbox(t("类别所在列", "Column of the categories or classes"), columns,
                          index=columns.index(class_column) if class_column in columns else None,
                          key=f"fac_class_column_{file_id}")
    if column is None:
        return None, None, {}
    return None, column, _class_inputs(frame, column, targets, file_id)


def facility_choices(frame: pd.DataFrame, targets: Targets, file_id: str) -> FacilityChoices:
    """The mapping, CRS, categories, geocoding provider and id prefix the user picked."""
    st.markdown(t("**字段对应**（已按表头自动建议，可更正）",
                  "**Columns** (suggested from the headers; correct them if needed)"))
    columns = [str(c) for c in frame.columns if c not in INTERNAL_COLUMNS]
    mapping = _mapping_inputs(columns, file_id)
    crs_text = _crs_input()
    category, category_field, category_map = _category_inputs(frame, targets, mapping, file_id)
    left, right = st.columns(2)
    provider = left.selectbox(t("地址解析（无坐标的行）", "Geocode rows without coordinates"),
                              [NONE, *PROVIDER_NAMES], key="fac_geocode",
                              format_func=lambda k: _pair(PROVIDER_LABELS.get(k, (k, k))))
    id_prefix = right.text_input(t("编号前缀（避免与其他类别重复）",
                                   "Id prefix (keeps ids apart from other lists)"),
                                 key="fac_prefix")
    return FacilityChoices(mapping, crs_text, category, category_field, category_map, provider,
                           id_prefix.strip())


# -- check, report, import ---------------------------------------------------------------------


def _geocoder(name: str) -> Geocoder | None:
    """The provider's geocoder (key from the environment or secrets, answers cached)."""
    return geocoder_for(name, secrets=secrets(), cache_path=GEOCODE_CACHE) if name else None


def check_facilities(read: TableRead, choices: FacilityChoices, *, targets: Targets,
                     dataset: Dataset, name: str) -> ImportReport:
    """Every row of the upload accepted, rejected or ignored (geocoding with a progress bar)."""
    geocoder = _geocoder(choices.provider)
    bar = st.progress(0.0, text=t("地址解析中…", "Geocoding…")) if geocoder else None

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(done / max(total, 1), text=t(f"地址解析 {done}/{total}",
                                                      f"Geocoding {done}/{total}"))

    geocoding = {"geocoder": geocoder, "progress": progress} if geocoder else {}
    report = import_facilities(
        read.frame, known_categories=targets.keys(), mapping=choices.mapping,
        crs=parse_crs(choices.crs_text), category=choices.category,
        category_field=choices.category_field, category_map=choices.category_map or None,
        labels={k: targets[k].label("zh") for k in targets.keys()},
        area=placement_area(dataset.streets, targets), source=f"import: {name}",
        first_row=read.first_row, **geocoding)
    if bar is not None:
        bar.empty()
    return report


def show_report(report: ImportReport, *, name: str) -> None:
    """Counts, reasons, warnings, hints, the accepted rows and the rejected ones."""
    summary = report.summary()
    left, middle, right = st.columns(3)
    left.metric(t("可导入", "Accepted"), summary["accepted"])
    middle.metric(t("被拒绝", "Rejected"), summary["rejected"])
    right.metric(t("已忽略", "Ignored"), summary["ignored"])
    for hint in report.hints:
        st.warning(as_text(hint), icon="💡")
    for warning, count in summary["warnings"].items():
        st.info(as_text(f"{count} × {warning}"), icon="ℹ️")
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
                           csv_bytes(report.rejected),
                           file_name=f"rejected-{Path(name).stem}.csv", mime="text/csv",
                           key="fac_rejected_download")


def apply_facilities(report: ImportReport, choices: FacilityChoices, *, name: str,
                     base_version: int) -> None:
    """The import mode and the button that stores the accepted rows as a new version."""
    mode = st.radio(t("导入方式", "How to import"), list(FACILITY_MODES), key="fac_mode",
                    format_func=lambda m: _pair(MODE_LABELS[m]))
    rejected = len(report.rejected)
    label = t(f"导入 {len(report.accepted)} 个设施", f"Import {len(report.accepted)} facilities")
    if rejected:
        st.caption(t(f"{rejected} 行被拒绝，不会导入（可在上方下载）。",
                     f"{rejected} rejected rows will not be imported (download them above)."))
    if not st.button(label, type="primary", disabled=not len(report.accepted), key="fac_apply"):
        return
    dataset = or_error(lambda: load_dataset_version(base_version))
    if dataset is None:
        return
    new = or_error(lambda: with_facilities(dataset, prefix_ids(report.accepted, choices.id_prefix),
                                         mode=mode, origin=_origin(name)))
    if new is None:
        return
    version = save_version(new, before=dataset, base_version=base_version, action="import",
                           detail=f"{name} ({mode})", again=("请重新检查。", "check again."))
    if version is None:
        st.session_state.pop("fac_report", None)
        return
    saved(t(f"已导入 {len(report.accepted)} 个设施（{as_text(name)}，版本 {version}）。",
            f"Imported {len(report.accepted)} facilities ({as_text(name)}, version {version})."))
    st.session_state.pop("fac_report", None)  # imported: the check is done with
    st.rerun()


def facilities_panel(targets: Targets) -> None:
    """Upload a facility list, map its columns and classes, check every row, then import."""
    upload = st.file_uploader(t("设施清单：CSV、Excel、GeoJSON、GeoPackage 或压缩的 Shapefile",
                                "Facility list: CSV, Excel, GeoJSON, GeoPackage or zipped "
                                "Shapefile"), type=TABLE_TYPES, key="fac_upload")
    if upload is None:
        return
    read = _read(upload)
    if read is None:
        return
    _show_read(read, upload.name)
    choices = facility_choices(read.frame, targets, upload.file_id)
    # a check belongs to the sheet or layer and the encoding it read, as to the choices
    key = (*choices.key(upload.file_id), read.part, read.encoding)
    if st.button(t("检查", "Check"), key="fac_check", disabled=not choices.ready):
        version = dataset_store().current_version()
        report = or_error(lambda: check_facilities(read, choices, targets=targets,
                                                 dataset=load_dataset_version(version),
                                                 name=upload.name))
        st.session_state["fac_report"] = (key, report, version) if report else None
    checked = st.session_state.get("fac_report")
    if not checked:
        return
    if checked[0] != key:
        st.info(t("设置已更改，请重新检查。", "The settings changed: check again."))
        return
    show_report(checked[1], name=upload.name)
    apply_facilities(checked[1], choices, name=upload.name, base_version=checked[2])
