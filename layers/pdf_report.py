"""An A4 portrait PDF report in Chinese, drawn with fpdf2 from already-computed inputs.

Nothing is computed here: each :class:`ReportPage` carries display-ready tables, map snapshots
(PNG bytes) and paragraphs, and :func:`build_pdf` lays them out. All text goes through one CJK
font face (e.g. face 2 "Noto Sans CJK SC" of Debian's ``NotoSansCJK-Regular.ttc``); the font
file is a parameter so this module does not depend on how it is found.

Output encoding: every text is printed literally. No call uses fpdf2's ``markdown=True`` (so
``**``, ``__`` and ``--`` in a name stay characters) and fpdf2's page-count alias is on only
while the footer's page number is drawn, so a name containing ``{nb}`` prints as it is.
Characters the font lacks (emoji, zero-width and direction marks) are left out with fpdf2's
warning, never an error. A table cell prints at most :data:`MAX_CELL_LINES` lines and the
footer :data:`FOOTER_LINES` (longer text ends in "…"), so no table row is taller than a page.
"""

from __future__ import annotations

import io
import math
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from fpdf import FPDF, FontFace
from fpdf.enums import Align, MethodReturnValue, WrapMode
from PIL import Image

__all__ = ["ReportPage", "ReportSection", "build_pdf"]

FAMILY = "cjk"
MISSING = "–"
MARGIN_MM = 15.0
FOOTER_MM = 16.0
TABLE_PT = 8.5
#: Fractional numbers get as few places as they need, up to this many.
MAX_DECIMALS = 2
#: A section title is moved to the next page when less than this is left below it (mm).
MIN_SECTION_ROOM_MM = 30.0
CELL_PAD_MM = 1.2
#: Column widths are capped (longer text wraps); short tables still span this share of the page.
MAX_COLUMN_MM = 60.0
MIN_TABLE_SHARE = 0.6
HEADER_FILL = (225, 231, 240)
FOOTER_GREY = 110
FOOTER_PT = 7.5
#: Longest text in a table cell and in the footer, in lines; the rest is cut with "…".
MAX_CELL_LINES = 12
FOOTER_LINES = 2
ELLIPSIS = "…"
#: fpdf2's alias for the page count, replaced when the document is written.
PAGE_COUNT_ALIAS = "{nb}"
_NUMERIC_TEXT = re.compile(r"^[+\-−]?[\d,]*\.?\d+\s*%?$")


@dataclass(frozen=True)
class ReportSection:
    """One block of a page: a title, then optionally a table, a map snapshot and a note.

    Parameters
    ----------
    title : str
        Section title.
    table : pandas.DataFrame or None
        Display-ready table: the column labels are printed as headers, values as they are
        (numbers formatted compactly, None/NaN as "–").
    image_png : bytes or None
        A PNG image (e.g. a map snapshot), scaled to the printable width.
    note : str
        A paragraph printed below.
    """

    title: str
    table: pd.DataFrame | None = None
    image_png: bytes | None = None
    note: str = ""


@dataclass(frozen=True)
class ReportPage:
    """A part of the report that starts on a new page: a heading and its sections."""

    heading: str
    subheading: str = ""
    sections: tuple[ReportSection, ...] = ()


class _ReportPDF(FPDF):
    """FPDF with the report's footer: the footer text and "第 N 页 / 共 M 页".

    The page-count alias is set only for the page number: :meth:`header` turns it off at the
    start of each page, :meth:`footer` turns it on for the number and leaves it on, so that
    writing the document (which draws the last footer first) replaces it.
    """

    footer_text = ""

    def header(self) -> None:
        """Turn the page-count alias off: the page's text is printed as it is."""
        self.alias_nb_pages(None)

    def footer(self) -> None:
        """Draw a rule, the footer text (left, at most :data:`FOOTER_LINES` lines) and the
        page number (right)."""
        self.alias_nb_pages(None)
        self.set_y(-FOOTER_MM + 3)
        self.set_draw_color(180)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_font(FAMILY, "", FOOTER_PT)
        self.set_text_color(FOOTER_GREY)
        y = self.get_y() + 1
        self.set_xy(self.l_margin, y)
        width = self.epw - 32
        self.multi_cell(width, 3.6, _clipped(self, self.footer_text, width=width,
                                             max_lines=FOOTER_LINES), wrapmode=WrapMode.CHAR)
        self.set_xy(self.w - self.r_margin - 30, y)
        self.alias_nb_pages(PAGE_COUNT_ALIAS)
        self.cell(30, 3.6, f"第 {self.page_no()} 页 / 共 {PAGE_COUNT_ALIAS} 页", align=Align.R)
        self.set_text_color(0)


