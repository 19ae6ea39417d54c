"""Report packs: per street and for the district, the files a report is built from — PDF (A4,
Chinese), PNG map, offline interactive HTML, XLSX/CSV tables, GeoJSON/GeoPackage cells.

Files are named ``street-<code>.<ext>`` and ``district.<ext>`` in the output directory.

Output encoding, by format: the HTML map is :func:`layers.explorer.explorer_map`, whose layers
HTML-escape every name and pass it to JavaScript as JSON (:mod:`layers.encoding`); the PNG
(:mod:`layers.snapshot`) and the PDF (:mod:`layers.pdf_report`) draw names, category labels and
the scenario name literally; CSV and XLSX go through :mod:`geo.data.export_io`, which writes
text that a spreadsheet would run as a formula behind a single quote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.data.export_io import write_csv, write_geojson, write_gpkg, write_xlsx
from geo.engine.hexgrid import cell_polygons
from geo.engine.result import CoverageResult
from geo.engine.sums import district_summary
from geo.model.config import REPORT_FORMATS
from geo.model.targets import Targets
from geo.plan.compare import compare_streets, gain_columns
from geo.plan.export import cells_frame, coverage_table, facilities_frame, gaps_frame
from geo.plan.gaps import gap_blocks, missing_categories
from geo.plan.tables import category_cells, street_facilities
from geo.plan.wording import distance_words, gain_words, share_words
from layers.explorer import MapView, explorer_map
from layers.folium_layers import coverage_legend_entries
from layers.fonts import cjk_font
from layers.offline import standalone_html
from layers.pdf_report import ReportPage, ReportSection, build_pdf
from layers.snapshot import Snapshot, coverage_colours, map_png

__all__ = ["FORMATS", "ReportInputs", "category_map_png", "missing_map_png", "report_files",
           "write_reports"]

FORMATS = REPORT_FORMATS
#: Colours of the combined map: how many categories fail a cell (0 … 5 and more).
MISSING_COLOURS = ("#1a9850", "#a6d96a", "#fee08b", "#fdae61", "#f46d43", "#d73027")
GAPS_LISTED = 25
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ReportInputs:
    """What a report shows: coverage (with a scenario applied, if any), its facilities and
    targets; ``baseline`` is the coverage without the scenario (None without one)."""

    result: CoverageResult
    facilities: gpd.GeoDataFrame
    targets: Targets
    baseline: CoverageResult | None = None
    scenario: str = ""
    demo: bool = True

    def label(self, category: str) -> str:
        """A category's Chinese name."""
        return self.targets[category].label("zh") if category in self.targets else category

    def credits(self) -> str:
        """Data sources and attribution printed on maps and pages."""
        parts = ["演示数据（示意，非官方）Demo data" if self.demo else "数据：用户导入"]
        if self.facilities["source"].astype(str).str.contains("OpenStreetMap").any():
            parts.append("© OpenStreetMap contributors")
        if self.scenario:
            parts.append(f"情景：{self.scenario}")
        return " · ".join(parts)


def missing_map_png(inputs: ReportInputs, *, focus: str | None, title: str,
                    dpi: int = 150) -> bytes:
    """The combined map: each cell coloured by how many categories fail it."""
    missing = missing_categories(inputs.result)
    cells = gpd.GeoDataFrame(missing.assign(covered=missing["missing"] == 0),
                             geometry=cell_polygons(missing.index).to_numpy(), crs="EPSG:4326")
    top = len(MISSING_COLOURS) - 1
    colours = [MISSING_COLOURS[min(n, top)] for n in cells["missing"]]
    legend = [(MISSING_COLOURS[n], f"{n} 类" if n < top else f"≥ {n} 类")
              for n in range(min(len(inputs.result.categories), top) + 1)]
    words = Snapshot(title=title, legend_title="未覆盖的设施类别数", credits=inputs.credits(),
                     date=date.today().isoformat())
    categories = {c: inputs.label(c) for c in inputs.result.categories}
    return map_png(streets=inputs.result.boundaries, cells=cells, facilities=inputs.facilities,
                   colours=colours, legend=legend, categories=categories, words=words,
                   focus=focus, dpi=dpi)


