"""Paths, coordinate reference systems and defaults, in one place."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "BOUNDARIES_DIR",
    "CATEGORIES",
    "CHANGNING_MAX_COLUMNS",
    "CHANGNING_MAX_ROWS",
    "CHANGNING_MAX_UNPACKED_MB",
    "CHANGNING_MAX_UPLOAD_MB",
    "DATASET_DB",
    "DATASET_FILE",
    "DATASET_VERSIONS_KEPT",
    "DATA_DIR",
    "DEFAULT_RESOLUTION",
    "DEMO_BOUNDARIES",
    "DEMO_FACILITY_FILES",
    "DEMO_NETWORK",
    "DEMO_POPULATION",
    "FACILITIES_DIR",
    "FACILITY_STATUSES",
    "INPUT_CRS",
    "MAX_RESOLUTION",
    "METRIC_CRS",
    "MIN_RESOLUTION",
    "REPORT_FORMATS",
    "ROOT",
    "SCENARIO_DB",
    "SESSION_MINUTES",
    "SIGNIN_LOCK_MINUTES",
    "SIGNIN_MAX_FAILURES",
    "STATE_DB",
    "STATE_DIR",
    "STORAGE_CRS",
    "TARGETS_FILE",
    "TEMP_DIR",
]

ROOT = Path(__file__).resolve().parents[2]
#: Data directory; ``CHANGNING_DATA_DIR`` points the app at another one.
DATA_DIR = Path(os.environ.get("CHANGNING_DATA_DIR", ROOT / "data"))
BOUNDARIES_DIR = DATA_DIR / "boundaries"
FACILITIES_DIR = DATA_DIR / "facilities"
TARGETS_FILE = DATA_DIR / "targets.toml"

#: Where the app keeps what users save (the scenario store); ``CHANGNING_STATE_DIR`` moves it.
STATE_DIR = Path(os.environ.get("CHANGNING_STATE_DIR", ROOT / "var"))
SCENARIO_DB = STATE_DIR / "scenarios.sqlite"
#: The versions of the working dataset (see geo.data.dataset_store); ``CHANGNING_DATASET_VERSIONS``
#: overrides how many are kept.
DATASET_DB = STATE_DIR / "dataset.sqlite"
DATASET_VERSIONS_KEPT = 20
#: Users (local accounts), failed sign-ins and the audit trail (see geo.data.accounts and
#: geo.data.audit).
STATE_DB = STATE_DIR / "state.sqlite"
#: Sign-in: a session lasts this long (``CHANGNING_SESSION_MINUTES``); after this many failed
#: attempts for a name within the lock time, that name cannot sign in until the lock time has
#: passed (``CHANGNING_SIGNIN_MAX_FAILURES``, ``CHANGNING_SIGNIN_LOCK_MINUTES``).
SESSION_MINUTES = 480
SIGNIN_MAX_FAILURES = 5
SIGNIN_LOCK_MINUTES = 15
#: The single imported dataset of earlier releases, moved into DATASET_DB on first use.
DATASET_FILE = STATE_DIR / "dataset.gpkg"
#: Unpacked uploads and other temporary files; what a killed process left is removed at the
#: next start (see geo.data.files.clean_stale_temp).
TEMP_DIR = STATE_DIR / "tmp"

#: Limits on a user's file, each overridable by an environment variable of the same name:
#: its size, its rows, and the bytes a zip (or an XLSX, itself a zip) may unpack to.
CHANGNING_MAX_UPLOAD_MB = 50
CHANGNING_MAX_ROWS = 200_000
CHANGNING_MAX_COLUMNS = 200
CHANGNING_MAX_UNPACKED_MB = 200

DEMO_BOUNDARIES = BOUNDARIES_DIR / "changning_streets_demo.geojson"
#: The demo's residential areas (residents and 60+ counts) and walking network.
DEMO_POPULATION = DATA_DIR / "population" / "changning_residents_demo.geojson"
DEMO_NETWORK = DATA_DIR / "network" / "changning_walk_demo.geojson"
#: One demo file a category, in the order the app lists them.
DEMO_FACILITY_FILES = {
    "charger": FACILITIES_DIR / "chargers_demo.csv",
    "market": FACILITIES_DIR / "markets_demo.csv",
    "sports": FACILITIES_DIR / "sports_demo.csv",
    "canteen": FACILITIES_DIR / "canteens_demo.csv",
    "parking": FACILITIES_DIR / "parking_demo.csv",
}
CATEGORIES = tuple(DEMO_FACILITY_FILES)

#: Stored and displayed: WGS-84 longitude/latitude in degrees.
STORAGE_CRS = "EPSG:4326"
#: Distances and areas: UTM zone 51N, metres (fits Shanghai).
METRIC_CRS = "EPSG:32651"

DEFAULT_RESOLUTION = 10
MIN_RESOLUTION = 7
MAX_RESOLUTION = 12

#: The formats a report pack can write.
REPORT_FORMATS = ("pdf", "png", "html", "xlsx", "csv", "geojson", "gpkg")

#: Coordinate systems a facility row may declare in its ``crs`` field.
INPUT_CRS = ("wgs84", "gcj02", "bd09")
FACILITY_STATUSES = ("existing", "planned", "closed")
