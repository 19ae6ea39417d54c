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
from geo.data.dataset import Dataset
from geo.data.dataset_store import DatasetStore, embedded_demo
from geo.data.geocode import GEOCODE_URL_VARIABLE
from geo.data.io import read_demo, read_targets
from geo.model import config
from geo.model.config import METRIC_CRS
from tests.apptest import TIMEOUT
from tests.conftest import ROOT, who
from tests.geocode_stub import (
    AMAP_PATH,
    KNOWN_WGS84,
    STUB_KEY,
    geocode_stub,  # noqa: F401 - the fixture
)
from ui.markdown import as_text

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


def _stored(targets=None) -> Dataset:
    """The newest stored dataset version (the test's own state folder)."""
    return DatasetStore(config.DATASET_DB).read(targets or read_targets())


def _version() -> int:
    return DatasetStore(config.DATASET_DB).current_version()


def test_the_page_shows_the_demo_as_version_0(page):
    assert page.warning[0].value.startswith("演示数据")
    table = page.dataframe[0].value
    _, demo = read_demo(read_targets())
    demo_data = embedded_demo(read_targets())
    assert list(table.iloc[:, 1]) == [10, *demo["category"].value_counts(sort=False),
                                      len(demo_data.population.polygons)
                                      + len(demo_data.population.points),
                                      demo_data.network.n_edges]
    assert set(table.iloc[:, 2]) == {"演示数据"}
    assert "当前版本：0" in [c.value for c in page.caption]
    assert page.button(key="versions_rollback").disabled


def test_a_gcj02_market_list_is_checked_and_replaces_the_demo_markets(page):
    at = _upload(page, "fac_upload", "菜场.csv", _gcj_sheet(), "text/csv")
    assert at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith(
        "fac_map_lon_"))).value == "经度"
    _choose_market_gcj(at)
    assert _metrics(at) == {"可导入": "3", "被拒绝": "1", "已忽略": "0"}
    rejected = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert list(rejected["序号"]) == ["3"]
    assert list(rejected["reason"]) == ["outside the study area"]
    reasons = next(d.value for d in at.dataframe if "原因" in d.value.columns)
    assert reasons.to_dict("list") == {"原因": ["不在研究范围内"], "行数": [1]}
    assert [i.value for i in at.main.info] == [
        as_text("1 × unnamed: named from its category and id")]
    assert at.get("download_button")
    at.radio(key="fac_mode").set_value("replace_categories").run()
    at.button(key="fac_apply").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [f"已导入 3 个设施（{as_text('菜场.csv')}，版本 1）。"]
    assert not [b for b in at.button if b.key == "fac_apply"]  # imported once, not twice

    targets = read_targets()
    stored = _stored(targets)
    markets = stored.facilities[stored.facilities["category"] == "market"].sort_values("id")
    assert list(markets["id"]) == ["mkt-1", "mkt-2", "mkt-4"]
    assert list(markets["name"]) == ["天山菜场", "虹桥菜场", "菜市场 (4)"]
    assert set(markets["source"]) == {"import: 菜场.csv"}
    _, distance = Geod(ellps="WGS84").inv(markets["lon"][:2], markets["lat"][:2],
                                          [p[0] for p in INSIDE], [p[1] for p in INSIDE])[1:]
    assert np.max(distance) < 1.0
    _, demo = read_demo(targets)
    others = stored.facilities[stored.facilities["category"] != "market"]
    assert len(others) == int((demo["category"] != "market").sum())
    assert stored.facility_origins["market"][0].startswith("菜场.csv (")
    assert stored.demo_parts == ["boundaries", "population", "network", "charger", "sports",
                                 "canteen", "parking"]
    [version] = DatasetStore(config.DATASET_DB).versions()
    assert version.summary["categories"]["market"] == {
        "before": int((demo["category"] == "market").sum()), "after": 3, "added": 3,
        "removed": int((demo["category"] == "market").sum()), "changed": 0}
    # every page now says which parts are still demo
    assert any("以下部分仍为演示数据" in w.value and "街道边界" in w.value for w in at.warning)


def test_an_import_checked_against_an_older_version_is_refused(page, two_streets,
                                                               market_and_parking):
    at = _upload(page, "fac_upload", "菜场.csv", _gcj_sheet(), "text/csv")
    _choose_market_gcj(at)
    # meanwhile another planner's import lands
    DatasetStore(config.DATASET_DB).save(
        Dataset(*read_demo(read_targets())), base_version=0, who=who("someone else"),
        summary={"action": "import", "detail": "other.csv", "categories": {}})
    at.button(key="fac_apply").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "数据已被更改（版本 0 → 1），未保存：请重新检查。"]
    assert _version() == 1
    assert [v.user for v in DatasetStore(config.DATASET_DB).versions()] == ["someone else"]