def category_map_png(inputs: ReportInputs, *, category: str, mode: str, focus: str | None,
                     title: str, dpi: int = 150) -> bytes:
    """The map of one category's coverage, as the pages show it (by distance or covered/gap)."""
    cells = category_cells(inputs.result, category)
    radius = inputs.targets[category].radius_m
    legend = coverage_legend_entries(radius_m=radius, mode=mode, covered="已覆盖", gap="缺口")
    measured = distance_words(inputs.result)[0]
    words = Snapshot(title=title, legend_title=(f"最近距离（{measured}）" if mode == "distance"
                                                else f"覆盖（{measured}）"),
                     credits=inputs.credits(), date=date.today().isoformat())
    return map_png(streets=inputs.result.boundaries, cells=cells, facilities=inputs.facilities,
                   colours=coverage_colours(cells, radius_m=radius, mode=mode), legend=legend,
                   categories={category: inputs.label(category)}, words=words, focus=focus,
                   dpi=dpi)


def _profile(inputs: ReportInputs, code: str | None) -> pd.DataFrame:
    """Coverage against target per category, for a street (with the district beside it) or
    the district."""
    district = district_summary(inputs.result)
    share_name = share_words(inputs.result)[0]
    rows = []
    for category in inputs.result.categories:
        column = _judged_column(inputs, category)
        street = (inputs.result.streets.set_index(["code", "category"]).loc[(code, category)]
                  if code else None)
        share = street[column] if code else district.loc[category, column]
        target = inputs.targets[category].target_share
        rows.append({"类别": inputs.label(category),
                     "服务半径(米)": inputs.targets[category].radius_m,
                     "依据": "60岁以上" if column == "covered_elderly_share" else share_name,
                     "覆盖%": round(100 * share, 1),
                     "全区%": round(100 * district.loc[category, column], 1),
                     "目标%": round(100 * target, 1),
                     "达标": "是" if share + 1e-12 >= target else "否"})
    table = pd.DataFrame(rows)
    return table if code else table.drop(columns="全区%")


def _judged_column(inputs: ReportInputs, category: str) -> str:
    """The share a category's target is judged on: of those aged 60+ where its weight says so
    and the result knows them, else of residents (or area)."""
    elderly = (category in inputs.targets and inputs.targets[category].weight == "elderly"
               and "elderly" in inputs.result.cells)
    return "covered_elderly_share" if elderly else "covered_population_share"


def _gap_list(inputs: ReportInputs, code: str | None) -> pd.DataFrame:
    blocks = gap_blocks(inputs.result, code=code).head(GAPS_LISTED)
    return pd.DataFrame({
        "街道": blocks["street"], "类别": blocks["category"].map(inputs.label),
        "网格": blocks["cells"], "人口": blocks["residents"].round(0),
        "最近设施": blocks["nearest_name"], "距离(米)": blocks["nearest_distance_m"].round(0),
    })


def _comparison(inputs: ReportInputs, code: str | None) -> pd.DataFrame | None:
    if inputs.baseline is None:
        return None
    table = compare_streets(inputs.baseline, inputs.result)
    if code:
        table = table[table["code"] == code]
    gained, _ = gain_columns(inputs.result)
    return pd.DataFrame({
        "街道": table["street"], "类别": table["category"].map(inputs.label),
        "现状%": (100 * table["share_before"]).round(1),
        "情景%": (100 * table["share_after"]).round(1),
        "变化(百分点)": table["delta_pp"].round(1),
        gain_words(inputs.result)[0]: table[gained].round(2 if inputs.result.basis == "area"
                                                           else 0)})


def _pdf_page(inputs: ReportInputs, code: str | None, name: str, png: bytes) -> ReportPage:
    sections = [ReportSection("覆盖地图", image_png=png),
                ReportSection(f"各类设施覆盖与目标（距离：{distance_words(inputs.result)[0]}）",
                              table=_profile(inputs, code)),
                ReportSection(f"主要缺口（前 {GAPS_LISTED} 个未覆盖街区，按人口排序）",
                              table=_gap_list(inputs, code))]
    comparison = _comparison(inputs, code)
    if comparison is not None:
        sections.append(ReportSection(f"情景对比：{inputs.scenario}", table=comparison))
    return ReportPage(heading=f"{name} 15分钟生活圈设施覆盖", subheading=inputs.credits(),
                      sections=tuple(sections))


