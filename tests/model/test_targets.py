from __future__ import annotations

import pytest

from geo.model.errors import InputError
from geo.model.targets import parse_radius_overrides, targets_from_mapping


def test_category_share_falls_back_to_default(targets):
    assert targets["market"].target_share == pytest.approx(0.9)
    assert targets["parking"].target_share == pytest.approx(0.5)
    assert targets["market"].radius_m == 300.0
    assert targets.keys() == ["market", "parking"]
    assert targets["market"].bilingual() == "菜市场 Market"
    assert targets["parking"].bilingual() == "parking"


def test_with_radii_overrides_known_and_adds_unknown(targets):
    changed = targets.with_radii({"market": 800, "school": 1000})
    assert changed["market"].radius_m == 800.0
    assert changed["school"].radius_m == 1000.0
    assert changed["school"].target_share == pytest.approx(0.9)
    assert targets["market"].radius_m == 300.0  # the original is untouched


def test_every_problem_is_listed_at_once():
    with pytest.raises(InputError, match=r"(?s)2 problem.*market\] radius_m.*parking\] "
                                         r"target_share must be a number from 0 to 1, got 1.5"):
        targets_from_mapping({"categories": {"market": {"radius_m": -5},
                                             "parking": {"radius_m": 500, "target_share": 1.5}}})


def test_no_category_is_an_error():
    with pytest.raises(InputError, match=r"no \[categories.<name>\] table"):
        targets_from_mapping({"defaults": {"target_share": 0.9}})


def test_parse_radius_overrides():
    assert parse_radius_overrides(["market=800", " sports = 300.5"]) == {
        "market": 800.0, "sports": 300.5}
    assert parse_radius_overrides(None) == {}


@pytest.mark.parametrize("item", ["market", "market=", "=500", "market=-1", "market=abc",
                                  "market=nan"])
def test_bad_radius_override_names_the_item(item):
    with pytest.raises(InputError, match=r"--radius: .*is not CATEGORY=METRES"):
        parse_radius_overrides([item])