def test_an_id_clash_fails_the_import_and_keeps_the_data(page):
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
    assert _version() == 0


def test_swapped_columns_get_a_hint(page):
    lons, lats = zip(*INSIDE, strict=True)
    sheet = pd.DataFrame({"name": ["a", "b"], "lon": [str(v) for v in lats],
                          "lat": [str(v) for v in lons], "category": ["market", "market"]})
    at = _upload(page, "fac_upload", "swapped.csv", sheet.to_csv(index=False).encode(),
                 "text/csv")
    at.button(key="fac_check").click().run()
    assert _metrics(at) == {"可导入": "0", "被拒绝": "2", "已忽略": "0"}
    assert any("lon and lat look swapped" in w.value for w in at.warning)
    assert at.button(key="fac_apply").disabled


def test_changing_a_setting_asks_for_a_new_check(page):
    at = _upload(page, "fac_upload", "菜场.csv", _gcj_sheet(), "text/csv")
    _choose_market_gcj(at)
    at.selectbox(key="fac_crs").set_value("wgs84").run()
    assert [i.value for i in at.main.info] == ["设置已更改，请重新检查。"]
    assert not at.metric


def test_an_unreadable_upload_is_one_error_naming_the_file(page):
    at = _upload(page, "fac_upload", "broken.xlsx", b"not a workbook", "application/zip")
    assert len(at.error) == 1
    assert as_text("facilities file broken.xlsx: the content is not XLSX") in at.error[0].value


def _boundaries_geojson(boxes: list[shapely.Polygon]) -> bytes:
    frame = gpd.GeoDataFrame({"区划代码": [f"31010590000{i}" for i in range(1, len(boxes) + 1)],
                              "名称": [f"街道{i}" for i in range(1, len(boxes) + 1)],
                              "人口": [1000 * i for i in range(1, len(boxes) + 1)]},
                             geometry=boxes, crs=METRIC_CRS)
    buffer = io.BytesIO()
    frame.to_file(buffer, driver="GeoJSON")
    return buffer.getvalue()


def test_official_boundaries_in_utm_replace_the_demo_and_the_demo_comes_back(page):
    x, y = 347_000.0, 3_453_000.0
    data = _boundaries_geojson([shapely.box(x, y, x + 1000, y + 1000),
                                shapely.box(x + 1000, y, x + 2000, y + 1000)])
    assert json.loads(data)["crs"]["properties"]["name"].endswith("32651")
    at = _upload(page, "bnd_upload", "streets.geojson", data, "application/geo+json")
    assert [s.value for s in at.success] == ["2 个街道，无重叠、无空隙。"]
    assert len(at.get("iframe")) == 1
    at.button(key="bnd_apply").click().run()
    assert not at.exception, at.exception
    stored = _stored()
    assert list(stored.streets["name"]) == ["街道1", "街道2"]
    assert list(stored.streets["population"]) == [1000.0, 2000.0]
    assert stored.boundaries_origin.startswith("streets.geojson (")
    name = as_text("streets.geojson")
    assert at.success[0].value.startswith(f"已导入街道边界（{name}，版本 1）；")
    # back to the demo (version 0), after saying yes: a new version, the import kept
    assert at.selectbox(key="versions_to").options == ["0（演示数据）"]
    assert at.button(key="versions_rollback").disabled
    at.checkbox(key="versions_sure").check().run()
    at.button(key="versions_rollback").click().run()
    assert not at.exception, at.exception
    assert _stored().all_demo and _version() == 2
    assert at.success[0].value == "已回退到版本 0（新版本 2）。"
    assert at.warning[0].value.startswith("演示数据")
    versions = next(d.value for d in at.dataframe if "版本" in d.value.columns)
    assert list(versions["版本"]) == [2, 1]


def test_overlapping_boundaries_are_reported(page):
    x, y = 347_000.0, 3_453_000.0
    data = _boundaries_geojson([shapely.box(x, y, x + 1000, y + 1000),
                                shapely.box(x + 900, y, x + 2000, y + 1000)])
    at = _upload(page, "bnd_upload", "overlap.geojson", data, "application/geo+json")
    assert [w.value for w in at.warning if "overlap" in w.value] == [
        as_text("街道1 (310105900001) and 街道2 (310105900002) overlap by 100,000 m²")]


def test_boundaries_without_a_code_field_say_so(page):
    x, y = 347_000.0, 3_453_000.0
    data = _boundaries_geojson([shapely.box(x, y, x + 1000, y + 1000)])
    at = _upload(page, "bnd_upload", "streets.geojson", data, "application/geo+json")
    code_box = next(s for s in at.selectbox if s.key.startswith("bnd_code_"))
    code_box.set_value("").run()
    assert [e.value for e in at.error] == ["请指定街道代码和名称字段。"]


