"""The export panel of the Map, Street and Scenario pages: files for a report, downloaded."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import streamlit as st

from geo.data.audit import checked
from geo.data.export_io import write_geojson
from geo.model.access import Action, Principal, Refused, refusal
from geo.plan.reach import isochrones
from layers.fonts import MissingFontError
from layers.report import FORMATS, ReportInputs, category_map_png, write_reports
from ui.auth import audit_log, principal
from ui.i18n import t
from ui.markdown import as_text

__all__ = ["export_panel"]

MIME = {"pdf": "application/pdf", "png": "image/png", "html": "text/html",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv": "text/csv", "geojson": "application/geo+json",
        "gpkg": "application/geopackage+sqlite3", "zip": "application/zip"}


def _files(inputs: ReportInputs, *, codes: list[str], formats: list[str], dpi: int,
           bar=None) -> dict[str, bytes]:
    """Write the report files in a temporary directory and return name → bytes."""
    with tempfile.TemporaryDirectory(prefix="changning-export-") as folder:
        def progress(done: int, total: int, name: str) -> None:
            if bar is not None:
                bar.progress(done / total, text=f"{done}/{total} {as_text(name)}")

        written = write_reports(inputs, codes=codes, formats=formats, out_dir=Path(folder),
                                dpi=dpi, progress=progress)
        return {path.name: path.read_bytes() for path in written}


def _reach_geojson(inputs: ReportInputs, category: str) -> bytes:
    """Each facility's reach within the radius of ``category``, and the category's, as
    GeoJSON (see :func:`geo.plan.reach.isochrones`)."""
    with tempfile.TemporaryDirectory(prefix="changning-export-") as folder:
        path = Path(folder) / "reach.geojson"
        write_geojson(isochrones(inputs.result, inputs.facilities, category=category), path)
        return path.read_bytes()


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _export_code(who: Principal, code: str | None, key: str) -> str | None:
    """The street a street office exports: the page's street when it is one of its own, else
    one of its own streets, chosen here (it exports nothing for the district)."""
    if who.role != "street" or code in who.streets:
        return code
    st.caption(t("街道办只能导出本街道的报告。", "A street office exports its own streets only."))
    return st.selectbox(t("导出街道", "Street to export"), list(who.streets), key=f"{key}_own")


def _checked_files(who: Principal, make, *, codes: list[str], what: str) -> dict[str, bytes]:
    """``make()`` once ``who`` may export ``codes`` (none: the district), with an audit line
    for the export (or the refusal)."""
    log = audit_log()
    scope = ", ".join(codes) if codes else "district"
    checked(log, who, Action.EXPORT, object=f"{what} ({scope})", streets=codes)
    files = make()
    log.append(who, Action.EXPORT.value, object=f"{what} ({scope})",
               summary=", ".join(files)[:500])
    return files


def export_panel(inputs: ReportInputs, *, code: str | None, category: str, mode: str,
                 key: str) -> None:
    """Downloads for a street (``code``) or the district: the current map as PNG, the PDF
    report, offline HTML, tables and cells; and a pack of every street with a progress bar.
    What the role may not export is not offered, and refused if asked for anyway."""
    with st.expander(t("导出（报告用）", "Export (for reports)"), expanded=False):
        who = principal()
        code = _export_code(who, code, key)
        dpi = st.selectbox(t("打印分辨率", "Print resolution"), [150, 300],
                           format_func=lambda d: f"{d} dpi", key=f"{key}_dpi")
        formats = st.multiselect(t("格式", "Formats"), list(FORMATS), default=["pdf", "xlsx"],
                                 key=f"{key}_formats")
        state = f"{key}_files"
        codes = [code] if code else []
        every = list(inputs.result.boundaries["code"])
        try:
            if st.button(t("生成当前地图 PNG", "Make the current map as PNG"), key=f"{key}_png"):
                name = f"map-{code or 'district'}-{category}.png"
                st.session_state[state] = _checked_files(who, lambda: {name: category_map_png(
                    inputs, category=category, mode=mode, focus=code, dpi=dpi,
                    title=f"{inputs.label(category)} 覆盖")}, codes=codes, what="map PNG")
            if st.button(t("生成所选格式", "Make the chosen formats"), key=f"{key}_make"):
                st.session_state[state] = _checked_files(
                    who, lambda: _files(inputs, codes=codes, formats=formats, dpi=dpi),
                    codes=codes, what=f"report {','.join(formats)}")
            if st.button(t("各设施可达范围（GeoJSON）", "Each facility's reach (GeoJSON)"),
                         key=f"{key}_reach"):
                name = f"reach-{category}.geojson"
                st.session_state[state] = _checked_files(
                    who, lambda: {name: _reach_geojson(inputs, category)}, codes=codes,
                    what="reach outlines")
            if refusal(who, Action.EXPORT, streets=every) is None and st.button(
                    t("全部街道打包（ZIP）", "All streets as one ZIP"), key=f"{key}_all"):
                bar = st.progress(0.0, text=t("正在生成…", "Making…"))
                st.session_state[state] = _checked_files(who, lambda: {
                    "changning-report.zip": _zip(_files(inputs, codes=every, formats=formats,
                                                        dpi=dpi, bar=bar))},
                    codes=every, what=f"all streets {','.join(formats)}")
        except Refused as exc:
            st.error(t("没有导出权限：", "You may not export this: ") + as_text(str(exc)))
            return
        except MissingFontError as exc:
            st.error(as_text(str(exc)))
            return
        except ValueError as exc:  # matplotlib cannot draw e.g. "$\\foo$" in a name or label
            st.error(as_text(t(f"无法生成文件：{exc}", f"The files could not be made: {exc}")))
            return
        for name, data in st.session_state.get(state, {}).items():
            st.download_button(f"⬇ {as_text(name)}", data, file_name=name,
                               mime=MIME.get(name.rsplit(".", 1)[-1], "application/octet-stream"),
                               key=f"{key}_dl_{name}")
