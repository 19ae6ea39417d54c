"""Shared fixtures: tiny synthetic streets and facilities, and the real data in ../shared."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# No test touches the developer's var/: the state of every process the tests start (servers,
# the CLI) lives in a folder of this session unless a test gives its own.
os.environ["CHANGNING_STATE_DIR"] = tempfile.mkdtemp(prefix="changning-test-state-")

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo.model.access import Principal
from geo.model.config import METRIC_CRS, STORAGE_CRS
from geo.model.targets import targets_from_mapping
from tests import e2e

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"
#: A point in Changning, in UTM 51N metres: the origin of the synthetic fixtures.
ORIGIN_X, ORIGIN_Y = 347_000.0, 3_453_000.0

_TO_WGS = Transformer.from_crs(METRIC_CRS, STORAGE_CRS, always_xy=True)


def metric_to_lonlat(dx: float | np.ndarray, dy: float | np.ndarray) -> tuple:
    """WGS-84 lon/lat of points ``dx``/``dy`` metres east/north of the fixture origin."""
    return _TO_WGS.transform(ORIGIN_X + np.asarray(dx, dtype=float),
                             ORIGIN_Y + np.asarray(dy, dtype=float))


def shared_file(*parts: str) -> Path:
    """A file of ../shared, or skip the test with the reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} absent: the real reference data in ../shared is not on this machine")
    return path


@pytest.fixture
def targets():
    """Radius 300 m for market, 500 m for parking; target 90% for both."""
    return targets_from_mapping({
        "defaults": {"target_share": 0.9},
        "categories": {
            "market": {"radius_m": 300, "label_zh": "菜市场", "label_en": "Market"},
            "parking": {"radius_m": 500, "target_share": 0.5},
        },
    })


@pytest.fixture
def two_streets() -> gpd.GeoDataFrame:
    """Two adjacent 1 km × 1 km squares (west A, east B) in EPSG:4326, 1,000 and 3,000 people."""
    boxes = [shapely.box(ORIGIN_X, ORIGIN_Y, ORIGIN_X + 1000, ORIGIN_Y + 1000),
             shapely.box(ORIGIN_X + 1000, ORIGIN_Y, ORIGIN_X + 2000, ORIGIN_Y + 1000)]
    return gpd.GeoDataFrame(
        {"code": ["310105900001", "310105900002"], "name": ["甲街道", "乙街道"],
         "name_en": ["A", "B"], "population": [1000.0, 3000.0]},
        geometry=boxes, crs=METRIC_CRS,
    ).to_crs(STORAGE_CRS)


def who(name: str = "tester", role: str = "admin", *, source: str = "local") -> Principal:
    """A principal for calling the functions that check roles: ``role`` as ``users add
    --role`` takes it (``street:CODE[,CODE]`` included)."""
    return Principal.with_role(name, role, source=source)


def facility_frame(rows: list[dict]) -> pd.DataFrame:
    """A facilities CSV-like frame of strings; ``dx``/``dy`` metres from the origin become
    lon/lat."""
    records = []
    for row in rows:
        lon, lat = metric_to_lonlat(row.pop("dx"), row.pop("dy"))
        records.append({"lon": f"{float(lon):.9f}", "lat": f"{float(lat):.9f}", **row})
    return pd.DataFrame(records).astype(str)


@pytest.fixture
def market_and_parking(targets):
    """A market in the west square's centre (80 stalls) and a car park in the east one's
    (100 spaces), normalised, EPSG:4326."""
    from geo.data.schema import normalize_facilities

    return normalize_facilities(facility_frame([
        {"id": "m1", "name": "西菜场", "category": "market", "capacity": "80", "dx": 500,
         "dy": 500},
        {"id": "p1", "name": "停车", "category": "parking", "capacity": "100", "dx": 1500,
         "dy": 500},
    ]), known_categories=targets.keys())


@pytest.fixture(autouse=True)
def state_dir(tmp_path_factory, monkeypatch) -> Path:
    """Each test's own state folder (the dataset versions, the legacy dataset file, temporary
    files): pages and functions under test show the embedded demo unless the test stores a
    dataset itself."""
    from geo.model import config

    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setattr(config, "DATASET_DB", folder / "dataset.sqlite")
    monkeypatch.setattr(config, "DATASET_FILE", folder / "dataset.gpkg")
    monkeypatch.setattr(config, "TEMP_DIR", folder / "tmp")
    monkeypatch.setattr(config, "STATE_DB", folder / "state.sqlite")
    monkeypatch.setenv("CHANGNING_STATE_DIR", str(folder))
    return folder


# -- the browser tests' browser and page (helpers in tests/e2e.py) ------------------------------


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium under Playwright, for one test module."""
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        chromium = e2e.launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors, dialogs and attempts to leave 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.problems = {"console": [], "dialogs": [], "outside": []}
    page.on("console", lambda m: m.type == "error" and page.problems["console"].append(m.text))
    page.on("pageerror", lambda e: page.problems["console"].append(str(e)))

    def on_dialog(dialog) -> None:
        page.problems["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    e2e.block_outside_requests(page, page.problems["outside"])
    yield page
    context.close()
