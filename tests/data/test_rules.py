"""The one set of row rules: each rule on tiny rows, exact outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from geo.data.coords import wgs84_to_gcj02
from geo.data.rules import (
    REASONS,
    cell_text,
    check_facility_rows,
    facility_ids,
    normal_id,
    row_warnings,
)

KNOWN = ["market", "parking"]
AREA = shapely.box(121.30, 31.15, 121.50, 31.26)


def _check(*rows: dict, **options):
    base = {"id": "x", "name": "n", "category": "market", "lon": "121.4", "lat": "31.2"}
    frame = pd.DataFrame([{**base, **row} for row in rows])
    return check_facility_rows(frame, known_categories=KNOWN, **options)


@pytest.mark.parametrize(("given", "expected"), [
    ("１２３", "123"), (" A1\u200b ", "A1"), ("\ufeffosm-1", "osm-1"), ("a\u00adb", "ab"),
    ("x\u202ey", "xy"), (12.0, "12"), (float("nan"), ""), (None, ""), ("ｍ－１", "m-1")])
def test_ids_are_normalised(given, expected):
    assert normal_id(given) == expected


@pytest.mark.parametrize("given", ["e\u200b\u0301", "e\u00ad\u0301", "\u1100\u200b\u1161"])
def test_an_id_is_normalised_in_one_pass(given):
    """An invisible character between a letter and its combining mark: removed after NFKC,
    the pair composed only at the next pass (é ≠ e+◌́ when saved, equal when loaded), so a
    stored id could clash on load with one that did not clash when saved."""
    assert normal_id(given) == normal_id(normal_id(given))


def test_cell_text_keeps_text_and_drops_missing():
    assert [cell_text(v) for v in [" a ", 3.0, 3.5, None, np.nan, pd.NA, "nan"]] == [
        "a", "3", "3.5", "", "", "", "nan"]


def test_ids_that_differ_only_by_width_or_invisible_characters_are_duplicates():
    checked = _check({"id": "12"}, {"id": "１２"}, {"id": "1\u200b2"}, {"id": "13"})
    assert checked.failed["duplicate"].tolist() == [False, True, True, False]
    assert checked.frame["id"].tolist() == ["12", "12", "12", "13"]


@pytest.mark.parametrize(("capacity", "bad"), [
    ("", False), ("0", False), ("12.5", False), ("1,200", False), ("-1", True), ("inf", True),
    ("-inf", True), ("nan", True), ("lots", True), ("1e400", True)])
def test_capacity_must_be_a_finite_number_at_least_zero(capacity, bad):
    assert _check({"capacity": capacity}).failed["capacity"].tolist() == [bad]


@pytest.mark.parametrize(("crs", "key"), [
    ("", "wgs84"), ("WGS84", "wgs84"), ("wgs-84", "wgs84"), ("EPSG:4326", "wgs84"),
    ("cgcs2000", "wgs84"), ("GCJ-02", "gcj02"), ("bd09", "bd09"), ("EPSG:3857", ""),
    ("../../etc", ""), ("utm", "")])
def test_a_rows_crs_is_one_of_the_named_systems(crs, key):
    checked = _check({"crs": crs})
    assert checked.failed["crs"].tolist() == [key == ""]


def test_a_gcj02_row_is_converted_and_others_are_not():
    glon, glat = wgs84_to_gcj02(121.40, 31.21)
    checked = _check({"lon": f"{float(glon):.9f}", "lat": f"{float(glat):.9f}", "crs": "gcj02"},
                     {"lon": "121.40", "lat": "31.21"})
    assert checked.frame["lon"].to_numpy() == pytest.approx([121.40, 121.40], abs=1e-7)
    assert checked.frame["crs"].tolist() == ["wgs84", "wgs84"]


def test_coordinates_missing_unparseable_or_out_of_range():
    checked = _check({"lon": ""}, {"lat": "north"}, {"lon": "200"}, {"lat": "inf"},
                     {"lon": "121.4", "lat": "31.2"})
    assert checked.failed["coords"].tolist() == [True, True, False, False, False]
    assert checked.failed["range"].tolist() == [False, False, True, True, False]


def test_outside_the_area_only_when_an_area_is_given():
    checked = _check({"lon": "120.0"}, {"lon": "121.4"}, area=AREA)
    assert checked.failed["outside"].tolist() == [True, False]
    assert not _check({"lon": "120.0"}).failed["outside"].any()


def test_status_names_and_aliases():
    checked = _check({"status": ""}, {"status": "Planned"}, {"status": "规划"},
                     {"status": "关闭"}, {"status": "open"})
    assert checked.frame["status"].tolist() == ["existing", "planned", "planned", "closed", ""]
    assert checked.failed["status"].tolist() == [False, False, False, False, True]


def test_unnamed_rows_are_named_from_the_label_then_the_class_then_the_category():
    checked = _check({"id": "osm-1", "name": "", "category": "parking"},
                     {"id": "osm-2", "name": "", "subtype": "marketplace"},
                     {"id": "osm-3", "name": ""}, labels={"parking": "公共停车场"})
    assert checked.frame["name"].tolist() == ["公共停车场 (osm-1)", "marketplace (osm-2)",
                                              "market (osm-3)"]
    assert checked.unnamed.tolist() == [True, True, True]
    assert checked.accepted.tolist() == [True, True, True]


def test_reasons_join_in_rule_order_and_problems_name_the_field():
    checked = _check({"id": "a", "lon": "200", "category": "zoo", "capacity": "-1"})
    assert checked.reasons().tolist() == [
        "coordinates out of range; unknown category; capacity is not a finite number ≥ 0"]
    assert checked.problems(pd.Series(["row 2 (id=a)"])) == [
        "row 2 (id=a): lon '200' is not a longitude from -180 to 180",
        "row 2 (id=a): category 'zoo' is unknown and has no radius (known: market, parking)",
        "row 2 (id=a): capacity '-1' is not a finite number ≥ 0"]
    assert set(REASONS) >= set(checked.failed)


def test_ids_default_to_the_row_number_and_multipoint_parts_are_suffixed():
    frame = pd.DataFrame({"__row__": ["1", "2", "2"], "__part__": ["", "1", "2"],
                          "__shape__": ["area", "", ""]})
    ids = facility_ids(frame, pd.Series(["a", "", ""]), first_row=1)
    assert ids.tolist() == ["a", "row-2-1", "row-2-2"]
    assert facility_ids(pd.DataFrame(index=range(2)), None, first_row=2).tolist() == [
        "row-2", "row-3"]
    assert row_warnings(frame, accepted=np.array([True, True, False]),
                        unnamed=np.array([False, True, True])) == {
        "unnamed: named from its category and id": 1,
        "an area or a line: placed at a representative point": 1,
        "a MultiPoint: one facility per point, ids suffixed": 1}


def test_a_rejected_row_does_not_take_its_id_from_a_later_usable_one():
    checked = _check({"id": "a", "lon": "abc"}, {"id": "a"}, {"id": "a"}, {"id": "a", "lat": "x"})
    assert checked.failed["duplicate"].tolist() == [False, False, True, True]
    assert checked.accepted.tolist() == [False, True, False, False]
