from __future__ import annotations

import io

import matplotlib
import pytest
from matplotlib.text import Text
from PIL import Image

from geo.data.io import read_demo, read_targets
from geo.engine.coverage import compute_coverage
from geo.plan.tables import category_cells
from layers import fonts
from layers.snapshot import (
    Snapshot,
    _font_family,
    _map_figure,
    _scale_length,
    coverage_colours,
    map_png,
)
from tests.hostile import CORPUS

WORDS = Snapshot(title="长宁区 菜市场覆盖", legend_title="最近距离", credits="演示数据",
                 date="2026-11-23")


@pytest.fixture(scope="module")
def demo():
    targets = read_targets()
    streets, facilities = read_demo(targets)
    result = compute_coverage(streets, facilities, targets, resolution=9,
                              categories=["market"])
    return streets, facilities, category_cells(result, "market")


def _png(demo, **options) -> Image.Image:
    streets, facilities, cells = demo
    data = map_png(streets=streets, cells=cells, facilities=facilities,
                   colours=coverage_colours(cells, radius_m=500, mode="distance"),
                   legend=[("#0868ac", "0–250 m")], categories={"market": "菜市场"},
                   words=WORDS, **options)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("dpi, size", [(150, (1200, 900)), (300, (2400, 1800))])
def test_png_has_the_size_of_the_chosen_print_resolution(demo, dpi, size):
    image = _png(demo, dpi=dpi)
    assert image.size == size
    assert image.info.get("dpi") == pytest.approx((dpi, dpi), abs=0.5)


def test_a_street_focus_draws_a_different_extent(demo):
    whole = _png(demo, dpi=50).tobytes()
    street = _png(demo, dpi=50, focus="310105010000").tobytes()
    assert whole != street


def test_chinese_is_drawn_with_the_cjk_font():
    assert _font_family(fonts.cjk_font()).startswith("Noto Sans CJK")


def test_a_missing_cjk_font_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CHANGNING_CJK_FONT", "/nonexistent/font.ttf")
    fonts.cjk_font.cache_clear()
    try:
        with pytest.raises(fonts.MissingFontError, match=r"CHANGNING_CJK_FONT=/nonexistent"):
            fonts.cjk_font()
        monkeypatch.delenv("CHANGNING_CJK_FONT")
        monkeypatch.setattr(fonts, "CJK_FONT_CANDIDATES", (("/nonexistent.ttc", 0, None),))
        fonts.cjk_font.cache_clear()
        with pytest.raises(fonts.MissingFontError, match=r"install Debian's fonts-noto-cjk"):
            fonts.cjk_font()
    finally:
        fonts.cjk_font.cache_clear()


@pytest.mark.parametrize("width_m, step", [(5000, 1000), (12_000, 2500), (900, 200)])
def test_scale_bar_length_is_a_round_fifth_of_the_width(width_m, step):
    assert _scale_length(width_m) == step


def test_user_text_is_drawn_literally_never_as_mathtext(demo):
    streets, facilities, cells = demo
    names = [CORPUS[i] for i in (10, 11, 12, 1, 9, 13, 15, 16, 17, 18)]  # $…$, {{}}, long, …
    hostile = streets.assign(name=names[:len(streets)])
    words = Snapshot(title="$x^2$ 覆盖", legend_title="a $\\frac{$ b",
                     credits="情景：$\\undefined$", date="{nb} $")
    options = {"streets": hostile, "cells": cells, "facilities": facilities,
               "colours": coverage_colours(cells, radius_m=500, mode="distance"),
               "legend": [("#0868ac", "$"), ("#43a2ca", "\u202eevil")],
               "categories": {"market": "$x^2$"}, "words": words}
    with matplotlib.rc_context({"text.usetex": False}):
        figure = _map_figure(**options, focus=None, dpi=50, size_in=(8.0, 6.0))
    user = {*hostile["name"], "$x^2$ 覆盖", "a $\\frac{$ b", "情景：$\\undefined$", "{nb} $", "$",
            "\u202eevil", "$x^2$"}
    drawn = [text for text in figure.findobj(Text) if text.get_text() in user]
    assert {text.get_text() for text in drawn} == user
    assert not any(text.get_parse_math() for text in drawn)
    # unbalanced or unknown mathtext would raise here if it were parsed
    assert map_png(**options, dpi=50)[:8] == b"\x89PNG\r\n\x1a\n"
