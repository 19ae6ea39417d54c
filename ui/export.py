"""The export panel of the Map, Street and Scenario pages: files for a report, downloaded."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import streamlit as st

from layers.fonts import MissingFontError
from layers.report import FORMATS, ReportInputs, category_map_png, write_reports
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


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def export_panel(inputs: ReportInputs, *, code: str | None, category: str, mode: str,
                 key: str) -> None:
    """Downloads for a street (``code``) or the district: the current map as PNG, the PDF
    report, offline HTML, tables and cells; and a pack of every street with a progress bar."""
    with st.expander(t("导出（报告用）", "Export (for reports)"), expanded=False):
        dpi = st.selectbox(t("打印分辨率", "Print resolution"), [150, 300],
                           format_func=lambda d: f"{d} dpi", key=f"{key}_dpi")
        formats = st.multiselect(t("格式", "Formats"), list(FORMATS), default=["pdf", "xlsx"],
                                 key=f"{key}_formats")
        state = f"{key}_files"
        try:
            if st.button(t("生成当前地图 PNG", "Make the current map as PNG"), key=f"{key}_png"):
                name = f"map-{code or 'district'}-{category}.png"
                st.session_state[state] = {name: category_map_png(
                    inputs, category=category, mode=mode, focus=code, dpi=dpi,
                    title=f"{inputs.label(category)} 覆盖")}
            if st.button(t("生成所选格式", "Make the chosen formats"), key=f"{key}_make"):
                st.session_state[state] = _files(inputs, codes=[code] if code else [],
                                                 formats=formats, dpi=dpi)
            if st.button(t("全部街道打包（ZIP）", "All streets as one ZIP"), key=f"{key}_all"):
                bar = st.progress(0.0, text=t("正在生成…", "Making…"))
                codes = list(inputs.result.boundaries["code"])
                files = _files(inputs, codes=codes, formats=formats, dpi=dpi, bar=bar)
                st.session_state[state] = {"changning-report.zip": _zip(files)}
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
