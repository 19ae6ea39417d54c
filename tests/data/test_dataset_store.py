"""The versioned dataset store: round trip, summaries, stale bases refused, bounded history,
rollback, restore, damaged data named, the earlier release's GeoPackage migrated, and saves
killed at random moments leaving exactly the old or the new version."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pyogrio
import pytest

from geo.data.dataset import DEMO, demo_dataset, with_boundaries, with_facilities
from geo.data.dataset_store import DatasetStore, StaleVersion, change_summary
from geo.data.io import read_demo, read_targets
from geo.data.schema import normalize_facilities
from geo.model.errors import InputError
from tests.conftest import ROOT, facility_frame, who


def _markets(targets, *ids: str):
    return normalize_facilities(facility_frame([
        {"id": i, "name": f"菜场{i}", "category": "market", "dx": 100 * n, "dy": 100}
        for n, i in enumerate(ids, start=1)]), known_categories=targets.keys())


@pytest.fixture
def store(tmp_path) -> DatasetStore:
    return DatasetStore(tmp_path / "dataset.sqlite")


@pytest.fixture
def base(two_streets, market_and_parking):
    return demo_dataset(two_streets, market_and_parking)


def _save(store, dataset, *, base, name="tester"):
    return store.save(dataset, base_version=base, who=who(name),
                      summary={"action": "test", "detail": "", "categories": {}})


def test_without_a_version_the_store_is_the_demo_and_writes_no_file(store):
    targets = read_targets()
    assert store.current_version() == 0 and store.versions() == []
    assert store.read(targets).all_demo
    assert not store.path.exists()


def test_a_version_reads_back_as_saved_with_who_and_what(store, targets, two_streets, base):
    official = with_boundaries(base, two_streets, origin="官方边界.gpkg")
    summary = change_summary(base, official, action="boundaries", detail="官方边界.gpkg")
    assert summary == {"action": "boundaries", "detail": "官方边界.gpkg", "categories": {},
                       "boundaries": {"before": 2, "after": 2}}
    assert store.save(official, base_version=0, who=who("张三"), summary=summary) == 1
    back = store.read(targets)
    assert back.boundaries_origin == "官方边界.gpkg"
    assert back.facility_origins == {"market": (DEMO,), "parking": (DEMO,)}
    pd.testing.assert_frame_equal(pd.DataFrame(back.facilities.drop(columns="geometry")),
                                  pd.DataFrame(base.facilities.drop(columns="geometry")),
                                  check_dtype=False)
    assert back.streets.geometry.geom_equals_exact(two_streets.geometry, tolerance=1e-12).all()
    [info] = store.versions()
    assert (info.version, info.user, info.summary) == (1, "张三", summary)
    assert info.created.endswith("+00:00")


def test_the_summary_counts_what_changed_per_category(targets, base):
    markets = _markets(targets, "m1", "m7", "m8")
    markets.loc[markets["id"] == "m1", "name"] = "改名"
    after = with_facilities(base, markets, mode="replace_categories", origin="菜场.csv")
    assert change_summary(base, after, action="import", detail="菜场.csv")["categories"] == {
        "market": {"before": 1, "after": 3, "added": 2, "removed": 0, "changed": 1}}


def test_a_save_on_a_stale_version_is_refused_and_writes_nothing(store, targets, base):
    _save(store, base, base=0)
    second = with_facilities(base, _markets(targets, "m7"), mode="append", origin="a.csv")
    _save(store, second, base=1)
    with pytest.raises(StaleVersion, match=r"checked against version 1, now version 2"):
        _save(store, second, base=1)
    assert [v.version for v in store.versions()] == [2, 1]


def test_old_versions_are_pruned_with_their_unshared_data(store, targets, base, monkeypatch):
    monkeypatch.setenv("CHANGNING_DATASET_VERSIONS", "3")
    for number in range(1, 6):
        dataset = with_facilities(base, _markets(targets, f"m{10 + number}"), mode="append",
                                  origin=f"{number}.csv")
        assert _save(store, dataset, base=number - 1) == number
    assert [v.version for v in store.versions()] == [5, 4, 3]
    with sqlite3.connect(store.path) as conn:
        layers = conn.execute("SELECT COUNT(*) FROM layers").fetchone()[0]
    assert layers == 4  # the streets once, three facility layers
    with pytest.raises(InputError, match=r"dataset version 1 is not kept \(kept: 5, 4, 3\)"):
        store.read(targets, version=1)
    for number in (-1, 2**64):  # 2**64 was an OverflowError from sqlite (exit 70)
        with pytest.raises(InputError, match=rf"dataset version {number} is not kept"):
            store.rollback(number, targets, who=who("x"))
    for text in ("1", "²"):  # "²".isdigit() but int("²") was a ValueError (exit 70)
        monkeypatch.setenv("CHANGNING_DATASET_VERSIONS", text)
        with pytest.raises(InputError, match=f"CHANGNING_DATASET_VERSIONS='{text}': a whole "
                                             f"number ≥ 2"):
            _save(store, base, base=5)


def test_rollback_and_restore_are_new_versions(store, targets, base):
    _save(store, base, base=0)
    _save(store, with_facilities(base, _markets(targets, "m7"), mode="replace_all",
                                 origin="x.csv"), base=1)
    assert store.rollback(1, targets, who=who("李四")) == 3
    assert sorted(store.read(targets).facilities["id"]) == ["m1", "p1"]
    assert store.versions()[0].summary["action"] == "rollback"
    assert store.versions()[0].summary["detail"] == "to version 1"
    demo_targets = read_targets()
    assert store.restore_demo(demo_targets, who=who("李四")) == 4
    assert store.read(demo_targets).all_demo
    assert store.rollback(0, demo_targets, who=who("李四")) == 5


def test_damaged_data_is_named_and_the_demo_can_still_be_restored(store, base):
    targets = read_targets()
    _save(store, base, base=0)
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE layers SET payload = x'00010203'")
    with pytest.raises(InputError, match=r"dataset version 1 \(.*\): cannot be read"):
        store.read(targets)
    assert store.restore_demo(targets, who=who("x")) == 2
    assert store.read(targets).all_demo


@pytest.mark.parametrize("origins", ["[1]", '{"boundaries": "x"}', '{"boundaries": "x", '
                                     '"facilities": {"market": 5}}'])
def test_damaged_origins_are_named_too(store, base, origins):
    """Origins that are JSON but not the shape saved were a TypeError or KeyError outside the
    net: exit 70, and a traceback on every page past the guard."""
    targets = read_targets()
    _save(store, base, base=0)
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE versions SET origins = ?", (origins,))
    with pytest.raises(InputError, match=r"dataset version 1 \(.*\): cannot be read"):
        store.read(targets)
    assert store.restore_demo(targets, who=who("x")) == 2


def test_a_version_whose_category_lost_its_target_fails_the_rules(store, base):
    _save(store, base, base=0)
    with pytest.raises(InputError, match=r"category 'market' is unknown"):
        store.read(read_targets(), known_categories=["parking"])


def test_the_earlier_release_geopackage_is_migrated_once(store, tmp_path, base):
    targets = read_targets()
    legacy = tmp_path / "dataset.gpkg"
    streets, facilities = read_demo(targets)
    streets.to_file(legacy, layer="streets", driver="GPKG")
    facilities.iloc[:5].to_file(legacy, layer="facilities", driver="GPKG")
    origins = '{"boundaries": "demo", "facilities": {"charger": ["old.csv"]}}'
    pyogrio.write_dataframe(pd.DataFrame({"key": ["origins"], "value": [origins]}), legacy,
                            layer="about")
    assert store.migrate_legacy(legacy, targets, user="x") == 1
    assert not legacy.exists() and (tmp_path / "dataset.gpkg.migrated").exists()
    assert len(store.read(targets).facilities) == 5
    assert store.versions()[0].summary["action"] == "migrate"
    assert store.migrate_legacy(legacy, targets, user="x") is None


KILLED_SAVER = """
import sys
sys.path.insert(0, {root!r})
from geo.data.dataset import demo_dataset, with_facilities
from geo.data.dataset_store import DatasetStore
from geo.data.io import read_demo, read_targets
from geo.model.access import Principal
targets = read_targets()
streets, facilities = read_demo(targets)
store = DatasetStore(sys.argv[1])
big = demo_dataset(streets, facilities)
while True:
    base = store.current_version()
    dataset = with_facilities(big, facilities.assign(id=facilities["id"] + f"-v{{base}}"),
                              mode="replace_all", origin=f"v{{base}}")
    number = store.save(dataset, base_version=base, who=Principal("saver", "admin"),
                        summary={{"n": base + 1}})
    print(number, flush=True)