def build_pdf(pages: Sequence[ReportPage], *, font_path: Path, font_index: int = 2,
              bold_font_path: Path | None = None, title: str, footer: str,
              created: str) -> bytes:
    """Lay out ``pages`` as an A4 portrait PDF and return its bytes.

    Parameters
    ----------
    pages : sequence of ReportPage
        Each starts on a new page.
    font_path : Path
        A TTF/OTF/TTC file with CJK glyphs.
    font_index : int
        The face within a TTC collection (2 is "Noto Sans CJK SC" in Noto's TTC files).
    bold_font_path : Path or None
        The bold face (same ``font_index``); without it, bold text uses the regular face.
    title : str
        Document title (metadata).
    footer : str
        Text of every page's footer, e.g. the data source or an OSM credit.
    created : str
        Creation date text, printed under the first heading.

    Returns
    -------
    bytes
        The PDF document.
    """
    pdf = _new_pdf(font_path, font_index, bold_font_path, title=title, footer=footer)
    for number, page in enumerate(pages):
        pdf.add_page()
        _draw_heading(pdf, page, created=created if number == 0 else "")
        for section in page.sections:
            _draw_section(pdf, section)
    if not pages:
        pdf.add_page()
    return bytes(pdf.output())


def _new_pdf(font_path: Path, font_index: int, bold_font_path: Path | None, *, title: str,
             footer: str) -> _ReportPDF:
    """An empty A4 document with the CJK font registered (regular and bold) and metadata."""
    pdf = _ReportPDF(orientation="portrait", unit="mm", format="A4")
    pdf.footer_text = footer
    pdf.set_title(title)
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=FOOTER_MM + 2)
    pdf.add_font(FAMILY, "", Path(font_path), collection_font_number=font_index)
    pdf.add_font(FAMILY, "B", Path(bold_font_path or font_path), collection_font_number=font_index)
    pdf.set_lang("zh-CN")
    return pdf


def _clipped(pdf: FPDF, text: str, *, width: float, max_lines: int) -> str:
    """``text`` as it wraps in ``width`` mm with the current font, cut after ``max_lines``
    lines with "…"."""
    if "\n" not in text and "\r" not in text and pdf.get_string_width(text) <= width:
        return text
    lines = pdf.multi_cell(width, 1, text, wrapmode=WrapMode.CHAR, dry_run=True,
                           output=MethodReturnValue.LINES)
    if len(lines) <= max_lines:
        return text
    last = lines[max_lines - 1]
    while last and pdf.get_string_width(last + ELLIPSIS) > width - 2 * pdf.c_margin:
        last = last[:-1]
    return "\n".join([*lines[:max_lines - 1], last + ELLIPSIS])


