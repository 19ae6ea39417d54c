"""End to end: a planner uploads a market list on the Data page in Chromium, checks it, imports
it, and the map and the overview show the imported data (the real app, no network)."""

from __future__ import annotations

import json

import pytest

from tests.e2e import CHROMIUM, map_frame, open_page, streamlit_app, wait_idle

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} absent: install Debian's chromium (.ci/run does)",
                allow_module_level=True)

MARKETS = ("id,name,category,lon,lat,address\n"
           "N-1,新华路智慧菜场,菜市场,121.4210,31.2080,新华路 1 号\n"
           "N-2,虹桥智慧菜场,market,121.4000,31.2000,虹桥路 2 号\n"
           "N-3,远方菜场,market,121.9000,31.0000,远方\n")


@pytest.fixture(scope="module")
def app_url():
    with streamlit_app() as url:
        yield url


def test_importing_a_market_list_reaches_the_map(page, app_url, tmp_path):
    upload = tmp_path / "markets.csv"
    upload.write_text(MARKETS, encoding="utf-8")
    open_page(page, app_url, "数据导入", "数据导入")
    page.locator('input[type="file"]').first.set_input_files(str(upload))
    page.get_by_text("markets.csv · utf-8：3 行").wait_for(timeout=60_000)
    page.get_by_role("button", name="检查").click()
    page.get_by_text("可导入", exact=True).wait_for(timeout=60_000)
    wait_idle(page)
    metrics = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert metrics == ["2", "1", "0"]
    page.get_by_text("替换全部设施", exact=True).click()
    wait_idle(page)
    page.get_by_role("button", name="导入 2 个设施").click()
    page.get_by_text("已导入 2 个设施（markets.csv，版本 1）。").wait_for(timeout=60_000)

    open_page(page, app_url, "地图浏览", "地图浏览")
    frame = map_frame(page)
    assert frame.locator("path.street-boundary").count() == 10
    document = page.locator("iframe").first.get_attribute("srcdoc")
    in_js = [json.dumps(name)[1:-1] for name in ("新华路智慧菜场", "虹桥智慧菜场", "远方菜场")]
    assert in_js[0] in document and in_js[1] in document  # tooltips are JSON data
    assert in_js[2] not in document and "远方菜场" not in document
    notice = page.locator('[data-testid="stAlertContentWarning"]').first.inner_text()
    assert "以下部分仍为演示数据" in notice and "街道边界与人口" in notice
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    assert page.problems["console"] == [] and page.problems["outside"] == []
