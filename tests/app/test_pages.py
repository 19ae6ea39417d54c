"""AppTests of the pages under pages/: every widget changed, no exception, elements there."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo.data.io import read_demo, read_targets
from tests.apptest import CATEGORIES, TIMEOUT, map_html
from tests.conftest import ROOT


def run_page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert not at.error
    return at


def test_targets_and_data_page_lists_targets_streets_and_facilities():
    at = run_page("targets_and_data.py")
    targets, streets, facilities = (d.value for d in at.dataframe)
    assert len(targets) == 5
    assert targets["radius_m"].tolist() == [1000, 500, 1000, 500, 500]
    assert targets["radius_source"].str.len().gt(0).all()
    assert len(streets) == 10
    assert streets["area_km2"].sum() == pytest.approx(37.5, abs=0.05)
    parking = facilities[facilities["category"] == "公共停车场"]
    assert parking["facilities"].sum() == 120


def test_map_explorer_draws_every_layer_and_takes_every_widget():
    at = run_page("map_explorer.py")
    html = map_html(at)
    assert html.count('"className": "street-boundary"') == 1
    assert html.count("L.markerClusterGroup(") == 5
    assert html.count("L.circleMarker(") == len(read_demo(read_targets())[1])
    assert '"className": "coverage-cell"' in html and '"className": "gap-cell"' in html
    assert "map-legend" in html
    for category in CATEGORIES:
        at.selectbox(key="category").set_value(category).run()
        assert not at.exception
    at.slider(key="resolution").set_value(8).run()
    at.radio(key="mode").set_value("covered").run()
    at.selectbox(key="basemap").set_value("carto").run()
    assert not at.exception and not at.error
    assert "basemaps.cartocdn.com" in map_html(at)
    below = at.dataframe[0].value if at.dataframe else None
    assert below is None or set(below.columns) >= {"code", "street", "covered_residents_pct"}


def test_street_page_zooms_to_the_street_and_ranks_its_gaps():
    at = run_page("street.py")
    streets = read_demo(read_targets())[0]
    for code in streets["code"]:
        at.selectbox(key="street").set_value(code).run()
        assert not at.exception and not at.error
        bounds = streets.loc[streets["code"] == code].total_bounds
        html = map_html(at)
        assert f"[[{bounds[1]}, {bounds[0]}], [{bounds[3]}, {bounds[2]}]]" in html
        profile = at.dataframe[0].value
        assert profile["category"].tolist() == ["充电桩", "菜市场", "体育场馆", "长者食堂",
                                                "公共停车场"]
        facilities = at.dataframe[-1].value
        assert set(facilities["address"].str.slice(0, 3)) <= {"长宁区"}
    at.selectbox(key="category").set_value("market").run()
    blocks = at.dataframe[1].value
    assert blocks["block"].tolist() == list(range(1, len(blocks) + 1))
    assert blocks["residents"].is_monotonic_decreasing
    assert (blocks["nearest_distance_m"] > 500).all()
    at.slider(key="resolution").set_value(11).run()
    at.radio(key="mode").set_value("covered").run()
    at.selectbox(key="basemap").set_value("osm").run()
    assert not at.exception and not at.error
