"""AppTest of the Data page: upload a facility list or boundaries, correct the mapping, check,
see the report, import (all or nothing), go back to the demo."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import streamlit as st
from pyproj import Geod
from streamlit.testing.v1 import AppTest

from geo.data.coords import wgs84_to_gcj02
from geo.data.dataset_io import read_dataset, write_dataset
from geo.data.geocode import GEOCODE_URL_VARIABLE
from geo.data.io import read_demo, read_targets
from geo.model.config import METRIC_CRS
from tests.apptest import TIMEOUT
from tests.conftest import ROOT
from tests.geocode_stub import (
    AMAP_PATH,
    KNOWN_WGS84,
    STUB_KEY,
    geocode_stub,  # noqa: F401 - the fixture
)
from ui.widgets import as_text

ADDRESS = "长宁路1187号"
#: Two points inside Changning (WGS-84) and one in Pudong, outside the study area.
INSIDE = [(121.4000, 31.2150), (121.3800, 31.2050)]
OUTSIDE = (121.5500, 31.2300)


@pytest.fixture
def page() -> AppTest:
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    yield at
    st.cache_data.clear()


def _gcj_sheet() -> bytes:
    """A market list as a department keeps it: Chinese headers, AMap (GCJ-02) coordinates,
    one row outside the district and one without a name."""
    points = [*INSIDE, OUTSIDE, INSIDE[0]]
    lon, lat = wgs84_to_gcj02([p[0] for p in points], [p[1] for p in points])
    frame = pd.DataFrame({"序号": ["1", "2", "3", "4"],
                          "名称": ["天山菜场", "虹桥菜场", "浦东菜场", ""],
                          "经度": [f"{v:.7f}" for v in lon], "纬度": [f"{v:.7f}" for v in lat],
                          "地址": ["天山路 1 号", "虹桥路 2 号", "浦东 3 号", "无名"]})
    return frame.to_csv(index=False).encode("utf-8-sig")


def _upload(at: AppTest, key: str, name: str, data: bytes, mime: str) -> AppTest:
    at.file_uploader(key=key).set_value((name, data, mime)).run()
    assert not at.exception, at.exception
    return at


def _choose_market_gcj(at: AppTest) -> AppTest:
    at.radio(key="fac_category_how").set_value("one").run()
    at.selectbox(key="fac_category").set_value("market").run()
    at.selectbox(key="fac_crs").set_value("gcj02").run()
    at.text_input(key="fac_prefix").set_value("mkt-").run()
    at.button(key="fac_check").click().run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_page_shows_the_demo_and_no_reset_button(page):
    assert page.warning[0].value.startswith("演示数据")
    table = page.dataframe[0].value
    _, demo = read_demo(read_targets())
    assert list(table.iloc[:, 1]) == [10, *demo["category"].value_counts(sort=False)]
    assert set(table.iloc[:, 2]) == {"演示数据"}
    assert not [b for b in page.button if b.key == "reset"]


def test_a_gcj02_market_list_is_checked_and_replaces_the_demo_markets(page, _no_stored_dataset):
    at = _upload(page, "fac_upload", "菜场.csv", _gcj_sheet(), "text/csv")
    assert at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith(
        "fac_map_lon_"))).value == "经度"
    _choose_market_gcj(at)
    assert _metrics(at) == {"可导入": "2", "被拒绝": "2"}
    rejected = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert list(rejected["序号"]) == ["3", "4"]
    assert list(rejected["reason"]) == ["outside the study area", "empty name"]
    reasons = next(d.value for d in at.dataframe if "原因" in d.value.columns)
    assert reasons.to_dict("list") == {"原因": ["名称为空", "不在研究范围内"], "行数": [1, 1]}
    assert at.get("download_button")
    at.radio(key="fac_mode").set_value("replace_categories").run()
    at.button(key="fac_apply").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["已导入 2 个设施（菜场.csv）。"]
    assert not [b for b in at.button if b.key == "fac_apply"]  # imported once, not twice

    targets = read_targets()
    stored = read_dataset(targets, _no_stored_dataset)
    markets = stored.facilities[stored.facilities["category"] == "market"].sort_values("id")
    assert list(markets["id"]) == ["mkt-1", "mkt-2"]
    assert list(markets["name"]) == ["天山菜场", "虹桥菜场"]
    assert set(markets["source"]) == {"import: 菜场.csv"}
    _, distance = Geod(ellps="WGS84").inv(markets["lon"], markets["lat"],
                                          [p[0] for p in INSIDE], [p[1] for p in INSIDE])[1:]
    assert np.max(distance) < 1.0
    _, demo = read_demo(targets)
    others = stored.facilities[stored.facilities["category"] != "market"]
    assert len(others) == int((demo["category"] != "market").sum())
    assert stored.facility_origins["market"][0].startswith("菜场.csv (")
    assert stored.demo_parts == ["boundaries", "charger", "sports", "canteen", "parking"]
    # every page now says which parts are still demo
    assert any("以下部分仍为演示数据" in w.value and "街道边界" in w.value for w in at.warning)


def test_an_id_clash_fails_the_import_and_keeps_the_data(page, _no_stored_dataset):
    _, demo = read_demo(read_targets())
    clash = demo[demo["category"] == "parking"].iloc[0]
    sheet = pd.DataFrame({"id": [clash["id"]], "name": ["新菜场"], "lon": [str(INSIDE[0][0])],
                          "lat": [str(INSIDE[0][1])], "category": ["market"]})
    at = _upload(page, "fac_upload", "m.csv", sheet.to_csv(index=False).encode(), "text/csv")
    at.button(key="fac_check").click().run()
    at.button(key="fac_apply").click().run()
    assert not at.exception, at.exception
    assert any(as_text(f"({clash['id']}); give the import an id prefix") in e.value
               for e in at.error)
    assert not _no_stored_dataset.exists()


def test_swapped_columns_get_a_hint(page):
    lons, lats = zip(*INSIDE, strict=True)
    sheet = pd.DataFrame({"name": ["a", "b"], "lon": [str(v) for v in lats],
                          "lat": [str(v) for v in lons], "category": ["market", "market"]})
    at = _upload(page, "fac_upload", "swapped.csv", sheet.to_csv(index=False).encode(),
                 "text/csv")
    at.button(key="fac_check").click().run()
    assert _metrics(at) == {"可导入": "0", "被拒绝": "2"}
    assert any("lon and lat look swapped" in w.value for w in at.warning)
    assert at.button(key="fac_apply").disabled


def test_changing_a_setting_asks_for_a_new_check(page):
    at = _upload(page, "fac_upload", "菜场.csv", _gcj_sheet(), "text/csv")
    _choose_market_gcj(at)
    at.selectbox(key="fac_crs").set_value("wgs84").run()
    assert [i.value for i in at.info] == ["设置已更改，请重新检查。"]
    assert not at.metric


def test_an_unreadable_upload_is_one_error_naming_the_file(page):
    at = _upload(page, "fac_upload", "broken.xlsx", b"not a workbook", "application/zip")
    assert len(at.error) == 1
    assert at.error[0].value.startswith(as_text("facilities file broken.xlsx: "))


def _boundaries_geojson(boxes: list[shapely.Polygon]) -> bytes:
    frame = gpd.GeoDataFrame({"区划代码": [f"31010590000{i}" for i in range(1, len(boxes) + 1)],
                              "名称": [f"街道{i}" for i in range(1, len(boxes) + 1)],
                              "人口": [1000 * i for i in range(1, len(boxes) + 1)]},
                             geometry=boxes, crs=METRIC_CRS)
    buffer = io.BytesIO()
    frame.to_file(buffer, driver="GeoJSON")
    return buffer.getvalue()


def test_official_boundaries_in_utm_replace_the_demo(page, _no_stored_dataset):
    x, y = 347_000.0, 3_453_000.0
    data = _boundaries_geojson([shapely.box(x, y, x + 1000, y + 1000),
                                shapely.box(x + 1000, y, x + 2000, y + 1000)])
    assert json.loads(data)["crs"]["properties"]["name"].endswith("32651")
    at = _upload(page, "bnd_upload", "streets.geojson", data, "application/geo+json")
    assert [s.value for s in at.success] == ["2 个街道，无重叠、无空隙。"]
    assert len(at.get("iframe")) == 1
    at.button(key="bnd_apply").click().run()
    assert not at.exception, at.exception
    stored = read_dataset(read_targets(), _no_stored_dataset)
    assert list(stored.streets["name"]) == ["街道1", "街道2"]
    assert list(stored.streets["population"]) == [1000.0, 2000.0]
    assert stored.boundaries_origin.startswith("streets.geojson (")
    # back to the demo, after saying yes
    assert at.button(key="reset").disabled
    at.checkbox(key="reset_sure").check().run()
    at.button(key="reset").click().run()
    assert not _no_stored_dataset.exists()
    assert at.success[0].value == "已恢复演示数据。"
    assert at.warning[0].value.startswith("演示数据")


def test_overlapping_boundaries_are_reported(page):
    x, y = 347_000.0, 3_453_000.0
    data = _boundaries_geojson([shapely.box(x, y, x + 1000, y + 1000),
                                shapely.box(x + 900, y, x + 2000, y + 1000)])
    at = _upload(page, "bnd_upload", "overlap.geojson", data, "application/geo+json")
    assert [w.value for w in at.warning if "overlap" in w.value] == [
        "街道1 (310105900001) and 街道2 (310105900002) overlap by 100,000 m²"]


def test_boundaries_without_a_code_field_say_so(page):
    x, y = 347_000.0, 3_453_000.0
    data = _boundaries_geojson([shapely.box(x, y, x + 1000, y + 1000)])
    at = _upload(page, "bnd_upload", "streets.geojson", data, "application/geo+json")
    code_box = next(s for s in at.selectbox if s.key.startswith("bnd_code_"))
    code_box.set_value("").run()
    assert [e.value for e in at.error] == ["请指定街道代码和名称字段。"]


def test_every_page_shows_an_imported_dataset(_no_stored_dataset, two_streets,
                                              market_and_parking):
    from geo.data.dataset import Dataset

    write_dataset(Dataset(two_streets.assign(name_en=""), market_and_parking, "official.gpkg",
                          {"market": ("m.xlsx",), "parking": ("p.xlsx",)}), _no_stored_dataset)
    st.cache_data.clear()
    try:
        for page in ["app.py", "pages/street.py", "pages/map_explorer.py",
                     "pages/scenarios.py", "pages/targets_and_data.py"]:
            at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT)
            at.session_state["lang"] = "en"
            at.run()
            assert not at.exception, (page, at.exception)
            assert not at.error, (page, [e.value for e in at.error])
            assert not at.warning, (page, [w.value for w in at.warning])
            for frame in at.get("iframe"):  # the map no longer says demo either
                assert "Demo data" not in frame.proto.srcdoc, page
        street = AppTest.from_file(str(ROOT / "pages/street.py"), default_timeout=TIMEOUT)
        street.session_state["lang"] = "en"
        street.run()
        assert street.selectbox(key="street").options == ["甲街道", "乙街道"]
    finally:
        st.cache_data.clear()


def test_rows_with_addresses_are_geocoded(page, monkeypatch, tmp_path,
                                          geocode_stub):  # noqa: F811 - the imported fixture
    import ui.importing

    monkeypatch.setenv("AMAP_KEY", STUB_KEY)
    monkeypatch.setenv(GEOCODE_URL_VARIABLE, geocode_stub.url)
    monkeypatch.setattr(ui.importing, "GEOCODE_CACHE", tmp_path / "geocode.sqlite")
    sheet = pd.DataFrame({"名称": ["长宁食堂", "无此食堂"], "地址": [ADDRESS, "不存在路0号"]})
    at = _upload(page, "fac_upload", "食堂.csv", sheet.to_csv(index=False).encode(), "text/csv")
    at.radio(key="fac_category_how").set_value("one").run()
    at.selectbox(key="fac_category").set_value("canteen").run()
    at.selectbox(key="fac_geocode").set_value("amap").run()
    at.button(key="fac_check").click().run()
    assert not at.exception, at.exception
    assert _metrics(at) == {"可导入": "1", "被拒绝": "1"}
    rejected = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert list(rejected["reason"]) == ["geocoding failed: no match"]
    accepted = next(d.value for d in at.dataframe if "lon" in d.value.columns)
    lon, lat = KNOWN_WGS84[ADDRESS]
    assert (accepted.loc[0, "lon"], accepted.loc[0, "lat"]) == pytest.approx((lon, lat), abs=1e-6)
    assert geocode_stub.count(path=AMAP_PATH) == 2


def test_a_missing_provider_key_is_one_error(page, monkeypatch):
    monkeypatch.delenv("AMAP_KEY", raising=False)
    sheet = pd.DataFrame({"名称": ["长宁食堂"], "地址": [ADDRESS], "类型": ["canteen"]})
    at = _upload(page, "fac_upload", "食堂.csv", sheet.to_csv(index=False).encode(), "text/csv")
    at.selectbox(key="fac_geocode").set_value("amap").run()
    at.button(key="fac_check").click().run()
    assert not at.exception, at.exception
    assert len(at.error) == 1 and as_text("AMAP_KEY") in at.error[0].value


def test_every_rejection_reason_has_a_chinese_label():
    from geo.data.importer import REASONS
    from ui.importing import REASONS_ZH

    assert set(REASONS_ZH) == set(REASONS)
