"""The working dataset: merging imports in each mode, origins, and the stored GeoPackage
(round trip, atomic replacement, damaged file)."""

from __future__ import annotations

import pandas as pd
import pyogrio
import pytest

import geo.data.dataset_io
from geo.data.dataset import (
    DEMO,
    demo_dataset,
    merge_facilities,
    prefix_ids,
    with_boundaries,
    with_facilities,
)
from geo.data.dataset_io import dataset_version, read_dataset, reset_dataset, write_dataset
from geo.data.io import read_targets
from geo.data.schema import normalize_facilities
from geo.model.errors import InputError
from tests.conftest import facility_frame


def _markets(targets, *ids: str):
    return normalize_facilities(facility_frame([
        {"id": i, "name": f"菜场{i}", "category": "market", "dx": 100 * n, "dy": 100}
        for n, i in enumerate(ids, start=1)]), known_categories=targets.keys())


def _ids(frame) -> list[str]:
    return sorted(frame["id"])


def test_replace_categories_keeps_the_other_categories(targets, market_and_parking):
    merged = merge_facilities(market_and_parking, _markets(targets, "m7", "m8"),
                              mode="replace_categories")
    assert _ids(merged) == ["m7", "m8", "p1"]
    assert merged.crs == market_and_parking.crs


def test_append_adds_and_replace_all_keeps_only_the_import(targets, market_and_parking):
    assert _ids(merge_facilities(market_and_parking, _markets(targets, "m7"),
                                 mode="append")) == ["m1", "m7", "p1"]
    assert _ids(merge_facilities(market_and_parking, _markets(targets, "m7"),
                                 mode="replace_all")) == ["m7"]


def test_ids_that_clash_with_kept_facilities_fail_the_whole_merge(targets, market_and_parking):
    with pytest.raises(InputError, match=r"1 imported id\(s\) are already used .*\(p1\); give "
                                         r"the import an id prefix"):
        merge_facilities(market_and_parking, _markets(targets, "p1", "m9"),
                         mode="replace_categories")
    clashing = _markets(targets, "m1")
    with pytest.raises(InputError, match=r"\(m1\)"):
        merge_facilities(market_and_parking, clashing, mode="append")
    # the market list replaces m1 itself: no clash
    assert _ids(merge_facilities(market_and_parking, clashing, mode="replace_categories")) == [
        "m1", "p1"]
    assert _ids(merge_facilities(market_and_parking, prefix_ids(clashing, "sw-"),
                                 mode="append")) == ["m1", "p1", "sw-m1"]


def test_nothing_to_import_and_unknown_mode_are_errors(targets, market_and_parking):
    with pytest.raises(InputError, match="no accepted rows"):
        merge_facilities(market_and_parking, _markets(targets, "m7").iloc[0:0], mode="append")
    with pytest.raises(InputError, match="import mode 'merge'"):
        merge_facilities(market_and_parking, _markets(targets, "m7"), mode="merge")


def test_origins_say_which_parts_are_still_demo(targets, two_streets, market_and_parking):
    demo = demo_dataset(two_streets, market_and_parking)
    assert demo.all_demo and demo.demo_parts == ["boundaries", "market", "parking"]
    replaced = with_facilities(demo, _markets(targets, "m7"), mode="replace_categories",
                               origin="markets.xlsx")
    assert replaced.facility_origins == {"market": ("markets.xlsx",), "parking": (DEMO,)}
    assert replaced.demo_parts == ["boundaries", "parking"] and not replaced.all_demo
    appended = with_facilities(demo, _markets(targets, "m7"), mode="append", origin="more.csv")
    assert appended.facility_origins["market"] == (DEMO, "more.csv")
    only = with_facilities(demo, _markets(targets, "m7"), mode="replace_all", origin="all.csv")
    assert only.facility_origins == {"market": ("all.csv",)}
    official = with_boundaries(only, two_streets, origin="streets.gpkg")
    assert official.demo_parts == [] and not official.is_demo


def test_a_stored_dataset_reads_back_as_written(tmp_path, targets, two_streets,
                                                market_and_parking):
    path = tmp_path / "state" / "dataset.gpkg"
    assert dataset_version(path) == (0, 0)
    dataset = with_boundaries(demo_dataset(two_streets, market_and_parking), two_streets,
                              origin="官方边界.gpkg (2026-11-24 09:00)")
    write_dataset(dataset, path)
    back = read_dataset(targets, path)
    assert dataset_version(path) != (0, 0)
    assert back.boundaries_origin == "官方边界.gpkg (2026-11-24 09:00)"
    assert back.facility_origins == {"market": (DEMO,), "parking": (DEMO,)}
    pd.testing.assert_frame_equal(pd.DataFrame(back.facilities.drop(columns="geometry")),
                                  pd.DataFrame(market_and_parking.drop(columns="geometry")),
                                  check_dtype=False)
    assert list(back.streets["code"]) == list(two_streets["code"])
    assert list(back.streets["population"]) == [1000.0, 3000.0]
    assert back.streets.geometry.geom_equals_exact(two_streets.geometry, tolerance=1e-12).all()
    assert sorted(p.name for p in path.parent.iterdir()) == ["dataset.gpkg"]


def test_a_failed_save_leaves_the_stored_dataset_as_it_was(tmp_path, monkeypatch, targets,
                                                           two_streets, market_and_parking):
    path = tmp_path / "dataset.gpkg"
    first = demo_dataset(two_streets, market_and_parking)
    write_dataset(first, path)
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(geo.data.dataset_io.pyogrio, "write_dataframe", disk_full)
    second = with_facilities(first, _markets(targets, "m7"), mode="replace_all", origin="x.csv")
    with pytest.raises(OSError, match="No space left"):
        write_dataset(second, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset.gpkg"]
    assert _ids(read_dataset(targets, path).facilities) == ["m1", "p1"]


def test_reset_goes_back_to_the_demo_and_a_damaged_file_is_named(tmp_path, targets):
    targets = read_targets()  # the demo's categories
    path = tmp_path / "dataset.gpkg"
    path.write_bytes(b"not a geopackage")
    with pytest.raises(InputError, match=f"stored dataset {path}: cannot be read .*delete the "
                                         "file to go back to the demo data"):
        read_dataset(targets, path)
    reset_dataset(path)
    assert not path.exists()
    assert read_dataset(targets, path).all_demo


def test_the_stored_file_has_the_three_layers(tmp_path, two_streets, market_and_parking):
    path = write_dataset(demo_dataset(two_streets, market_and_parking), tmp_path / "d.gpkg")
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["about", "facilities", "streets"]
