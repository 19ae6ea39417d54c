"""Static map snapshots (PNG) for reports: boundaries, coverage cells, gaps and facilities, with
a title, legend, scale bar, north arrow, date and credits. Drawn with matplotlib in UTM 51N so
the scale bar is true; no network (no tiles).

Output encoding: every text (street names, category names, legend labels, title, credits with a
scenario name) is drawn literally — mathtext is off for each text (``parse_math=False``, so
``$x^2$`` stays dollars and an unbalanced ``$`` cannot raise) and so is TeX
(``text.usetex``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

import geopandas as gpd
import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from geo.model.config import METRIC_CRS
from layers.fonts import CjkFont, cjk_font
from layers.style import COVERED_COLOUR, GAP_COLOUR, category_colour, distance_colour

matplotlib.use("Agg")

__all__ = ["SCALE_STEPS_M", "Snapshot", "coverage_colours", "map_png"]

#: Scale-bar lengths to choose from, metres.
SCALE_STEPS_M = (100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000)
#: Options of every text drawn: literally, never as mathtext.
LITERAL = {"parse_math": False}


@dataclass(frozen=True)
class Snapshot:
    """The words around the map, in the report's language."""

    title: str
    legend_title: str
    credits: str
    date: str
    gap: str = "缺口"
    planned: str = "规划"
    north: str = "北"


@cache
def _font_family(font: CjkFont) -> str:
    """Register the CJK font with matplotlib and return the family to draw with."""
    font_manager.fontManager.addfont(str(font.path))
    names = [f.name for f in font_manager.fontManager.ttflist if f.fname == str(font.path)]
    return next((n for n in names if n.endswith(" SC")), names[0] if names else "sans-serif")


def _scale_length(width_m: float) -> int:
    """The scale-bar step closest to a fifth of the map's width, metres."""
    return min(SCALE_STEPS_M, key=lambda step: abs(step - width_m / 5))


def _draw_scale_and_north(ax, bounds: tuple[float, float, float, float], words: Snapshot) -> None:
    minx, miny, maxx, maxy = bounds
    width, height = maxx - minx, maxy - miny
    length = _scale_length(width)
    x0, y0 = minx + 0.04 * width, miny + 0.05 * height
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=3, solid_capstyle="butt")
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(x0 + length / 2, y0 + 0.015 * height, label, ha="center", va="bottom", fontsize=8,
            **LITERAL)
    ax.annotate(words.north, xy=(maxx - 0.05 * width, maxy - 0.05 * height),
                xytext=(maxx - 0.05 * width, maxy - 0.15 * height), ha="center", va="center",
                fontsize=10, fontweight="bold", **LITERAL,
                arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.5})


def _legend(ax, entries: list[tuple[str, str]], categories: dict[str, str],
            words: Snapshot) -> None:
    handles = [Patch(facecolor=colour, alpha=0.6, label=label) for colour, label in entries]
    handles.append(Patch(facecolor="none", edgecolor=GAP_COLOUR, label=words.gap))
    for category, name in categories.items():
        handles.append(Line2D([], [], marker="o", linestyle="", color=category_colour(category),
                              label=name))
    handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="none",
                          color="#555555", label=words.planned))
    legend = ax.legend(handles=handles, title=words.legend_title, loc="lower right", fontsize=7,
                       title_fontsize=8, framealpha=0.9)
    for text in (legend.get_title(), *legend.get_texts()):
        text.set_parse_math(False)


def coverage_colours(cells: gpd.GeoDataFrame, *, radius_m: float, mode: str) -> list[str]:
    """Fill colours of one category's cells: by distance (metres, against ``radius_m``) or
    covered/gap."""
    return [distance_colour(d, radius_m) if mode == "distance"
            else (COVERED_COLOUR if c else GAP_COLOUR)
            for d, c in zip(cells["distance_m"], cells["covered"], strict=True)]


def map_png(*, streets: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
            facilities: gpd.GeoDataFrame, colours: list[str],
            legend: list[tuple[str, str]], categories: dict[str, str], words: Snapshot,
            focus: str | None = None, dpi: int = 150,
            size_in: tuple[float, float] = (8.0, 6.0)) -> bytes:
    """A PNG map: ``size_in`` inches at ``dpi`` dots per inch. Every text is drawn literally.

    Parameters
    ----------
    streets, cells, facilities
        EPSG:4326 frames: boundaries, cells (``covered`` False ones are outlined as gaps) and
        facilities (those of ``categories`` that are not closed; planned ones hollow).
    colours, legend
        The fill colour of each cell, and the (colour, label) legend entries that explain them.
    categories
        Facility category → display name, for the markers and their legend.
    focus
        A street code to zoom to; None for the whole district.

    Raises
    ------
    layers.fonts.MissingFontError
        When no CJK font is installed.
    """
    family = _font_family(cjk_font())
    with matplotlib.rc_context({"font.family": family, "axes.unicode_minus": False,
                                "text.usetex": False}):
        figure = _map_figure(streets=streets, cells=cells, facilities=facilities,
                             colours=colours, legend=legend, categories=categories, words=words,
                             focus=focus, dpi=dpi, size_in=size_in)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _map_figure(*, streets: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
                facilities: gpd.GeoDataFrame, colours: list[str],
                legend: list[tuple[str, str]], categories: dict[str, str], words: Snapshot,
                focus: str | None, dpi: int, size_in: tuple[float, float]) -> Figure:
    """The figure of :func:`map_png` (same arguments), every text literal (no mathtext)."""
    metric_streets = streets.to_crs(METRIC_CRS)
    area = metric_streets if focus is None else metric_streets[metric_streets["code"] == focus]
    minx, miny, maxx, maxy = area.total_bounds
    pad = 0.06 * max(maxx - minx, maxy - miny)
    bounds = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    figure = Figure(figsize=size_in, dpi=dpi)
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0.01, 0.07, 0.98, 0.85))
    metric_cells = cells.to_crs(METRIC_CRS)
    metric_cells.plot(ax=ax, color=colours, alpha=0.55, linewidth=0)
    metric_cells[~metric_cells["covered"].astype(bool)].boundary.plot(
        ax=ax, color=GAP_COLOUR, linewidth=0.4)
    metric_streets.boundary.plot(ax=ax, color="#333333", linewidth=1.2)
    for point, name in zip(metric_streets.geometry.representative_point(),
                           metric_streets["name"], strict=True):
        ax.text(point.x, point.y, name, ha="center", va="center", fontsize=7, clip_on=True,
                **LITERAL)
    _draw_facilities(ax, facilities, categories)
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    _draw_scale_and_north(ax, bounds, words)
    _legend(ax, legend, categories, words)
    figure.text(0.5, 0.955, words.title, ha="center", va="center", fontsize=13,
                fontweight="bold", **LITERAL)
    figure.text(0.01, 0.025, words.credits, ha="left", va="center", fontsize=7, **LITERAL)
    figure.text(0.99, 0.025, words.date, ha="right", va="center", fontsize=7, **LITERAL)
    return figure


def _draw_facilities(ax, facilities: gpd.GeoDataFrame, categories: dict[str, str]) -> None:
    shown = facilities[facilities["category"].isin(list(categories))
                       & (facilities["status"] != "closed")].to_crs(METRIC_CRS)
    for category in categories:
        colour = category_colour(category)
        for planned, face in ((False, colour), (True, "none")):
            rows = shown[(shown["category"] == category) & ((shown["status"] == "planned")
                                                            == planned)]
            if len(rows):
                ax.scatter(rows.geometry.x, rows.geometry.y, s=12, facecolors=face,
                           edgecolors=colour, linewidths=0.8, zorder=3)
