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
                  script: Path = ROOT / "app.py", port: int | None = None,
                  state_dir: Path | None = None, extra_args: tuple[str, ...] = (),
                  env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``streamlit run`` of ``script`` (the app by default) on ``port`` (a free one by
    default), its state in ``state_dir`` (its own empty one by default), with ``extra_args``
    (e.g. ``--secrets.files``) and ``env`` added; yield its base URL; stop it after."""
    port = port or free_port()
    environment = {**os.environ, **(env or {})}
    if data_dir is not None:
        environment["CHANGNING_DATA_DIR"] = str(data_dir)
    state = tempfile.TemporaryDirectory(prefix="changning-state-")
    environment["CHANGNING_STATE_DIR"] = str(state_dir or state.name)
    command = [sys.executable, "-m", "streamlit", "run", str(script),
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none", *extra_args]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_answering(f"{url}/_stcore/health", process, timeout, what="streamlit")
        yield url
    finally:
        _stop(process)
        state.cleanup()


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@contextlib.contextmanager
def oidc_provider(*, timeout: float = 30) -> Iterator[str]:
    """The ``oidc-provider-mock`` OpenID Connect provider on a free 127.0.0.1 port (any client
    id and secret accepted; a user's claims set with :func:`set_oidc_user`); its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock",
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_answering(f"{url}/.well-known/openid-configuration", process, timeout,
                        what="the OIDC mock")
        yield url
    finally:
        _stop(process)


def set_oidc_user(provider: str, sub: str, claims: dict) -> None:
    """Give user ``sub`` of the mock provider these claims (e-mail, role, …)."""
    import json

    request = urllib.request.Request(f"{provider}/users/{sub}", method="PUT",
                                     data=json.dumps(claims).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 204), response.status


def oidc_secrets(folder: Path, *, provider: str, app_port: int) -> Path:
    """A secrets.toml with ``[auth]`` for the mock provider and the app on ``app_port``."""
    path = folder / "secrets.toml"
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"\n'
        'cookie_secret = "test-cookie-secret-0123456789-abcdefghijklmnop"\n'
        'client_id = "changning-test"\n'
        'client_secret = "test-client-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8")
    return path


def _wait_answering(url: str, process: subprocess.Popen, timeout: float, *, what: str) -> None:
    """Until ``url`` answers 200; the process's output in the error when it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{process.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{what} did not answer at {url} within {timeout} s")


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
