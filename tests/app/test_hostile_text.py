"""AppTests with Markdown in the data: a category label and radius source from the targets file
and a street name from imported boundaries are shown as text (their escaped Markdown is the
body of the element) on the overview, the map explorer and the street page."""

from __future__ import annotations

from dataclasses import replace

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import ui.data
from geo.data.dataset import with_boundaries
from geo.data.dataset_store import DatasetStore
from geo.data.io import read_targets
from tests.apptest import TIMEOUT
from tests.conftest import ROOT, who
from ui.markdown import as_text

LABEL = "![x](http://127.0.0.2:9/x.png) :red[菜场] **b**"
SOURCE = "[source](http://x) $x^2$ :material/home:"
STREET = "<img src=x onerror=alert(1)> # 街道 `code` _u_"
CODE = "310105001000"


@pytest.fixture
def hostile(monkeypatch):
    """Targets whose market label and radius source are Markdown; a stored dataset whose street
    CODE is named with Markdown and HTML."""
    targets = read_targets()
    market = replace(targets["market"], label_zh=LABEL, label_en=LABEL, radius_source=SOURCE)
    targets = replace(targets, categories={**targets.categories, "market": market})
    monkeypatch.setattr(ui.data, "read_targets", lambda: targets)
    store = DatasetStore()
    dataset = store.read(targets)
    streets = dataset.streets.copy()
    streets.loc[streets["code"] == CODE, "name"] = STREET
    store.save(with_boundaries(dataset, streets, origin="test"), base_version=0,
               who=who("test"), summary={})
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def _run(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT).run()
    at.selectbox(key="category").set_value("market").run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error
    return at


def _no_raw_markdown(at: AppTest) -> None:
    """No element anywhere carries the unescaped text."""
    bodies = [e.value for kind in ("markdown", "caption", "subheader", "warning", "error")
              for e in getattr(at, kind)] + [e.value for e in at.sidebar.caption]
    assert not [b for b in bodies if LABEL in b or SOURCE in b or STREET in b]


def test_overview_shows_the_label_as_text(hostile):
    at = _run("app.py")
    assert at.metric[1].label == as_text(LABEL)
    assert at.subheader[2].value == f"覆盖地图：{as_text(LABEL)}"
    assert at.subheader[3].value == f"各街道覆盖：{as_text(LABEL)}"
    # the demo's residential areas went with the demo streets; its walking network stays
    parts = as_text(f"步行路网、充电桩、{LABEL}、体育场馆、长者食堂、公共停车场")
    assert at.warning[0].value == f"以下部分仍为演示数据（示意，非官方）：{parts}。"
    assert at.sidebar.caption[-1].value == f"服务半径 500 米。{as_text(SOURCE)}"
    _no_raw_markdown(at)


def test_map_explorer_shows_the_label_as_text(hostile):
    at = _run("pages/map_explorer.py")
    assert at.subheader[0].value == f"未达标街道：{as_text(LABEL)}"
    _no_raw_markdown(at)


def test_street_page_shows_the_street_name_as_text(hostile):
    at = _run("pages/street.py")
    at.selectbox(key="street").set_value(CODE).run()
    assert not at.exception and not at.error
    assert at.subheader[0].value == as_text(STREET)
    assert at.subheader[2].value == f"未覆盖街区：{as_text(LABEL)}（按人口排序）"
    _no_raw_markdown(at)
