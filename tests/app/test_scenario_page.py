"""AppTest of the scenario page: edits, undo, bad input, save/open, compare, suggest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import ui.scenarios
from geo.data.store import ScenarioStore
from tests.apptest import edit_lines, scenario_page


@pytest.fixture
def page(tmp_path, monkeypatch) -> AppTest:
    yield from scenario_page(tmp_path / "scenarios.sqlite", monkeypatch)


_edits = edit_lines


def _changed_streets(at: AppTest) -> list[str]:
    return [m.value for m in at.text if m.value.startswith("· ")]


def _add_market(at: AppTest, lon: float, lat: float) -> None:
    at.selectbox(key="category").set_value("market").run()
    at.number_input(key="edit_lon").set_value(lon).run()
    at.number_input(key="edit_lat").set_value(lat).run()
    at.button(key="do_add").click().run()
    assert not at.exception


def test_adding_a_market_covers_residents_and_undo_restores(page):
    assert page.metric[0].value == "0"
    _add_market(page, 121.37, 31.20)
    assert not page.error
    assert _edits(page) == ["1. add market NEW-1 规划设施 → 121.37000, 31.20000"]
    gained = float(page.metric[0].value.replace(",", ""))
    assert gained > 0
    table = page.dataframe[0].value
    assert table["newly_covered_residents"].sum() == pytest.approx(gained, abs=1)
    row = table.set_index("code").loc["310105010000"]
    assert row["covered_after_pct"] > row["covered_before_pct"]
    assert any(line.startswith("· 程家桥街道: ") for line in _changed_streets(page))
    every = page.dataframe[1].value
    assert len(every) == 50 and every["category"].nunique() == 5
    totals = page.dataframe[2].value.set_index("category")
    assert totals.loc["菜市场", "newly_covered_residents"] == pytest.approx(gained, abs=1)
    assert totals.drop("菜市场")["newly_covered_residents"].sum() == 0
    page.button(key="undo_0").click().run()
    assert _edits(page) == [] and page.metric[0].value == "0"


def test_a_point_outside_the_study_area_is_refused_and_nothing_changes(page):
    _add_market(page, 120.0, 30.0)
    assert any("lies outside the study area" in e.value for e in page.error)
    assert _edits(page) == []


def test_close_and_capacity_edits(page):
    page.selectbox(key="close_id").set_value("CHG-001").run()
    page.button(key="do_close").click().run()
    page.selectbox(key="capacity_id").set_value("CHG-002").run()
    page.button(key="do_capacity").click().run()
    assert _edits(page) == ["1. close CHG-001", "2. capacity of CHG-002 → 100"]
    assert not page.exception and not page.error


def test_save_open_and_compare_two_scenarios(page):
    _add_market(page, 121.37, 31.20)
    page.text_input[0].set_value("西区菜场").run()
    page.button(key="do_save").click().run()
    assert any("已保存" in s.value for s in page.success)
    page.button(key="do_new").click().run()
    assert _edits(page) == []
    page.button(key="do_save").click().run()
    saved = ScenarioStore(ui.scenarios.SCENARIO_DB).list()
    assert sorted(s.name for s in saved) == ["新情景", "西区菜场"]
    page.selectbox(key="open_id").set_value(next(s.id for s in saved if s.name == "西区菜场"))
    page.button(key="do_open").click().run()
    assert _edits(page) == ["1. add market NEW-1 规划设施 → 121.37000, 31.20000"]
    page.selectbox(key="compare_a").set_value(saved[0].id)
    page.selectbox(key="compare_b").set_value(saved[1].id).run()
    side = page.dataframe[-1].value
    assert list(side.columns) == ["code", "street", "covered_before_pct", "scenario_a",
                                  "scenario_b"]
    assert len(side) == 10


def test_suggest_returns_a_new_editable_scenario(page):
    page.selectbox(key="category").set_value("canteen").run()
    page.number_input(key="suggest_k").set_value(2).run()
    page.button(key="do_suggest").click().run()
    assert not page.exception and not page.error
    edits = _edits(page)
    assert len(edits) == 2 and all(" add canteen SUG-" in e for e in edits)
    assert float(page.metric[0].value.replace(",", "")) > 0
