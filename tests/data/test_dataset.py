"""The working dataset: merging imports in each mode, and origins (the stored versions are in
test_dataset_store.py)."""

from __future__ import annotations

import pytest

from geo.data.dataset import (
    DEMO,
    demo_dataset,
    merge_facilities,
    prefix_ids,
    with_boundaries,
    with_facilities,
)
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



@pytest.mark.parametrize("prefix", ["ｍ", " m", "m\u200b", "\u200bm"])
def test_an_id_prefix_is_normalised_as_ids_are_so_a_clash_is_seen_before_saving(
        targets, market_and_parking, prefix):
    """A prefixed id is stored as the loader will read it (NFKC, trimmed, invisible characters
    removed): a full-width, blank or invisible prefix cannot slip a clash with m1 past the
    merge into a version that then fails to load."""
    imported = prefix_ids(_markets(targets, "1"), prefix)
    assert list(imported["id"]) == ["m1"]
    with pytest.raises(InputError, match="already used by facilities that stay"):
        merge_facilities(market_and_parking, imported, mode="append")
