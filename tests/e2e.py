"""Starting the real app for browser tests and benchmarks: ``streamlit run`` on a free localhost
port, driven by Debian's Chromium through Playwright (no browser download, no network)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
#: Flags that keep Chromium off the network (it has none here) and quiet.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_ADDRESS = "<script>alert(2)</script>"
#: Where the Markdown corpus's image and links point: a host the browser must never ask.
IMAGE_HOST = "127.0.0.2"
#: User text that Streamlit's Markdown would render (an image fetched, links, colour, an icon,
#: maths, emphasis, raw HTML, a heading, a list, code, a bare link, an emoji code, line breaks).
MARKDOWN_CORPUS = (
    f"![x](http://{IMAGE_HOST}:9/x.png)",
    "[link](http://x)",
    ":red[red]",
    ":material/home:",
    "$x^2$",
    "**bold**",
    HOSTILE_NAME,
    "# h",
    "- item",
    "`code`",
    f"see http://{IMAGE_HOST}:9/y.png or www.example.com, mail a@b.com :smile:",
    "a\\b ~~s~~ | t | _u_ 1. x &amp; &#58;",
    "line 1\n# line 2\n    - line 3",
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def data_dir_with_hostile_facility(target: Path) -> Path:
    """A copy of the demo data dir plus one planned market named with HTML markup."""
    shutil.copytree(ROOT / "data", target)
    markets = target / "facilities" / "markets_demo.csv"
    with markets.open("a", encoding="utf-8") as handle:
        handle.write(f'MKT-999,{HOSTILE_NAME},market,ordinary,50,"{HOSTILE_ADDRESS}",'
                     "121.4005,31.2105,wgs84,planned,test fixture\n")
    return target


@contextlib.contextmanager
def streamlit_app(data_dir: Path | None = None, *, timeout: float = 90,
                  script: Path = ROOT / "app.py") -> Iterator[str]:
    """Run ``streamlit run`` of ``script`` (the app by default) on a free port, with its own
    empty state directory (the scenario store); yield its base URL; stop it after."""
    port = free_port()
    env = dict(os.environ)
    if data_dir is not None:
        env["CHANGNING_DATA_DIR"] = str(data_dir)
    state = tempfile.TemporaryDirectory(prefix="changning-state-")
    env["CHANGNING_STATE_DIR"] = state.name
    command = [sys.executable, "-m", "streamlit", "run", str(script),
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, timeout)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        state.cleanup()


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{process.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout} s")


def launch_chromium(playwright):
    """Debian's Chromium, headless, kept off the network."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def block_outside_requests(page, seen: list[str]) -> None:
    """Abort every request that does not go to 127.0.0.1 and record its URL in ``seen``."""
    def handle(route) -> None:
        request_url = route.request.url
        if request_url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "about:", "file:",
                                   "blob:")):
            route.continue_()
        else:
            seen.append(request_url)
            route.abort()
    page.route("**/*", handle)


def map_frame(page, *, timeout: float = 60_000):
    """The frame of the page's Leaflet map, once its street boundaries are drawn."""
    page.wait_for_selector("iframe", timeout=timeout)
    frame = page.frame_locator("iframe").first
    frame.locator("path.street-boundary").first.wait_for(timeout=timeout)
    return frame



def wait_idle(page) -> None:
    """Until Streamlit has finished running the script."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=90_000)


def open_page(page, app_url: str, link: str, heading: str) -> None:
    """Open the app at its root and go to a page through the sidebar, as a user does (a deep
    link makes Streamlit's own client probe and log 404s); wait for its ``heading``."""
    page.goto(f"{app_url}/")
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()
    page.get_by_role("heading", name=heading).wait_for(timeout=90_000)
    wait_idle(page)