"""


def test_saves_killed_at_any_moment_leave_the_old_or_the_new_version(tmp_path):
    targets = read_targets()
    db = tmp_path / "killed.sqlite"
    reported = 0
    for delay in (0.6, 0.9, 1.3, 1.7, 2.2):
        proc = subprocess.Popen([sys.executable, "-c", KILLED_SAVER.format(root=str(ROOT)),
                                 str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=ROOT)
        time.sleep(delay + 2.5)  # the imports take a while; then saves run back to back
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL, err
        numbers = [int(line) for line in out.split()]
        reported = max([reported, *numbers])
        store = DatasetStore(db)
        current = store.current_version()
        assert current >= reported  # nothing committed is lost
        dataset = store.read(targets)  # the newest version is whole
        assert dataset.facility_origins == {c: (f"v{current - 1}",)
                                            for c in dataset.facility_origins}
        assert set(dataset.facilities["id"].str.split("-v").str[1]) == {str(current - 1)}
    assert reported >= 3, "the saver never got to save: the test proves nothing"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("killed")) == []


# --- where residents live and the walking network, versioned with the data ---------------------

def _layer_and_network():
    import geopandas as gpd
    import numpy as np
    import shapely

    from geo.engine.network import build_network
    from geo.engine.population import PopulationLayer
    from geo.model.config import STORAGE_CRS
    from tests.conftest import ORIGIN_X, ORIGIN_Y, metric_to_lonlat

    lon, lat = metric_to_lonlat([100.0, 200.0], [100.0, 300.0])
    layer = PopulationLayer(
        polygons=gpd.GeoDataFrame({"residents": [600.0], "elderly": [150.0]},
                                  geometry=[shapely.box(lon[0], lat[0], lon[1], lat[1])],
                                  crs=STORAGE_CRS),
        points=pd.DataFrame({"lon": [lon[1]], "lat": [lat[1]], "residents": [40.0],
                             "elderly": [10.0]}),
        has_elderly=True, source="居委.gpkg", ignored={})
    network = build_network(
        pd.DataFrame({"id": ["a", "b", "c"], "x": ORIGIN_X + np.array([0.0, 500, 500]),
                      "y": ORIGIN_Y + np.array([0.0, 0, 400])}),
        pd.DataFrame({"u": ["a", "b"], "v": ["b", "c"], "length": [np.nan, 450.0],
                      "geometry": [None, shapely.LineString([(ORIGIN_X + 500, ORIGIN_Y),
                                                             (ORIGIN_X + 600, ORIGIN_Y + 200),
                                                             (ORIGIN_X + 500, ORIGIN_Y + 400)])]}),
        max_snap_m=80.0)
    return layer, network


def test_population_and_network_are_stored_with_the_version(store, targets, base):
    from geo.data.dataset import with_network, with_population
    from geo.engine.network import snap_xy

    layer, network = _layer_and_network()
    dataset = with_network(with_population(base, layer, origin="居委.gpkg"), network,
                           origin="路网.graphml")
    summary = change_summary(base, dataset, action="network", detail="路网.graphml")
    assert summary["population"] == {"before": None, "after": 640.0}
    assert summary["network"] == {"before": None, "after": 2}
    assert _save(store, dataset, base=0) == 1
    back = store.read(targets)
    assert (back.population_origin, back.network_origin) == ("居委.gpkg", "路网.graphml")
    assert back.population.has_elderly and back.population.total("elderly") == 160.0
    pd.testing.assert_frame_equal(back.population.points, layer.points)
    assert back.population.polygons.geometry.iloc[0].equals(layer.polygons.geometry.iloc[0])
    assert back.network.max_snap_m == 80.0
    assert back.network.edge_length.tolist() == network.edge_length.tolist()
    probe = network.xy[1][None, :] + [[80.0, 150.0]]  # beside the bent edge b–c
    again, before = snap_xy(back.network, probe), snap_xy(network, probe)
    assert again.edge.tolist() == before.edge.tolist() == [1]
    np.testing.assert_array_equal(again.to_u, before.to_u)
    np.testing.assert_array_equal(again.distance_m, before.distance_m)
    # dropping the network is a new version; the one before still has it
    assert _save(store, with_network(back, None, origin=""), base=1) == 2
    assert store.read(targets).network is None
    assert store.read(targets, version=1).network is not None


def test_a_store_from_before_networks_reads_and_takes_them(tmp_path, targets, base):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:  # the versions table as the first release made it
        conn.executescript("""
            CREATE TABLE layers (key TEXT PRIMARY KEY, rows INTEGER NOT NULL,
                                 payload BLOB NOT NULL);
            CREATE TABLE versions (version INTEGER PRIMARY KEY, created TEXT NOT NULL,
                user TEXT NOT NULL, summary TEXT NOT NULL, origins TEXT NOT NULL,
                streets TEXT NOT NULL REFERENCES layers(key),
                facilities TEXT NOT NULL REFERENCES layers(key));""")
    old = DatasetStore(path)
    assert old.current_version() == 0
    from geo.data.dataset import with_network

    _, network = _layer_and_network()
    assert _save(old, with_network(base, network, origin="路网.gpkg"), base=0) == 1
    assert old.read(targets).network.n_edges == 2
    assert old.read(targets).population is None
