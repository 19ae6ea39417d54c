"""AppTests of the export panel on the Street, Map Explorer and Scenario pages."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

import ui.scenarios
from tests.apptest import TIMEOUT
from tests.conftest import ROOT
from ui.markdown import as_text


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def _downloads(at: AppTest, key: str) -> dict[str, bytes]:
    """The files the panel made (name → bytes), each offered by a download button."""
    files = at.session_state[f"{key}_files"]
    labels = {b.proto.label for b in at.get("download_button")}
    assert {f"⬇ {as_text(name)}" for name in files} <= labels
    return files


def test_street_page_exports_the_current_map_at_the_chosen_dpi():
    at = _page("street.py")
    at.selectbox(key="street").set_value("310105010000").run()
    at.selectbox(key="category").set_value("market").run()
    at.selectbox(key="street_export_dpi").set_value(300).run()
    at.button(key="street_export_png").click().run()
    assert not at.exception and not at.error
    files = _downloads(at, "street_export")
    assert list(files) == ["map-310105010000-market.png"]
    image = Image.open(io.BytesIO(files["map-310105010000-market.png"]))
    assert image.size == (2400, 1800)


def test_street_page_makes_the_chosen_formats():
    at = _page("street.py")
    at.slider(key="resolution").set_value(8).run()
    at.multiselect(key="street_export_formats").set_value(["csv", "geojson"]).run()
    at.button(key="street_export_make").click().run()
    assert not at.exception and not at.error
    files = _downloads(at, "street_export")
    assert list(files) == ["street-310105001000.csv", "street-310105001000.geojson",
                           "district.csv", "district.geojson"]
    assert files["street-310105001000.csv"].decode("utf-8-sig").count("华阳路街道") == 5


def test_map_explorer_packs_every_street_in_one_zip():
    at = _page("map_explorer.py")
    at.slider(key="resolution").set_value(8).run()
    at.multiselect(key="explorer_export_formats").set_value(["csv"]).run()
    at.button(key="explorer_export_all").click().run()
    assert not at.exception and not at.error
    files = _downloads(at, "explorer_export")
    with zipfile.ZipFile(io.BytesIO(files["changning-report.zip"])) as archive:
        names = archive.namelist()
    assert len(names) == 11 and "district.csv" in names
    assert all(n.startswith("street-310105") for n in names if n != "district.csv")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_the_scenario_pdf_holds_the_before_after_comparison(tmp_path, monkeypatch):
    monkeypatch.setattr(ui.scenarios, "SCENARIO_DB", tmp_path / "scenarios.sqlite")
    st.cache_resource.clear()
    at = _page("scenarios.py")
    at.slider(key="resolution").set_value(9).run()
    at.selectbox(key="category").set_value("market").run()
    at.number_input(key="edit_lon").set_value(121.37).run()
    at.number_input(key="edit_lat").set_value(31.20).run()
    at.button(key="do_add").click().run()
    at.multiselect(key="scenario_export_formats").set_value(["pdf"]).run()
    at.button(key="scenario_export_make").click().run()
    assert not at.exception and not at.error
    st.cache_resource.clear()
    files = _downloads(at, "scenario_export")
    assert list(files) == ["district.pdf"]
    pdf = tmp_path / "district.pdf"
    pdf.write_bytes(files["district.pdf"])
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "情景对比" in text and "程家桥街道" in text


def test_map_explorer_exports_each_facilitys_walking_reach_as_geojson():
    import json

    at = _page("map_explorer.py")
    at.selectbox(key="category").set_value("market").run()
    at.button(key="explorer_export_reach").click().run()
    assert not at.exception and not at.error
    files = _downloads(at, "explorer_export")
    data = json.loads(files["reach-market.geojson"])
    scopes = [f["properties"]["scope"] for f in data["features"]]
    assert scopes[0] == "category" and set(scopes[1:]) == {"facility"}
    assert {f["properties"]["distance"] for f in data["features"]} == {"network"}
    assert len(scopes) == 1 + 28  # the demo's 28 markets, all open
    html = next(f.proto.srcdoc for f in at.get("iframe"))
    assert '"className": "isochrone"' in html  # the map holds the reach layer too
    assert "沿路网步行" in html or json.dumps("沿路网步行")[1:-1] in html  # the legend says so
