"""Hostile names in Debian's Chromium: the explorer map and the offline HTML report of a dataset
whose facilities and streets carry the hostile corpus draw, open no dialog, load nothing from
outside 127.0.0.1 and show every name literally in its tooltip and label (files opened from
``file://``; one browser for the module)."""

from __future__ import annotations

import pytest

from tests.e2e import CHROMIUM
from tests.hostile import CORPUS, as_html_text

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} absent: install Debian's chromium (.ci/run does)",
                allow_module_level=True)

FIND_MAP = "Object.values(window).find(v => v instanceof L.Map)"
#: Zoom to a facility (past the clustering zoom) and keep its marker as window.__target.
ZOOM_TO = f"""([lat, lon]) => {{
    const map = {FIND_MAP};
    let best = null, far = Infinity;
    map.eachLayer(layer => {{
        if (!(layer instanceof L.MarkerClusterGroup)) return;
        layer.getLayers().forEach(marker => {{
            const d = marker.getLatLng().distanceTo([lat, lon]);
            if (d < far) {{ far = d; best = marker; }}
        }});
    }});
    map.setView(best.getLatLng(), 18, {{animate: false}});
    window.__target = best;
    return far;
}}"""
#: Whether the target's marker is drawn; zooms to it again when an animation still running
#: from the page's first fitBounds moved the map back.
TARGET_DRAWN = f"""() => {{
    const map = {FIND_MAP}, marker = window.__target;
    if (map._animatingZoom) return false;
    if (map.getZoom() !== 18) {{ map.setView(marker.getLatLng(), 18, {{animate: false}}); }}
    return marker._map && marker._path && marker._path.isConnected;
}}"""
TARGET_CENTRE = """() => {
    const box = window.__target._path.getBoundingClientRect();
    const x = box.left + box.width / 2, y = box.top + box.height / 2;
    return [x, y, document.elementFromPoint(x, y) === window.__target._path];
}"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The demo streets and markets renamed with the corpus; the explorer map (English) and the
    district's HTML report (Chinese) written to files."""
    from geo.data.io import read_demo, read_targets
    from geo.engine.coverage import compute_coverage
    from geo.plan.tables import category_cells
    from layers.explorer import MapView, explorer_map
    from layers.offline import standalone_html
    from layers.report import ReportInputs, write_reports

    targets = read_targets()
    streets, facilities = read_demo(targets)
    markets = facilities[facilities["category"] == "market"].head(len(CORPUS)).copy()
    markets["name"], markets["address"] = list(CORPUS), list(CORPUS[::-1])
    markets["subtype"] = [CORPUS[(i + 5) % len(CORPUS)] for i in range(len(CORPUS))]
    streets = streets.assign(name=list(CORPUS[:len(streets)]),
                             name_en=list(CORPUS[len(CORPUS) - len(streets):]))
    result = compute_coverage(streets, markets, targets, resolution=8, categories=["market"])
    out = tmp_path_factory.mktemp("hostile")
    explorer = out / "explorer.html"
    view = MapView(category="market", radius_m=targets["market"].radius_m, lang="en",
                   category_names={"market": CORPUS[3]}, shown=("market",))
    explorer.write_text(standalone_html(explorer_map(
        view, streets=streets, facilities=markets, cells=category_cells(result, "market"))),
        encoding="utf-8")
    (report,) = write_reports(ReportInputs(result=result, facilities=markets, targets=targets,
                                           scenario=CORPUS[0]),
                              codes=[], formats=["html"], out_dir=out)
    return {"explorer": (explorer, "en"), "report": (report, "zh"), "markets": markets,
            "streets": streets}


def _expected_tooltip(row, lang: str) -> str:
    capacity = f"{row.capacity:,.0f}" if row.capacity == row.capacity else "–"
    words = ("Capacity", "Address") if lang == "en" else ("容量", "地址")
    return as_html_text(f"{row.name}{row.subtype} · {row.status}{words[0]} {capacity}"
                        f"{words[1]} {row.address}")


@pytest.mark.parametrize("which", ["explorer", "report"])
def test_hostile_names_stay_text_in_the_browser(page, hostile, which):
    path, lang = hostile[which]
    page.goto(path.as_uri())
    page.locator("path.street-boundary").nth(9).wait_for(timeout=30_000)
    assert page.locator("path.street-boundary").count() == 10
    assert page.locator("path.coverage-cell").count() > 0
    label_field = "name_en" if lang == "en" else "name"
    labels = page.locator(".street-label").evaluate_all("els => els.map(e => e.textContent)")
    assert sorted(labels) == sorted(as_html_text(n) for n in hostile["streets"][label_field])

    tooltip = page.locator(".leaflet-tooltip:not(.foliumtooltip)")  # a facility's
    for row in hostile["markets"].itertuples():
        assert page.evaluate(ZOOM_TO, [row.lat, row.lon]) < 1  # metres
        page.wait_for_function(TARGET_DRAWN, timeout=10_000)
        x, y, on_top = page.evaluate(TARGET_CENTRE)
        assert on_top, f"something covers the marker of {row.name[:40]!r}"
        page.mouse.move(x, y)
        tooltip.first.wait_for(timeout=10_000)
        assert tooltip.first.evaluate("e => e.textContent") == _expected_tooltip(row, lang)
        page.mouse.move(1, 1)
        tooltip.first.wait_for(state="detached", timeout=10_000)

    street_paths = page.locator("path.street-boundary")
    street_tooltip = page.locator(".leaflet-tooltip.foliumtooltip")
    for index, street in enumerate(hostile["streets"].itertuples()):
        street_paths.nth(index).dispatch_event("mouseover")
        text = street_tooltip.last.evaluate("e => e.textContent")  # the newest
        assert as_html_text(street.name) in text and as_html_text(street.name_en) in text
        street_paths.nth(index).dispatch_event("mouseout")

    assert page.locator("img[src='x']").count() == 0
    assert page.problems["dialogs"] == []
    assert page.problems["outside"] == []
    assert page.problems["console"] == []
