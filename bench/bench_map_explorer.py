"""Benchmark: time from page load until the Map Explorer has drawn, in headless Chromium.

    python bench/bench_map_explorer.py [--runs 5]

Demo data, all layers (every facility category switched on), resolution 10. Starts
``streamlit run`` on a free localhost port and drives Debian's Chromium through Playwright.
Goals (issue 3): drawn within 3 s of page load; map HTML at most 3 MB. Baseline, in the same
process: the same map HTML opened straight from a file, without Streamlit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e import launch_chromium, streamlit_app  # noqa: E402

DRAWN = "path.street-boundary"
CELLS = "path.coverage-cell"


SWITCH_ALL_ON = """() => new Promise(done => {
    const start = performance.now();
    document.querySelectorAll('.leaflet-control-layers-overlays input:not(:checked)')
        .forEach(box => box.click());
    requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - start)));
})"""


def switch_all_layers_on(frame) -> float:
    """Tick every unticked overlay in the layer control at once; seconds until painted."""
    return frame.locator("body").evaluate(SWITCH_ALL_ON) / 1000


def load_in_app(browser, url: str) -> tuple[float, float, int]:
    """Seconds until the map has drawn its streets and cells, then with all layers on, and
    the map HTML's size in bytes."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    start = time.perf_counter()
    page.goto(f"{url}/map_explorer")
    page.wait_for_selector("iframe", timeout=120_000)
    frame = page.frame_locator("iframe").first
    frame.locator(DRAWN).nth(9).wait_for(timeout=120_000)
    frame.locator(CELLS).first.wait_for(timeout=120_000)
    drawn = time.perf_counter() - start
    all_layers = drawn + switch_all_layers_on(frame)
    frame.locator(".facility-cluster-parking, path.facility-parking").first.wait_for()
    size = len(page.locator("iframe").first.get_attribute("srcdoc").encode("utf-8"))
    page.close()
    return drawn, all_layers, size


def load_from_file(browser, html: str) -> float:
    """Seconds until the same map, opened as a file, has drawn its streets and cells."""
    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False,
                                     encoding="utf-8") as handle:
        handle.write(html)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    start = time.perf_counter()
    page.goto(Path(handle.name).as_uri())
    page.locator(DRAWN).nth(9).wait_for(timeout=60_000)
    page.locator(CELLS).first.wait_for(timeout=60_000)
    seconds = time.perf_counter() - start
    page.close()
    Path(handle.name).unlink()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with streamlit_app() as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        cold = load_in_app(browser, url)  # first load computes and caches the coverage
        warm = [load_in_app(browser, url) for _ in range(args.runs)]
        page = browser.new_page()
        page.goto(f"{url}/map_explorer")
        page.wait_for_selector("iframe", timeout=120_000)
        html = page.locator("iframe").first.get_attribute("srcdoc")
        page.close()
        baseline = [load_from_file(browser, html) for _ in range(args.runs)]
        browser.close()
    drawn = statistics.median(w[0] for w in warm)
    all_layers = statistics.median(w[1] for w in warm)
    file_only = statistics.median(baseline)
    print(f"cold first load (computes coverage): drawn in {cold[0]:.2f} s")
    print(f"warm load, median of {args.runs}: drawn in {drawn:.2f} s; with every layer "
          f"switched on {all_layers:.2f} s (goal ≤ 3 s)")
    print(f"baseline, same map HTML from a file: drawn in {file_only:.2f} s; "
          f"app / file ratio {drawn / file_only:.1f}x")
    print(f"map HTML: {warm[-1][2] / 1e6:.2f} MB (goal ≤ 3 MB)")


if __name__ == "__main__":
    main()