def _pdf(inputs: ReportInputs, page: ReportPage) -> bytes:
    font = cjk_font()
    return build_pdf([page], font_path=font.path, font_index=font.index,
                     bold_font_path=font.bold, title=page.heading, footer=inputs.credits(),
                     created=date.today().isoformat())


def _html(inputs: ReportInputs, focus: tuple[float, float, float, float] | None) -> str:
    worst = inputs.result.streets.groupby("category", sort=False)[
        "covered_population_share"].mean().idxmin()
    names = {c: inputs.label(c) for c in inputs.result.categories}
    view = MapView(category=worst, radius_m=inputs.targets[worst].radius_m,
                   category_names=names, mode="covered", shown=tuple(names), focus=focus,
                   demo=inputs.demo, distance=inputs.result.distance,
                   detour=inputs.result.detour_factor)
    return standalone_html(explorer_map(view, streets=inputs.result.boundaries,
                                        facilities=inputs.facilities,
                                        cells=category_cells(inputs.result, worst)))


def _write_one(inputs: ReportInputs, fmt: str, path: Path, code: str | None, name: str,
               dpi: int, maps: dict[str | None, bytes]) -> Path:
    """Write one format for a street (``code``) or the district (None); ``maps`` keeps each
    map PNG drawn so far, so PNG and PDF share it."""
    streets = inputs.result.boundaries
    inside = (street_facilities(streets, inputs.facilities, code) if code
              else facilities_frame(inputs.facilities).drop(columns="geometry"))
    if fmt in ("png", "pdf"):
        if code not in maps:
            maps[code] = missing_map_png(inputs, focus=code, title=f"{name} 设施覆盖缺口",
                                         dpi=dpi)
        png = maps[code]
        if fmt == "png":
            path.write_bytes(png)
        else:
            path.write_bytes(_pdf(inputs, _pdf_page(inputs, code, name, png)))
        return path
    if fmt == "html":
        focus = tuple(streets[streets["code"] == code].total_bounds) if code else None
        path.write_text(_html(inputs, focus), encoding="utf-8")
        return path
    if fmt == "csv":
        return write_csv(coverage_table(inputs.result, code=code), path)
    if fmt == "xlsx":
        sheets = {"coverage": coverage_table(inputs.result, code=code),
                  "gaps": gap_blocks(inputs.result, code=code).drop(columns="cell_ids"),
                  "facilities": inside}
        if inputs.baseline is not None:
            sheets["scenario"] = compare_streets(inputs.baseline, inputs.result)
        return write_xlsx(sheets, path)
    if fmt == "geojson":
        return write_geojson(cells_frame(inputs.result, code=code), path)
    return write_gpkg({"cells": cells_frame(inputs.result, code=code),
                       "gaps": gaps_frame(inputs.result, code=code),
                       "facilities": facilities_frame(inputs.facilities)}, path)


def report_files(codes: Sequence[str], formats: Sequence[str], out_dir: Path,
                 *, district: bool = True) -> list[tuple[str | None, str, Path]]:
    """(street code or None for the district, format, path) of every file a pack writes."""
    targets = [*codes, *([None] if district else [])]
    return [(code, fmt, out_dir / f"{'street-' + code if code else 'district'}.{fmt}")
            for code in targets for fmt in formats]


def write_reports(inputs: ReportInputs, *, codes: Sequence[str], formats: Sequence[str],
                  out_dir: Path, dpi: int = 150, progress: Progress | None = None) -> list[Path]:
    """Write one file per street and format, plus the district summary; return the paths.

    Raises
    ------
    layers.fonts.MissingFontError
        For PDF or PNG without a CJK font installed.
    """
    names = dict(zip(inputs.result.boundaries["code"], inputs.result.boundaries["name"],
                     strict=True))
    plan = report_files(codes, formats, out_dir)
    written, maps = [], {}
    for done, (code, fmt, path) in enumerate(plan, start=1):
        name = names[code] if code else "长宁区"
        written.append(_write_one(inputs, fmt, path, code, name, dpi, maps))
        if progress:
            progress(done, len(plan), path.name)
    return written