def test_every_page_shows_an_imported_dataset(two_streets, market_and_parking):
    DatasetStore(config.DATASET_DB).save(
        Dataset(two_streets.assign(name_en=""), market_and_parking, "official.gpkg",
                {"market": ("m.xlsx",), "parking": ("p.xlsx",)}),
        base_version=0, who=who("test"), summary={})
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
    assert _metrics(at) == {"可导入": "1", "被拒绝": "1", "已忽略": "0"}
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
    from geo.data.rules import REASONS
    from ui.importing import REASONS_ZH

    assert set(REASONS_ZH) == set(REASONS)


def test_an_upload_is_parsed_once_whatever_the_widgets_do(page, monkeypatch):
    import ui.uploads

    calls = []
    real = ui.uploads.read_table
    monkeypatch.setattr(ui.uploads, "read_table", lambda *a, **k: calls.append(1) or real(*a, **k))
    st.cache_data.clear()
    at = _upload(page, "fac_upload", "菜场.csv", _gcj_sheet(), "text/csv")
    _choose_market_gcj(at)
    at.selectbox(key="fac_crs").set_value("bd09").run()
    at.button(key="fac_check").click().run()
    at.radio(key="fac_mode").set_value("append").run()
    assert not at.exception, at.exception
    assert len(calls) == 1


