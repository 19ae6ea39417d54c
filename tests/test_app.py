"""Smoke test of the overview page with Streamlit's AppTest: every widget changed, no exception."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

TIMEOUT = 120


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def test_overview_shows_demo_notice_tables_and_map(app):
    assert "长宁区" in app.title[0].value
    assert any("Demo data" in w.value for w in app.warning)
    assert len(app.dataframe) == 2
    district, streets = (d.value for d in app.dataframe)
    assert len(district) == 5
    assert len(streets) == 10
    assert any("Streets below target" in c.value for c in app.caption)


def test_every_widget_can_be_changed(app):
    for category in ["charger", "market", "sports", "canteen", "parking"]:
        app.selectbox(key="category").set_value(category).run()
        assert not app.exception
        assert app.selectbox(key="category").value == category
        assert len(app.dataframe[1].value) == 10
    assert "公共停车场" in app.subheader[1].value
    app.slider(key="resolution").set_value(9).run()
    assert not app.exception
    cells_at_9 = app.dataframe[1].value["网格 Cells"].sum()
    app.slider(key="resolution").set_value(10).run()
    assert app.dataframe[1].value["网格 Cells"].sum() > 6 * cells_at_9  # 7 children per cell
    app.radio(key="mode").set_value("covered").run()
    assert not app.exception
    app.selectbox(key="basemap").set_value("无底图 None (offline)").run()
    assert not app.exception


def test_bad_data_shows_one_error_and_no_traceback(monkeypatch):
    import streamlit as st

    import ui.data
    from geo._errors import InputError

    def broken() -> None:
        raise InputError("targets file data/targets.toml: not valid TOML (line 2)")

    monkeypatch.setattr(ui.data, "read_targets", broken)
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
        assert not at.exception
        assert [e.value for e in at.error] == [
            "targets file data/targets.toml: not valid TOML (line 2)"]
        assert len(at.dataframe) == 0
    finally:
        st.cache_data.clear()
