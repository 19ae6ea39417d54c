"""The `dataset` command's contract (show, import, boundaries, rollback, restore-demo), the
current version used by `coverage`, stale bases (exit 3), two imports at once, and the real
OSM files through `dataset import` and `coverage`."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from geo.data.coords import wgs84_to_gcj02
from geo.data.io import read_demo, read_targets
from geo.data.osm import OSM_CLASS_CATEGORIES
from geo.model.config import DEMO_BOUNDARIES
from tests.cli_helpers import run_cli
from tests.conftest import ROOT, shared_file, who

INSIDE = [(121.4000, 31.2150), (121.3800, 31.2050), (121.4200, 31.2200)]


def _json(done: subprocess.CompletedProcess, code: int = 0):
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout) if code == 0 else None


def _markets(path, *, prefix="m", names=("甲菜场", "", "丙菜场")) -> str:
    pd.DataFrame({"编号": [f"{prefix}{i}" for i in range(1, 4)], "名称": list(names),
                  "经度": [str(p[0]) for p in INSIDE], "纬度": [str(p[1]) for p in INSIDE],
                  "类型": ["菜市场"] * 3}).to_csv(path, index=False, encoding="gb18030")
    return str(path)


def _demo_counts() -> dict:
    _, demo = read_demo(read_targets())
    return {c: int((demo["category"] == c).sum()) for c in read_targets().keys()}


def test_show_is_version_0_the_demo_without_anything_stored():
    assert _json(run_cli("dataset", "show", "--format", "json")) == {
        "version": 0, "versions": [], "counts": {"boundaries": 10, **_demo_counts()},
        "demo": True}


def test_import_makes_a_version_that_show_and_coverage_use(tmp_path):
    env = {"CHANGNING_USER": "王规划"}
    done = _json(run_cli("dataset", "import", "--facilities", _markets(tmp_path / "m.csv"),
                         "--category-field", "类型", "--base-version", "0", "--format", "json",
                         env=env))
    assert done == {"accepted": 3, "rejected": 0, "reasons": {},
                    "warnings": {"unnamed: named from its category and id": 1},
                    "ignored": 0, "ignored_classes": {}, "version": 1}
    shown = _json(run_cli("dataset", "show", "--format", "json"))
    assert shown["version"] == 1 and shown["demo"] is True  # boundaries are still the demo's
    assert shown["counts"] == {"boundaries": 10, **_demo_counts(), "market": 3}
    [version] = shown["versions"]
    assert set(version) == {"version", "created", "user", "summary"}
    assert (version["version"], version["user"]) == (1, "王规划")
    assert version["summary"]["action"] == "import"
    assert version["summary"]["categories"]["market"]["after"] == 3
    coverage = _json(run_cli("coverage", "--format", "json"))
    assert sum(s["coverage"]["market"]["facilities"] for s in coverage["streets"]) == 3


def test_a_stale_base_version_exits_3_and_writes_nothing(tmp_path):
    _json(run_cli("dataset", "import", "--facilities", _markets(tmp_path / "a.csv"),
                  "--category-field", "类型", "--format", "json"))
    done = run_cli("dataset", "import", "--facilities", _markets(tmp_path / "b.csv", prefix="b"),
                   "--category-field", "类型", "--base-version", "0", "--format", "json")
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr == ("error: the data changed since it was checked (checked against "
                           "version 0, now version 1); nothing was saved: check again against "
                           "the current data\n")
    assert _json(run_cli("dataset", "show", "--format", "json"))["version"] == 1


def test_two_imports_on_the_same_base_one_applies_the_other_exits_3(tmp_path, state_dir):
    procs = [subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "dataset", "import", "--facilities",
         _markets(tmp_path / f"{p}.csv", prefix=p), "--category-field", "类型", "--mode",
         "append", "--base-version", "0", "--format", "json"], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for p in ("a", "b")]
    results = [(proc.wait(timeout=120), proc.stdout.read(), proc.stderr.read())
               for proc in procs]
    assert sorted(code for code, _, _ in results) == [0, 3], results
    winner = next(json.loads(out) for code, out, _ in results if code == 0)
    assert winner["version"] == 1
    shown = _json(run_cli("dataset", "show", "--format", "json"))
    assert (shown["version"], shown["counts"]["market"]) == (1, _demo_counts()["market"] + 3)


def test_rollback_and_restore_demo_are_new_versions(tmp_path):
    _json(run_cli("dataset", "import", "--facilities", _markets(tmp_path / "a.csv"),
                  "--category-field", "类型", "--mode", "replace-all", "--format", "json"))
    assert _json(run_cli("dataset", "show", "--format", "json"))["counts"]["charger"] == 0
    back = _json(run_cli("dataset", "rollback", "--to", "0", "--format", "json"))
    assert back["version"] == 2 and back["summary"]["action"] == "restore-demo"
    again = _json(run_cli("dataset", "rollback", "--to", "1", "--format", "json"))
    assert again["version"] == 3 and again["summary"]["detail"] == "to version 1"
    assert _json(run_cli("dataset", "show", "--format", "json"))["counts"]["market"] == 3
    restored = _json(run_cli("dataset", "restore-demo", "--format", "json"))
    assert restored["version"] == 4
    shown = _json(run_cli("dataset", "show", "--format", "json"))
    assert shown["demo"] is True and shown["counts"] == {"boundaries": 10, **_demo_counts()}
    assert [v["version"] for v in shown["versions"]] == [4, 3, 2, 1]
    missing = run_cli("dataset", "rollback", "--to", "9", "--format", "json")
    assert missing.returncode == 2
    assert "dataset version 9 is not kept (kept: 4, 3, 2, 1)" in missing.stderr


def test_a_rows_own_crs_column_is_honoured_by_import(tmp_path):
    lon, lat = np.array([p[0] for p in INSIDE]), np.array([p[1] for p in INSIDE])
    glon, glat = wgs84_to_gcj02(lon, lat)
    sheet = tmp_path / "mixed.csv"
    pd.DataFrame({"name": ["a", "b", "c"], "lon": [f"{glon[0]:.8f}", f"{lon[1]:.8f}", "121.4"],
                  "lat": [f"{glat[0]:.8f}", f"{lat[1]:.8f}", "31.2"],
                  "crs": ["gcj02", "", "EPSG:3857"]}).to_csv(sheet, index=False)
    out = tmp_path / "out"
    done = _json(run_cli("import", "--facilities", str(sheet), "--category", "market", "--out",
                         str(out)))
    assert done["reasons"] == {"unknown crs": 1}
    accepted = pd.read_csv(out / "facilities.csv", encoding="utf-8-sig")
    metres = Geod(ellps="WGS84").inv(accepted["lon"], accepted["lat"], lon[:2], lat[:2])[2]
    assert np.max(metres) < 1.0
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig", dtype=str)
    assert rejected["reason"].tolist() == ["unknown crs"]


def test_sheet_and_encoding_options(tmp_path):
    book = tmp_path / "lists.xlsx"
    frame = pd.read_csv(_markets(tmp_path / "m.csv"), encoding="gb18030", dtype=str)
    with pd.ExcelWriter(book) as writer:
        frame.to_excel(writer, sheet_name="菜场", index=False)
        frame.iloc[:1].to_excel(writer, sheet_name="备用", index=False)
    args = ["import", "--facilities", str(book), "--category-field", "类型", "--out",
            str(tmp_path / "o")]
    refused = run_cli(*args)
    assert refused.returncode == 2
    assert "2 sheets (菜场, 备用); choose one with --sheet" in refused.stderr
    assert _json(run_cli(*args, "--sheet", "备用"))["accepted"] == 1
    big5 = tmp_path / "big5.csv"
    big5.write_bytes("名稱,經度,緯度\n天山路菜市場,121.40,31.21\n".encode("big5"))
    _json(run_cli("import", "--facilities", str(big5), "--category", "market", "--out",
                  str(tmp_path / "b")))
    names = pd.read_csv(tmp_path / "b" / "facilities.csv", encoding="utf-8-sig")["name"]
    assert names.tolist() == ["天山路菜市場"]
    forced = run_cli("import", "--facilities", str(big5), "--category", "market", "--encoding",
                     "gb18030", "--out", str(tmp_path / "c"))  # the headers come out garbled
    assert forced.returncode == 2 and "looks garbled; give the right encoding" in forced.stderr


@pytest.mark.realdata
def test_the_real_osm_pois_through_dataset_import_with_a_category_map(tmp_path):
    pois = shared_file("data", "osm", "changning_pois.geojson")
    streets = shared_file("data", "osm", "changning_streets.geojson")
    bounds = _json(run_cli("dataset", "boundaries", "--boundaries", str(streets), "--format",
                           "json"))
    assert (bounds["version"], bounds["boundaries"], bounds["problems"]) == (1, 10, [])
    mapping = tmp_path / "classes.toml"
    mapping.write_text('[categories]\nmarketplace = "market"\ngreengrocer = "market"\n'
                       'sports_centre = "sports"\npitch = "sports"\nparking = "parking"\n'
                       'restaurant = "ignore"\n', encoding="utf-8")
    done = _json(run_cli("dataset", "import", "--facilities", str(pois), "--category-field",
                         "fclass", "--category-map", str(mapping), "--format", "json"))
    frame = gpd.read_file(pois)
    wanted = frame["fclass"].isin(list(OSM_CLASS_CATEGORIES))  # the map adds to these
    assert done["ignored_classes"] == {"restaurant": int((frame["fclass"] == "restaurant").sum())}
    assert done["accepted"] + done["rejected"] + done["ignored"] == len(frame)
    assert done["accepted"] >= int(wanted.sum())  # every mapped row lies in Changning
    unnamed = int((wanted & (frame["name"].fillna("").str.strip() == "")).sum())
    assert done["warnings"]["unnamed: named from its category and id"] == unnamed > 0
    duplicates = int(frame.loc[wanted, "osm_id"].astype(str).duplicated().sum())
    expected = {"unknown category": int((~wanted).sum()) - done["ignored"],
                "duplicate id": duplicates}
    assert done["reasons"] == {k: v for k, v in expected.items() if v}
    assert done["version"] == 2
    coverage = _json(run_cli("coverage", "--format", "json"))
    markets = sum(s["coverage"]["market"]["facilities"] for s in coverage["streets"])
    assert markets == int(frame["fclass"].isin(["greengrocer", "supermarket"]).sum()) == 59


@pytest.mark.realdata
def test_coverage_reads_unnamed_osm_markets_and_refuses_polygons_as_facilities(tmp_path):
    pois = gpd.read_file(shared_file("data", "osm", "changning_pois.geojson"))
    markets = pois[pois["fclass"].isin(["greengrocer", "supermarket"])]
    path = tmp_path / "markets.csv"
    pd.DataFrame({"id": markets["osm_id"], "name": markets["name"], "category": "market",
                  "lon": markets.geometry.x, "lat": markets.geometry.y}).to_csv(path, index=False)
    result = run_cli("coverage", "--facilities", str(path), "--format", "json")
    done = _json(result)
    assert sum(s["coverage"]["market"]["facilities"] for s in done["streets"]) == len(markets)
    unnamed = int(markets["name"].isna().sum())
    assert unnamed > 0
    assert (f"warning: {path}: unnamed: named from its category and id: {unnamed}\n"
            in result.stderr)
    streets = shared_file("data", "osm", "changning_streets.geojson")
    refused = run_cli("coverage", "--facilities", str(streets), "--format", "json")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "missing field 'category'" in refused.stderr and "changning_streets.geojson" in \
        refused.stderr


@pytest.mark.parametrize("command", ["import", "boundaries"])
def test_a_change_landing_while_the_data_is_read_is_refused_not_lost(tmp_path, state_dir,
                                                                       monkeypatch, command):
    """Without --base-version the base is the version read: another import that lands between
    reading the data and saving exits 3 instead of being overwritten."""
    import cli
    from geo.data.dataset import with_facilities
    from geo.data.dataset_store import DatasetStore

    other = gpd.GeoDataFrame({"id": ["other-1"], "name": ["乙"], "category": ["market"],
                              "subtype": [""], "capacity": [np.nan], "address": [""],
                              "lon": [121.40], "lat": [31.215], "crs": ["wgs84"],
                              "status": ["existing"], "source": [""]},
                             geometry=gpd.points_from_xy([121.40], [31.215]), crs="EPSG:4326")
    read, landed = DatasetStore.read, []

    def read_then_another_lands(self, targets, **kwargs):
        data = read(self, targets, **kwargs)
        if not landed:
            landed.append(self.save(with_facilities(data, other, mode="append", origin="o"),
                                    base_version=self.current_version(), who=who("other"),
                                    summary={}))
        return data

    monkeypatch.setattr(DatasetStore, "read", read_then_another_lands)
    args = (["import", "--facilities", _markets(tmp_path / "a.csv"), "--category-field", "类型",
             "--mode", "append"] if command == "import" else
            ["boundaries", "--boundaries", str(DEMO_BOUNDARIES)])
    assert cli.main(["dataset", *args, "--format", "json"]) == 3
    monkeypatch.setattr(DatasetStore, "read", read)
    facilities = DatasetStore().read(read_targets()).facilities
    assert landed == [1] and DatasetStore().current_version() == 1
    assert "other-1" in set(facilities["id"])


def test_a_store_that_is_not_a_database_is_set_aside_by_restore_demo(state_dir):
    damaged = state_dir / "dataset.sqlite"
    damaged.write_bytes(b"this is not a database" * 100)
    shown = run_cli("dataset", "show", "--format", "json")
    assert shown.returncode == 2 and "Traceback" not in shown.stderr
    assert "restoring the demo data" in shown.stderr and "sets the file aside" in shown.stderr
    restored = _json(run_cli("dataset", "restore-demo", "--format", "json"))
    assert restored["version"] == 1
    [aside] = state_dir.glob("dataset.sqlite.damaged-*")
    assert aside.read_bytes() == b"this is not a database" * 100
    assert _json(run_cli("dataset", "show", "--format", "json"))["demo"] is True


def test_show_names_the_kept_versions_when_the_newest_cannot_be_loaded(tmp_path, state_dir):
    import sqlite3

    _json(run_cli("dataset", "import", "--facilities", _markets(tmp_path / "a.csv"),
                  "--category-field", "类型", "--format", "json"))
    _json(run_cli("dataset", "import", "--facilities", _markets(tmp_path / "b.csv", prefix="b"),
                  "--category-field", "类型", "--mode", "append", "--format", "json"))
    with sqlite3.connect(state_dir / "dataset.sqlite") as conn:
        key = conn.execute("SELECT facilities FROM versions WHERE version = 2").fetchone()[0]
        conn.execute("UPDATE layers SET payload = x'00' WHERE key = ?", (key,))
    shown = run_cli("dataset", "show", "--format", "json")
    assert shown.returncode == 2
    assert shown.stderr.endswith("kept versions: 2, 1; go back with python cli.py dataset "
                                 "rollback --to N (0: the demo data)\n")
    assert _json(run_cli("dataset", "rollback", "--to", "1", "--format", "json"))["version"] == 3