def _two_sheets(page: AppTest) -> AppTest:
    """The market list as a workbook: all rows on sheet 一月, the first on sheet 二月."""
    buffer = io.BytesIO()
    frame = pd.read_csv(io.BytesIO(_gcj_sheet()), encoding="utf-8-sig", dtype=str)
    with pd.ExcelWriter(buffer) as writer:
        frame.to_excel(writer, sheet_name="一月", index=False)
        frame.iloc[:1].to_excel(writer, sheet_name="二月", index=False)
    return _upload(page, "fac_upload", "两表.xlsx", buffer.getvalue(),
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def test_a_workbook_with_two_sheets_asks_which_one(page):
    at = _two_sheets(page)
    picker = next(s for s in at.selectbox if s.key.startswith("fac_part_"))
    assert picker.options == ["一月", "二月"] and picker.value is None
    assert [i.value for i in at.main.info] == ["请选择要读取的工作表或图层。"]
    picker.set_value("二月").run()
    assert any(c.value.startswith(f"{as_text('两表.xlsx')} · 二月：1 行") for c in at.caption)


def test_a_check_of_one_sheet_is_not_imported_after_picking_another(page):
    """The check belongs to the sheet (or layer, or encoding) it read: after picking another
    sheet with the same columns the page asks to check again instead of importing the rows of
    the sheet no longer shown."""
    at = _two_sheets(page)
    next(s for s in at.selectbox if s.key.startswith("fac_part_")).set_value("一月").run()
    _choose_market_gcj(at)
    assert _metrics(at)["可导入"] == "3"
    next(s for s in at.selectbox if s.key.startswith("fac_part_")).set_value("二月").run()
    assert not at.exception, at.exception
    assert [i.value for i in at.main.info] == ["设置已更改，请重新检查。"]
    assert not [b for b in at.button if b.key == "fac_apply"]


def test_an_upload_named_longer_than_the_file_system_allows_is_read(page):
    """A browser sends the name as it is; 86 Chinese characters are more than the 255 bytes
    a file name may have, which was an OSError traceback on the page."""
    sheet = pd.DataFrame({"name": ["a"], "lon": ["121.40"], "lat": ["31.21"]})
    name = "长宁区菜市场布点规划设施清单" * 7 + ".csv"
    at = _upload(page, "fac_upload", name, sheet.to_csv(index=False).encode(), "text/csv")
    assert any(c.value.startswith(f"{as_text(name)} · utf-8：1 行") for c in at.caption)


def test_one_category_for_every_row_is_never_a_silent_default(page):
    sheet = pd.DataFrame({"name": ["a"], "lon": ["121.40"], "lat": ["31.21"]})
    at = _upload(page, "fac_upload", "a.csv", sheet.to_csv(index=False).encode(), "text/csv")
    assert at.radio(key="fac_category_how").value == "one"  # no class column to read
    assert at.selectbox(key="fac_category").value is None
    assert at.button(key="fac_check").disabled


@pytest.mark.realdata
def test_the_real_osm_pois_get_their_classes_mapped_and_the_rest_ignored(page):
    from geo.data.osm import OSM_CLASS_CATEGORIES
    from tests.conftest import shared_file

    path = shared_file("data", "osm", "changning_pois.geojson")
    at = _upload(page, "fac_upload", path.name, path.read_bytes(), "application/geo+json")
    assert at.radio(key="fac_category_how").value == "column"
    column = next(s for s in at.selectbox if s.key.startswith("fac_class_column_"))
    assert column.value == "fclass"
    chosen = {c: next(m for m in at.multiselect if m.key.startswith(f"fac_classes_{c}_")).value
              for c in ("market", "sports", "parking", "charger", "canteen")}
    expected = {c: sorted(k for k, v in OSM_CLASS_CATEGORIES.items() if v == c)
                for c in chosen}
    frame = gpd.read_file(path)
    present = set(frame["fclass"])
    assert {c: sorted(v) for c, v in chosen.items()} == {
        c: [k for k in v if k in present] for c, v in expected.items()}
    at.button(key="fac_check").click().run()
    assert not at.exception, at.exception
    mapped = frame["fclass"].isin(list(OSM_CLASS_CATEGORIES))
    metrics = _metrics(at)
    assert int(metrics["已忽略"]) == int((~mapped).sum())
    assert int(metrics["可导入"]) + int(metrics["被拒绝"]) == int(mapped.sum())


def test_the_rejected_rows_download_keeps_a_carriage_return_inside_its_cell():
    """With lines ending in LF, a CR inside a text is left unquoted and a spreadsheet starts a
    new row there: the rest of the cell ("=1+1") would run as a formula. CRLF lines, as the
    exports write, make the writer quote it."""
    from ui.importing import csv_bytes

    data = csv_bytes(pd.DataFrame({"name": ["x\r=1+1"], "reason": ["=2"]}))
    assert data.decode("utf-8-sig") == 'name,reason\r\n"x\r=1+1",\'=2\r\n'


def test_a_file_that_cannot_be_read_is_not_read_again_on_every_click(page, monkeypatch):
    import ui.uploads

    calls = []
    real = ui.uploads.table_parts
    monkeypatch.setattr(ui.uploads, "table_parts",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    st.cache_data.clear()
    at = _upload(page, "fac_upload", "broken.xlsx", b"not a workbook", "application/zip")
    for _ in range(3):
        at.checkbox(key="versions_sure").check().run()
        at.checkbox(key="versions_sure").uncheck().run()
    assert len(at.error) == 1 and len(calls) == 1


def _living_files(tmp_path) -> tuple[bytes, bytes]:
    """Two residential areas inside the demo's Tianshan street (30 and 60 residents, 10 and 20
    aged 60+, one with no value for 60+) and a short walking network as GraphML."""
    import networkx as nx

    areas = gpd.GeoDataFrame(
        {"居民": [30, 60], "老人": [10, None]},
        geometry=[shapely.box(121.400, 31.210, 121.402, 31.212),
                  shapely.box(121.403, 31.210, 121.405, 31.212)], crs="EPSG:4326")
    buffer = io.BytesIO()
    areas.to_file(buffer, driver="GeoJSON")
    graph = nx.Graph(crs="EPSG:4326")
    for node, (lon, lat) in {"a": (121.399, 31.211), "b": (121.406, 31.211),
                             "c": (121.406, 31.216)}.items():
        graph.add_node(node, x=lon, y=lat)
    graph.add_edge("a", "b")
    graph.add_edge("b", "c")
    path = tmp_path / "walk.graphml"
    nx.write_graphml(graph, path)
    return buffer.getvalue(), path.read_bytes()


def test_residents_and_a_walking_network_are_imported_and_dropped(page, tmp_path):
    people, walks = _living_files(tmp_path)
    at = _upload(page, "pop_upload", "小区.geojson", people, "application/geo+json")
    at.selectbox(key=next(w.key for w in at.selectbox if w.key.startswith("pop_field_"))
                 ).set_value("居民").run()
    at.selectbox(key=next(w.key for w in at.selectbox if w.key.startswith("pop_elderly_"))
                 ).set_value("老人").run()
    assert not at.exception, at.exception
    metrics = _metrics(at)
    assert metrics["居民"] == "90"
    assert float(metrics["落在街道网格内"].replace(",", "")) + float(
        metrics["在网格之外"].replace(",", "")) == 90
    reasons = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert list(reasons["reason"]) == ["rows without a '老人' value (counted as 0 aged 60+)"]
    at.button(key="pop_apply").click().run()
    assert not at.exception, at.exception
    stored = _stored()
    assert stored.population.total() == 90 and stored.population.total("elderly") == 10
    assert stored.population_origin.startswith("小区.geojson (")
    assert stored.network is not None  # the demo's network stays
    at = _upload(at, "net_upload", "walk.graphml", walks, "application/xml")
    assert _metrics(at)["路段"] == "2"
    at.button(key="net_apply").click().run()
    assert not at.exception, at.exception
    assert _stored().network.n_edges == 2 and _version() == 2
    at.button(key="net_drop").click().run()
    assert not at.exception, at.exception
    assert _stored().network is None and _stored().population is not None
    assert _version() == 3
    versions = next(d.value for d in at.dataframe if "版本" in d.value.columns)
    assert "路段 2→—" in versions["变更"].iloc[0]
