"""End to end in Chromium with the real OpenStreetMap files of Changning (read in place from
../shared): a planner imports the real street boundaries, then the real points of interest —
their classes mapped to categories (OSM classes pre-filled, the rest ignored and counted),
unnamed rows accepted — every page renders the imported data, and a street's PDF report is
written with the OpenStreetMap credit."""

from __future__ import annotations

import subprocess

import geopandas as gpd
import pytest

from geo.data.osm import OSM_CLASS_CATEGORIES
from tests.conftest import shared_file
from tests.e2e import CHROMIUM, map_frame, open_page, streamlit_app, wait_idle

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} absent: install Debian's chromium (.ci/run does)",
                allow_module_level=True)

pytestmark = pytest.mark.realdata
PAGES = [("总览", "长宁区 15 分钟社区生活圈设施覆盖"), ("地图浏览", "地图浏览"),
         ("街道视图", "街道视图"), ("情景模拟", "情景模拟"), ("目标与数据", "目标与数据")]


@pytest.fixture(scope="module")
def app_url():
    with streamlit_app() as url:
        yield url


def _alerts(page, kind: str) -> list[str]:
    return page.locator(f'[data-testid="stAlertContent{kind}"]').all_inner_texts()


def test_the_real_osm_data_through_the_data_page_to_a_report(page, app_url, tmp_path):
    streets = shared_file("data", "osm", "changning_streets.geojson")
    pois = shared_file("data", "osm", "changning_pois.geojson")
    frame = gpd.read_file(pois)
    mapped = frame["fclass"].isin(list(OSM_CLASS_CATEGORIES))

    open_page(page, app_url, "数据导入", "数据导入")
    page.get_by_role("tab", name="街道边界").click()
    page.locator('input[type="file"]').nth(1).set_input_files(str(streets))
    page.get_by_text("10 个街道，无重叠、无空隙。").wait_for(timeout=90_000)
    wait_idle(page)
    page.get_by_role("button", name="用这 10 个街道替换现有边界").click()
    page.get_by_text("已导入街道边界（changning_streets.geojson，版本 1）").wait_for(
        timeout=90_000)
    wait_idle(page)

    page.get_by_role("tab", name="设施").click()
    page.locator('input[type="file"]').first.set_input_files(str(pois))
    page.get_by_text(f"changning_pois.geojson：{len(frame)} 行").wait_for(timeout=90_000)
    wait_idle(page)
    classes = frame["fclass"].nunique()
    ignored = int((~mapped).sum())
    page.get_by_text(f"{classes} 个类；未选的类忽略（{ignored} 行").wait_for(timeout=30_000)
    page.get_by_role("button", name="检查").click()
    page.get_by_text("可导入", exact=True).wait_for(timeout=90_000)
    wait_idle(page)
    accepted, rejected, counted = page.locator(
        '[data-testid="stMetricValue"]').all_inner_texts()
    duplicates = int(frame.loc[mapped, "osm_id"].astype(str).duplicated().sum())
    assert (int(accepted), int(rejected), int(counted)) == (
        int(mapped.sum()) - duplicates, duplicates, ignored)
    unnamed = int((mapped & (frame["name"].fillna("").str.strip() == "")).sum())
    info = _alerts(page, "Info")
    assert any(f"{unnamed} × unnamed: named from its category and id" in text for text in info)
    page.get_by_role("button", name=f"导入 {accepted} 个设施").click()
    page.get_by_text(f"已导入 {accepted} 个设施（changning_pois.geojson，版本 2）").wait_for(
        timeout=90_000)
    assert _alerts(page, "Error") == []

    for link, heading in PAGES:
        open_page(page, app_url, link, heading)
        assert _alerts(page, "Error") == [], link
        if link in ("总览", "地图浏览", "街道视图"):
            frame_ = map_frame(page)
            assert frame_.locator("path.street-boundary").count() == 10, link

    open_page(page, app_url, "街道视图", "街道视图")
    page.get_by_text("导出（报告用）").click()
    page.get_by_role("button", name="生成所选格式").click()
    download_button = page.get_by_role("button", name="⬇ street-").filter(
        has_text=".pdf").first
    download_button.wait_for(timeout=120_000)
    with page.expect_download() as download:
        download_button.click()
    pdf = tmp_path / "street.pdf"
    download.value.save_as(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "© OpenStreetMap contributors" in text
    assert "演示数据" in text  # the populations are still the demo's: said so
    assert page.problems["outside"] == [] and page.problems["dialogs"] == []
