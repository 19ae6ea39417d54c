"""AppTest of the overview (app.py): every widget changed, no exception, the elements there."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import ui.data
from geo.data.coords import wgs84_to_gcj02
from geo.data.io import read_demo, read_targets
from geo.model.errors import InputError
from tests.apptest import CATEGORIES, TIMEOUT, map_html
from tests.conftest import ROOT
from ui.markdown import as_text


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def test_overview_shows_kpis_seed_figures_map_and_street_table(app):
    assert "长宁区" in app.title[0].value
    assert any("Demo data" in w.value for w in app.warning)
    assert [m.label for m in app.metric] == ["充电桩", "菜市场", "体育场馆", "长者食堂",
                                             "公共停车场"]
    assert all(m.value.endswith("%") for m in app.metric)
    seed, streets = (d.value for d in app.dataframe)
    assert seed["seed"].tolist() == [932, 104, 4, 10, 6, 120, 1]
    assert seed["loaded"].tolist() == seed["seed"].tolist()  # the demo matches the review
    assert len(streets) == 10
    html = map_html(app)
    assert "https://cdn" not in html and "leaflet.markercluster" in html.lower()
    assert html.count("L.markerClusterGroup(") == 5
    assert any("低于目标的街道" in c.value for c in app.caption)


def test_every_widget_can_be_changed(app):
    for category in CATEGORIES:
        app.selectbox(key="category").set_value(category).run()
        assert not app.exception
        assert len(app.dataframe[1].value) == 10
    assert "公共停车场" in app.subheader[3].value
    app.slider(key="resolution").set_value(9).run()
    assert not app.exception
    cells_at_9 = app.dataframe[1].value["cells"].sum()
    app.slider(key="resolution").set_value(10).run()
    assert app.dataframe[1].value["cells"].sum() > 6 * cells_at_9  # 7 children per cell
    app.radio(key="mode").set_value("covered").run()
    assert not app.exception
    for basemap in ["none", "osm", "carto", "amap"]:
        app.selectbox(key="basemap").set_value(basemap).run()
        assert not app.exception
        assert not app.error
    app.radio(key="lang").set_value("en").run()
    assert not app.exception
    assert app.title[0].value == "Changning: 15-minute walk coverage of facilities"
    assert app.metric[0].label == "EV charging"


def test_tianditu_without_key_is_an_error_not_a_traceback(app, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    app.selectbox(key="basemap").set_value("tianditu").run()
    assert not app.exception
    assert any(as_text("TIANDITU_KEY") in e.value for e in app.error)
    monkeypatch.setenv("TIANDITU_KEY", "k-123")
    app.run()
    assert not app.error
    assert "tk=k-123" in map_html(app)


def test_amap_shifts_the_overlays_to_gcj02(app):
    charger = read_demo(read_targets())[1].set_index("id").loc["CHG-001"]
    plain = map_html(app)
    assert f"[{charger['lat']}, {charger['lon']}]" in plain
    app.selectbox(key="basemap").set_value("amap").run()
    shifted = map_html(app)
    assert "autonavi.com" in shifted and "autonavi.com" not in plain
    lon, lat = wgs84_to_gcj02(charger["lon"], charger["lat"])
    assert f"[{float(lat)}, {float(lon)}]" in shifted
    assert f"[{charger['lat']}, {charger['lon']}]" not in shifted
    assert any("GCJ-02" in c.value for c in app.sidebar.caption)


def test_bad_data_shows_one_error_and_no_traceback(monkeypatch):
    def broken() -> None:
        raise InputError("targets file data/targets.toml: not valid TOML (line 2)")

    monkeypatch.setattr(ui.data, "read_targets", broken)
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
        assert not at.exception
        assert [e.value for e in at.error] == [
            as_text("targets file data/targets.toml: not valid TOML (line 2)")]
        assert len(at.dataframe) == 0
    finally:
        st.cache_data.clear()
