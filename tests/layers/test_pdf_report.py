"""The PDF report: A4 pages, CJK text readable by pdftotext, embedded font, tables and images."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader

from layers.pdf_report import (
    MAX_CELL_LINES,
    ReportPage,
    ReportSection,
    _cell_text,
    _column_texts,
    build_pdf,
)
from tests.hostile import CORPUS

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
FONT = NOTO_DIR / "NotoSansCJK-Regular.ttc"
BOLD_FONT = NOTO_DIR / "NotoSansCJK-Bold.ttc"
PDFTOTEXT = shutil.which("pdftotext")

pytestmark = [
    pytest.mark.skipif(not FONT.exists(), reason=f"{FONT} absent: install Debian's fonts-noto-cjk"),
    pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext absent: install poppler-utils"),
]

A4_PT = (595.28, 841.89)
CATEGORIES = ["充电桩", "菜市场", "体育设施", "社区食堂", "停车场"]
FOOTER = "数据来源：演示数据（非真实）· 底图 © OpenStreetMap 贡献者"
CREATED = "生成日期：2024-05-01"
IMAGE_PX = (640, 400)
LONG_HEADER = "街道名称"
LONG_ROWS = 60


def _png(size: tuple[int, int]) -> bytes:
    """A PNG image of ``size`` pixels with a diagonal stripe."""
    image = Image.new("RGB", size, (198, 219, 239))
    for offset in range(min(size)):
        image.putpixel((offset, offset), (200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _street_table() -> pd.DataFrame:
    return pd.DataFrame({
        "类别": CATEGORIES,
        "覆盖人口 %": [91.5, 78.2, None, 66.0, np.nan],
        "目标 %": [90, 80, 85, 60, 70],
        "达标": ["是", "否", None, "是", "–"],
    })


def _district_table() -> pd.DataFrame:
    return pd.DataFrame({
        LONG_HEADER: [f"第{index:02d}号街道" for index in range(LONG_ROWS)],
        "人口": np.arange(LONG_ROWS) * 1_000 + 12_345,
        "覆盖率 %": np.linspace(40.0, 99.0, LONG_ROWS).round(1),
    })


@pytest.fixture(scope="module")
def report() -> bytes:
    pages = [
        ReportPage(
            heading="华阳路街道 覆盖评估",
            subheading="15 分钟步行圈",
            sections=(
                ReportSection(title="各类设施覆盖", table=_street_table(),
                              image_png=_png(IMAGE_PX), note="覆盖人口按 H3 网格估算。" * 12),
            ),
        ),
        ReportPage(heading="全区汇总", sections=(ReportSection("各街道", _district_table()),)),
    ]
    bold = BOLD_FONT if BOLD_FONT.exists() else None
    return build_pdf(pages, font_path=FONT, bold_font_path=bold, title="长宁区 15 分钟覆盖报告",
                     footer=FOOTER, created=CREATED)


def _text(pdf: bytes, page: int | None = None) -> str:
    """pdftotext's text of the document or of one page (1-based)."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    result = subprocess.run([PDFTOTEXT, *pages, "-", "-"], input=pdf, capture_output=True,
                            check=True)
    return result.stdout.decode("utf-8")


def _compact(text: str) -> str:
    """``text`` without whitespace (pdftotext drops the spaces between CJK glyphs and digits)."""
    return "".join(text.split())


def test_is_a_pdf_of_a4_pages(report: bytes) -> None:
    assert report.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(report))
    assert len(reader.pages) >= 3
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert width == pytest.approx(A4_PT[0], abs=1)
        assert height == pytest.approx(A4_PT[1], abs=1)


def test_metadata_title(report: bytes) -> None:
    assert PdfReader(io.BytesIO(report)).metadata.title == "长宁区 15 分钟覆盖报告"


def test_text_is_readable(report: bytes) -> None:
    text = _text(report)
    for expected in ["华阳路街道", "全区汇总", "91.5", "78.2", "66.0", *CATEGORIES, "覆盖人口"]:
        assert expected in text
    compact = _compact(text)
    assert _compact(FOOTER) in compact
    assert _compact(CREATED) in compact
    assert "第1页" in compact


def test_every_page_has_footer_and_page_numbers(report: bytes) -> None:
    total = len(PdfReader(io.BytesIO(report)).pages)
    for number in range(1, total + 1):
        compact = _compact(_text(report, number))
        assert f"第{number}页/共{total}页" in compact
        assert _compact(FOOTER) in compact


def test_each_report_page_starts_a_new_page(report: bytes) -> None:
    assert "全区汇总" not in _text(report, 1)
    assert "全区汇总" in _text(report, 2)
    assert CREATED not in _text(report, 2)


