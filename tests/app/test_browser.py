"""End to end: the real app under ``streamlit run``, in Debian's Chromium, with no network.

What only a browser shows: the map actually drawing, layers toggling, hostile names staying text,
and a console free of errors.
"""

from __future__ import annotations

import pytest

from tests.e2e import (
    CHROMIUM,
    HOSTILE_ADDRESS,
    HOSTILE_NAME,
    data_dir_with_hostile_facility,
    map_frame,
    open_page,
    streamlit_app,
    wait_idle,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} absent: install Debian's chromium (.ci/run does)",
                allow_module_level=True)

#: Sidebar link → the page's heading.
PAGES = {"总览": "长宁区 15 分钟社区生活圈设施覆盖", "地图浏览": "地图浏览", "街道视图": "街道视图",
         "情景模拟": "情景模拟", "目标与数据": "目标与数据", "数据导入": "数据导入"}
#: Pages without a coverage map.
NO_MAP = ("目标与数据", "数据导入")
FIND_MAP = "Object.values(window).find(v => v instanceof L.Map)"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    data = data_dir_with_hostile_facility(tmp_path_factory.mktemp("e2e") / "data")
    with streamlit_app(data) as url:
        yield url


@pytest.mark.parametrize("link", list(PAGES))
def test_every_page_loads_without_error_text(page, app_url, link):
    open_page(page, app_url, link, PAGES[link])
    if link not in NO_MAP:
        map_frame(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    body = page.inner_text("body")
    assert "Traceback" not in body and "Error" not in body
    assert page.problems["console"] == []
    assert page.problems["outside"] == []


def test_map_explorer_draws_ten_streets_and_toggles_a_category(page, app_url):
    open_page(page, app_url, "地图浏览", PAGES["地图浏览"])
    frame = map_frame(page)
    assert frame.locator("path.street-boundary").count() == 10
    assert frame.locator(".street-label").count() == 10
    assert frame.locator("path.coverage-cell").count() > 3000

    def marks(category: str) -> int:
        return frame.locator(f"path.facility-{category}, "
                             f".facility-cluster-{category}").count()

    assert marks("charger") > 0 and marks("market") == 0  # only the chosen category is on
    frame.get_by_text("设施: 菜市场").click()
    frame.locator("path.facility-market, .facility-cluster-market").first.wait_for()
    assert marks("market") > 0
    frame.get_by_text("设施: 菜市场").click()
    frame.locator("path.facility-market, .facility-cluster-market").first.wait_for(
        state="detached")
    assert marks("market") == 0 and marks("charger") > 0
    assert page.problems["console"] == [] and page.problems["outside"] == []


def test_a_hostile_name_renders_as_text_and_opens_no_dialog(page, app_url):
    open_page(page, app_url, "地图浏览", PAGES["地图浏览"])
    frame = map_frame(page)
    frame.get_by_text("设施: 菜市场").click()
    tooltip = frame.locator(".leaflet-tooltip")
    frame.locator("body").evaluate(f"""() => {{
        const map = {FIND_MAP};
        map.eachLayer(layer => {{
            if (!(layer instanceof L.MarkerClusterGroup)) return;
            layer.getLayers().forEach(marker => {{
                const tip = marker.getTooltip && marker.getTooltip();
                if (tip && String(tip.getContent()).includes('onerror')) {{
                    // past the clustering zoom the marker itself is on the map
                    map.setView(marker.getLatLng(), 18, {{animate: false}});
                    setTimeout(() => marker.openTooltip(), 500);
                }}
            }});
        }});
    }}""")
    tooltip.first.wait_for(timeout=15_000)
    text = tooltip.first.inner_text()
    assert HOSTILE_NAME in text
    assert HOSTILE_ADDRESS in text
    assert frame.locator('img[src="x"]').count() == 0
    assert frame.locator(".leaflet-tooltip script").count() == 0
    page.wait_for_timeout(500)
    assert page.problems["dialogs"] == []
    assert page.problems["console"] == []


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``."""
    page.get_by_label(label).first.click()
    page.get_by_role("option", name=option).click()
    wait_idle(page)


def test_clicking_the_scenario_map_adds_a_facility_and_changes_the_street(page, app_url):
    open_page(page, app_url, "情景模拟", PAGES["情景模拟"])
    _choose(page, "设施类别", "菜市场")
    frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']").first
    frame.locator("path.street-boundary").nth(9).wait_for(timeout=60_000)
    assert page.get_by_text("· 程家桥街道: ").count() == 0
    # where 121.370 E, 31.200 N (程家桥, far from any market) is on screen
    point = frame.locator("body").evaluate(
        "() => { const p = window.map.latLngToContainerPoint([31.200, 121.370]);"
        " const r = window.map.getContainer().getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }")
    box = page.locator("iframe[title='streamlit_folium.st_folium']").first.bounding_box()
    picked = page.get_by_text("已取点：")
    for _ in range(3):  # the component may still be settling after the last rerun
        page.mouse.click(box["x"] + point[0], box["y"] + point[1])
        try:
            picked.wait_for(timeout=10_000)
            break
        except sync_api.TimeoutError:
            continue
    lon, lat = (float(v) for v in picked.inner_text().split("：")[1].split(", "))
    assert (lon, lat) == pytest.approx((121.370, 31.200), abs=2e-3)  # within ~200 m
    wait_idle(page)
    page.get_by_role("button", name="新增菜市场").click()
    page.get_by_text("1. add market NEW-1").wait_for(timeout=60_000)
    wait_idle(page)
    change = page.get_by_text("· 程家桥街道: ")
    change.wait_for(timeout=30_000)
    before, after = (float(v.rstrip("%")) for v in change.inner_text().split(": ")[1].split(" → "))
    assert after > before
    assert page.problems["console"] == [] and page.problems["outside"] == []


def test_the_html_export_draws_ten_streets_offline(page, tmp_path):
    from geo.data.io import read_demo, read_targets
    from geo.engine.coverage import compute_coverage
    from layers.report import ReportInputs, write_reports

    targets = read_targets()
    streets, facilities = read_demo(targets)
    result = compute_coverage(streets, facilities, targets, resolution=9)
    (html,) = write_reports(ReportInputs(result=result, facilities=facilities, targets=targets),
                            codes=[], formats=["html"], out_dir=tmp_path)
    page.goto(html.as_uri())
    page.locator("path.street-boundary").nth(9).wait_for(timeout=30_000)
    assert page.locator("path.street-boundary").count() == 10
    assert page.locator(".leaflet-control-layers-overlays input").count() >= 7
    # a DOM event on the cell itself: a hover at its centre may land on a marker above it
    page.locator("path.coverage-cell").nth(100).dispatch_event("mouseover")
    page.locator(".leaflet-tooltip").first.wait_for(timeout=10_000)
    assert "最近距离" in page.locator(".leaflet-tooltip").first.inner_text()
    assert page.problems["outside"] == [] and page.problems["console"] == []