def _draw_heading(pdf: FPDF, page: ReportPage, *, created: str) -> None:
    """The page heading, its subheading and (first page only) the creation text."""
    pdf.set_font(FAMILY, "B", 16)
    pdf.multi_cell(0, 8, page.heading, wrapmode=WrapMode.CHAR, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 10)
    pdf.set_text_color(80)
    for line in (page.subheading, created):
        if line:
            pdf.multi_cell(0, 5, line, wrapmode=WrapMode.CHAR, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.ln(3)


def _draw_section(pdf: FPDF, section: ReportSection) -> None:
    """A section title, then its image, table and note, in that order."""
    image_h = _image_height(pdf, section.image_png) if section.image_png else 0.0
    if _room_left(pdf) < max(MIN_SECTION_ROOM_MM, image_h + 8):
        pdf.add_page()
    pdf.set_font(FAMILY, "B", 12)
    pdf.multi_cell(0, 6, section.title, wrapmode=WrapMode.CHAR, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    if section.image_png:
        _draw_image(pdf, section.image_png, image_h)
    if section.table is not None and len(section.table.columns):
        _draw_table(pdf, section.table)
    if section.note:
        pdf.set_font(FAMILY, "", 9.5)
        pdf.multi_cell(0, 5, section.note, wrapmode=WrapMode.CHAR, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _room_left(pdf: FPDF) -> float:
    """Millimetres left on the current page above the automatic page break."""
    return pdf.page_break_trigger - pdf.get_y()


def _image_height(pdf: FPDF, png: bytes) -> float:
    """Printed height of an image at the printable width, capped to fit an empty page."""
    width_px, height_px = Image.open(io.BytesIO(png)).size
    page_room = pdf.page_break_trigger - pdf.t_margin - 8
    return min(pdf.epw * height_px / width_px, page_room)


def _draw_image(pdf: FPDF, png: bytes, height: float) -> None:
    """The image, ``height`` mm tall, centred, aspect ratio kept."""
    if _room_left(pdf) < height:
        pdf.add_page()
    pdf.image(io.BytesIO(png), x=Align.C, h=height, keep_aspect_ratio=True)
    pdf.ln(3)


def _draw_table(pdf: FPDF, table: pd.DataFrame) -> None:
    """The table with a bold shaded header (repeated on each page) and numbers right-aligned."""
    labels = [str(label) for label in table.columns]
    columns = [_column_texts(table.iloc[:, index]) for index in range(len(labels))]
    cells = [list(row) for row in zip(*columns, strict=True)]
    right = [_is_numeric_column(table.iloc[:, index]) for index in range(len(labels))]
    widths = _column_widths(pdf, labels, cells)
    width = min(pdf.epw, max(sum(widths), pdf.epw * MIN_TABLE_SHARE))
    room = [w * width / sum(widths) - 2 * CELL_PAD_MM for w in widths]
    cells = [[_clipped(pdf, text, width=w, max_lines=MAX_CELL_LINES)
              for text, w in zip(row, room, strict=True)] for row in cells]
    with pdf.table(col_widths=widths, width=width, align=Align.L, line_height=4.6,
                   headings_style=FontFace(emphasis="BOLD", fill_color=HEADER_FILL),
                   text_align=Align.L, wrapmode=WrapMode.CHAR, padding=(0.8, CELL_PAD_MM),
                   repeat_headings=1) as grid:
        header = grid.row()
        for label in labels:
            header.cell(label, align=Align.C)
        for values in cells:
            row = grid.row()
            for text, is_right in zip(values, right, strict=True):
                row.cell(text, align=Align.R if is_right else Align.L)
    pdf.ln(3)


def _column_widths(pdf: FPDF, labels: list[str], cells: list[list[str]]) -> list[float]:
    """Column widths (mm) from the widest text of each column, the header measured in bold."""
    pdf.set_font(FAMILY, "B", TABLE_PT)
    widths = [pdf.get_string_width(label) for label in labels]
    pdf.set_font(FAMILY, "", TABLE_PT)
    for row in cells:
        widths = [max(pair) for pair in zip(widths, map(pdf.get_string_width, row), strict=True)]
    return [min(width + 2 * CELL_PAD_MM + 1, MAX_COLUMN_MM) for width in widths]


def _is_missing(value: object) -> bool:
    """Whether ``value`` is None, NaN, NA or NaT."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _column_texts(column: pd.Series) -> list[str]:
    """Printed texts of a column, its fractional numbers all with the same decimals."""
    fractions = [value for value in column if isinstance(value, float | np.floating)
                 and math.isfinite(value)]
    decimals = next(places for places in range(MAX_DECIMALS + 1)
                    if all(round(value, places) == round(value, MAX_DECIMALS)
                           for value in fractions))
    return [_cell_text(value, decimals=decimals) for value in column]


def _cell_text(value: object, *, decimals: int = MAX_DECIMALS) -> str:
    """Printed text of a table value: "–" for missing, numbers with thousands separators and
    ``decimals`` places, booleans 是/否, anything else as it is."""
    if _is_missing(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "是" if value else "否"
    if isinstance(value, numbers.Integral):
        return f"{value:,}"
    if isinstance(value, numbers.Real):
        return f"{value:,.{decimals}f}"
    return str(value)


def _is_numeric_column(column: pd.Series) -> bool:
    """Whether every present value is a number or reads as one (e.g. "91.5", "1,200", "12%")."""
    present = [value for value in column if not _is_missing(value)]
    return bool(present) and all(
        (isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_))
        or (isinstance(value, str) and _NUMERIC_TEXT.match(value.strip()) is not None)
        for value in present)