def test_font_is_embedded_noto_cjk(report: bytes) -> None:
    fonts = PdfReader(io.BytesIO(report)).pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        assert "NotoSansCJK" in str(font["/BaseFont"])
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor


def test_long_table_flows_with_repeated_header(report: bytes) -> None:
    page3 = _text(report, 3)
    assert LONG_HEADER in page3
    assert f"第{LONG_ROWS - 1:02d}号街道" in page3
    assert "第00号街道" not in page3


def test_missing_cells_render_as_dash(report: bytes) -> None:
    lines = _text(report, 1).splitlines()
    assert sum(line.strip() == "–" for line in lines) >= 2
    assert "None" not in _text(report) and "nan" not in _text(report).lower()


@pytest.mark.parametrize(("value", "expected"), [
    (None, "–"), (np.nan, "–"), (pd.NA, "–"), (pd.NaT, "–"), (91.5, "91.50"), (1234.5, "1,234.50"),
    (12_345, "12,345"), (np.int64(7), "7"), (True, "是"), (np.False_, "否"), ("达标", "达标"),
])
def test_cell_text(value: object, expected: str) -> None:
    assert _cell_text(value) == expected


def test_fractions_of_a_column_share_their_decimals() -> None:
    assert _column_texts(pd.Series([91.5, 66.0, None])) == ["91.5", "66.0", "–"]
    assert _column_texts(pd.Series([90.0, np.nan, 1200.0])) == ["90", "–", "1,200"]
    assert _column_texts(pd.Series([0.125, 1.0])) == ["0.12", "1.00"]
    assert _column_texts(pd.Series(["是", None, 3])) == ["是", "–", "3"]


def test_image_on_first_page(report: bytes) -> None:
    page = PdfReader(io.BytesIO(report)).pages[0]
    xobjects = page["/Resources"]["/XObject"]
    images = [ref.get_object() for ref in xobjects.values()]
    assert any(image["/Subtype"] == "/Image" for image in images)
    assert any((image["/Width"], image["/Height"]) == IMAGE_PX for image in images)


def test_tall_image_moves_to_a_new_page_scaled_to_fit() -> None:
    page = ReportPage("图", sections=(ReportSection("很高的图", image_png=_png((200, 2000))),))
    pdf = build_pdf([page], font_path=FONT, title="t", footer="f", created="")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    assert "/XObject" not in reader.pages[0]["/Resources"]
    assert "/XObject" in reader.pages[1]["/Resources"]
    assert "很高的图" in _text(pdf, 2)


@pytest.fixture(scope="module")
def hostile_report() -> bytes:
    """Every hostile name in a table, as headings, a note and in the footer."""
    names = pd.DataFrame({"名称": list(CORPUS), "容量": range(len(CORPUS))})
    pages = [ReportPage(heading=f"{name} 覆盖", subheading=name, sections=(
        ReportSection(title=name, note=name),)) for name in CORPUS[:4]]
    pages.append(ReportPage(heading="设施", sections=(ReportSection("名单", table=names),)))
    return build_pdf(pages, font_path=FONT, title=CORPUS[2], footer="情景：{nb} **b** " * 40,
                     created="")


@pytest.mark.filterwarnings("ignore")
def test_hostile_text_prints_literally_and_never_raises(hostile_report: bytes) -> None:
    compact = _compact(_text(hostile_report))
    for literal in ["${alert(1)}", "</script><script>alert(2)</script>", "=1+1", "+SUM(A1)",
                    "-2+3", "@cmd", "$x^2$", "a$\\frac{$b", "{{7*7}}", "{nb}**bold**__u__",
                    "#N/A", "菜场"]:
        assert literal in compact
    assert "情景：{nb}**b**" in compact  # the footer's alias is not the user's


def test_page_numbers_still_count_the_pages(hostile_report: bytes) -> None:
    total = len(PdfReader(io.BytesIO(hostile_report)).pages)
    for number in range(1, total + 1):
        assert f"第{number}页/共{total}页" in _compact(_text(hostile_report, number))


def test_a_very_long_name_is_cut_to_a_few_lines(hostile_report: bytes) -> None:
    compact = _compact(_text(hostile_report))
    assert "长宁" * 20 in compact and "长宁" * 1000 not in compact
    lines = [line for line in _text(hostile_report).splitlines() if "长宁长宁" in line]
    assert 1 < len(lines) <= MAX_CELL_LINES
    assert lines[-1].rstrip().endswith("…")
    footer = [line for line in _text(hostile_report, 1).splitlines() if "情景" in line]
    assert len(footer) <= 2 and footer[-1].rstrip().endswith("…")
