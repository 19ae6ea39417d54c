"""A dataset that cannot be loaded never bricks the app: every page says why and offers the way
back right there (roll back, restore the demo), and taking it works."""

from __future__ import annotations

import sqlite3

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo.data.dataset import demo_dataset, with_facilities
from geo.data.dataset_store import DatasetStore
from geo.data.io import read_demo, read_targets
from geo.model import config
from tests.apptest import TIMEOUT
from tests.conftest import ROOT, who

PAGES = ["app.py", "pages/map_explorer.py", "pages/street.py", "pages/scenarios.py",
         "pages/targets_and_data.py", "pages/data.py"]


@pytest.fixture
def damaged():
    """Version 1 (the demo's markets only) is sound; version 2's facilities are damaged."""
    targets = read_targets()
    streets, facilities = read_demo(targets)
    store = DatasetStore(config.DATASET_DB)
    demo = demo_dataset(streets, facilities)
    markets = facilities[facilities["category"] == "market"]
    store.save(with_facilities(demo, markets, mode="replace_all", origin="markets.csv"),
               base_version=0, who=who("a"), summary={"action": "import", "detail": "markets.csv"})
    store.save(demo, base_version=1, who=who("b"), summary={"action": "import", "detail": "bad"})
    with sqlite3.connect(store.path) as conn:
        key = conn.execute("SELECT facilities FROM versions WHERE version = 2").fetchone()[0]
        conn.execute("UPDATE layers SET payload = x'0102' WHERE key = ?", (key,))
    st.cache_data.clear()
    yield store
    st.cache_data.clear()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_says_why_and_offers_the_way_back(damaged, page):
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "当前数据无法加载。可回退到以前的版本或恢复演示数据："]
    assert "dataset version 2" in at.code[0].value and "cannot be read" in at.code[0].value
    assert at.selectbox(key="recover_to").options == ["1", "0（演示数据）"]
    assert at.button(key="recover_demo")


def test_restoring_the_demo_from_any_page_brings_it_back(damaged):
    at = AppTest.from_file(str(ROOT / "pages/street.py"), default_timeout=TIMEOUT).run()
    at.button(key="recover_demo").click().run()
    assert not at.exception, at.exception
    assert not at.error
    assert damaged.current_version() == 3 and damaged.read(read_targets()).all_demo


def test_rolling_back_from_the_overview_brings_the_last_good_version(damaged):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.checkbox(key="recover_sure").check().run()
    at.button(key="recover_rollback").click().run()
    assert not at.exception, at.exception
    assert not at.error
    restored = damaged.read(read_targets())
    assert damaged.current_version() == 3
    assert set(restored.facilities["category"]) == {"market"}


def test_restoring_the_demo_over_an_unreadable_store_file_sets_it_aside(state_dir):
    """A store file that is no database at all: the page says so and how to go on, and the
    restore button moves the file aside and brings the demo back."""
    config.DATASET_DB.write_bytes(b"not a database " * 700)
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "pages/street.py"), default_timeout=TIMEOUT).run()
    assert any("file is not a database" in c.value and "sets the file aside" in c.value
               for c in at.code)
    at.button(key="recover_demo").click().run()
    assert not at.exception, at.exception
    assert not at.error
    [aside] = state_dir.glob("dataset.sqlite.damaged-*")
    assert aside.read_bytes() == b"not a database " * 700
    assert DatasetStore(config.DATASET_DB).current_version() == 1
