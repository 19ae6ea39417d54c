"""AppTest of the scenario page under bad and hostile input: every bad file, name or store is
one st.error showing its message as text, nothing changes, and no exception reaches the page."""

from __future__ import annotations

import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import ui.scenarios
from geo.data.store import MAX_NAME_LENGTH, ScenarioStore
from geo.plan.scenario import Edit, Scenario
from tests.apptest import TIMEOUT, edit_lines, scenario_page
from tests.conftest import ROOT, who
from ui.markdown import as_text

FIRST = "新情景 New scenario"
HOSTILE = ("![x](http://127.0.0.2:9/x.png) [link](http://x) :red[red] :material/home: $x^2$ "
           "**bold** <img src=x onerror=alert(1)> `code`")
POINT = {"type": "Point", "coordinates": [121.37, 31.20]}


@pytest.fixture
def page(tmp_path, monkeypatch) -> AppTest:
    yield from scenario_page(tmp_path / "scenarios.sqlite", monkeypatch)


_edits = edit_lines


def _errors(at: AppTest) -> list[str]:
    assert not at.exception, [e.message for e in at.exception]
    return [e.value for e in at.error]


def _import(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="scenario_upload").set_value((name, data, "application/geo+json")).run()
    return at.button(key="do_import").click().run()


def _collection(features: list, **members) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features, **members}).encode()


def _close(facility_id: str) -> dict:
    return {"type": "Feature", "geometry": None,
            "properties": {"action": "close", "id": facility_id}}


def _market(facility_id: str, **props) -> dict:
    return {"type": "Feature", "geometry": POINT,
            "properties": {"id": facility_id, "name": "菜场", "category": "market", **props}}


BAD_FILES = [
    ("deep.geojson",
     b'{"type": "FeatureCollection", "features": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
     "deep.geojson: not valid JSON (nested too deeply)"),
    ("nan.geojson", b'{"type": "FeatureCollection", "features": [], "x": NaN}',
     "nan.geojson: not valid JSON (NaN is not a JSON number)"),
    ("inf.geojson",
     b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": '
     b'"Point", "coordinates": [Infinity, 31.2]}, "properties": {"id": "a"}}]}',
     "inf.geojson: not valid JSON (Infinity is not a JSON number)"),
    ("digits.geojson", b'{"type": "FeatureCollection", "features": [], "x": 1' + b"0" * 5000
     + b"}", "digits.geojson: not valid JSON (Exceeds the limit (4300 digits) for integer "
     "string conversion: value has 5001 digits; use sys.set_int_max_str_digits() to increase "
     "the limit)"),
    ("huge.geojson",
     b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": '
     b'"Point", "coordinates": [1' + b"0" * 400 + b', 31.2]}, "properties": {"id": "a", '
     b'"name": "x", "category": "market"}}]}',
     "scenario 'scenario': edit 1 (add): lon 'inf' is not a longitude from -180 to 180"),
    ("before.geojson", _collection([_close("N1"), _market("N1")], name="自指"),
     "scenario '自指': edit 1 (close): no facility with id 'N1'"),
    ("twice.geojson", _collection([_market("N1"), _market("N1", action="add")]),
     "scenario 'scenario': edit 2 (add): duplicate id 'N1'"),
    ("shape.geojson", _collection(["x", {"type": "Feature", "properties": [1]}], targets=[1]),
     "shape.geojson: 3 problem(s)\n  - feature 1: not a GeoJSON Feature object\n"
     "  - feature 2: properties must be an object, not list\n"
     "  - targets must be an object, not list"),
    ("long.geojson", _collection([], name="x" * (MAX_NAME_LENGTH + 1)),
     f"long.geojson: name is {MAX_NAME_LENGTH + 1} characters long; at most "
     f"{MAX_NAME_LENGTH} allowed"),
    ("surrogate.geojson", b'{"type": "FeatureCollection", "features": [], "name": "\\ud800"}',
     "surrogate.geojson: name is not valid Unicode text (a lone surrogate at character 1)"),
]


def test_every_bad_scenario_file_is_one_error_and_changes_nothing(page):
    page.selectbox(key="close_id").set_value("CHG-001").run()
    page.button(key="do_close").click().run()
    for name, data, message in BAD_FILES:
        at = _import(page, name, data)
        assert _errors(at) == [as_text(message)], name
        assert _edits(at) == ["1. close CHG-001"], name
        assert at.text_input[0].value == FIRST


def test_edits_that_refer_to_each_other_load(page):
    document = _collection([
        {"type": "Feature", "geometry": POINT, "properties": {"id": "CHG-001"}},
        _close("CHG-001"),
        _market("N1"),
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.38, 31.21]},
         "properties": {"id": "N1", "action": "move"}},
        _close("N1"),
    ], name="自指 ok")
    at = _import(page, "self.geojson", document)
    assert _errors(at) == []
    assert _edits(at) == ["1. move CHG-001 → 121.37000, 31.20000", "2. close CHG-001",
                          "3. add market N1 菜场 → 121.37000, 31.20000",
                          "4. move N1 → 121.38000, 31.21000", "5. close N1"]
    assert at.text_input[0].value == "自指 ok"
    at.button(key="do_save").click().run()
    assert _errors(at) == []


@pytest.mark.parametrize(("name", "message"), [
    ("x" * (MAX_NAME_LENGTH + 1),
     f"scenario: name is {MAX_NAME_LENGTH + 1} characters long; at most {MAX_NAME_LENGTH} "
     "allowed"),
    (" \t ", "scenario: name is empty"),
])
def test_a_name_that_cannot_be_saved_is_refused_and_the_old_one_stays(page, name, message):
    page.text_input[0].set_value(name).run()
    assert _errors(page) == [as_text(message)]
    page.button(key="do_save").click().run()
    assert _errors(page) == [as_text(message)]
    assert [s.name for s in ScenarioStore(ui.scenarios.SCENARIO_DB).list()] == [FIRST]


def test_a_hostile_name_is_shown_as_text_and_saved_as_typed(page):
    page.text_input[0].set_value(HOSTILE).run()
    page.text_area[0].set_value("# heading\n- item\n[x](javascript:alert(1))").run()
    page.selectbox(key="category").set_value("market").run()
    page.number_input(key="edit_lon").set_value(120.0).run()
    page.number_input(key="edit_lat").set_value(30.0).run()
    page.button(key="do_add").click().run()
    refused = f"scenario {HOSTILE!r}: edit 1 (add): 120, 30 lies outside the study area"
    assert _errors(page) == [as_text(refused)]
    page.button(key="do_save").click().run()
    assert _errors(page) == []
    assert [s.value for s in page.success] == [f"已保存「{as_text(HOSTILE)}」（编号 1，第 1 版）"]
    (saved,) = ScenarioStore(ui.scenarios.SCENARIO_DB).list()
    assert saved.name == HOSTILE and saved.description.startswith("# heading\n")


def test_unicode_and_duplicate_names_save(page):
    name = "西区 🚀 \u202eعربى\u200b e\u0301"
    page.text_input[0].set_value(name).run()
    page.button(key="do_save").click().run()
    page.button(key="do_new").click().run()
    page.text_input[0].set_value(name).run()
    page.button(key="do_save").click().run()
    assert _errors(page) == []
    assert [s.name for s in ScenarioStore(ui.scenarios.SCENARIO_DB).list()] == [name, name]


def test_a_saved_scenario_that_no_longer_fits_is_refused_on_open_and_compare(page):
    store = ScenarioStore(ui.scenarios.SCENARIO_DB)
    store.save(who(), name="旧", body=json.loads(_collection([_close("GONE")], name="旧")))
    store.save(who(), name="新", body=json.loads(_collection([_close("CHG-001")], name="新")))
    page.run()
    page.selectbox(key="open_id").set_value(1).run()
    page.button(key="do_open").click().run()
    refused = "scenario '旧': edit 1 (close): no facility with id 'GONE'"
    assert _errors(page) == [as_text(refused)] * 2  # on open, and in the comparison
    assert _edits(page) == []
    page.selectbox(key="open_id").set_value(2).run()
    page.button(key="do_open").click().run()
    assert _edits(page) == ["1. close CHG-001"]


def test_saving_a_scenario_deleted_elsewhere_is_an_error(page):
    page.button(key="do_save").click().run()
    ScenarioStore(ui.scenarios.SCENARIO_DB).delete(who(), 1, revision=1)
    page.button(key="do_save").click().run()
    assert _errors(page) == [as_text("no saved scenario with id 1")]


def test_an_unusable_store_is_an_error_and_the_page_goes_on(tmp_path, monkeypatch):
    broken = tmp_path / "scenarios.sqlite"
    broken.write_bytes(b"not a database" * 100)
    monkeypatch.setattr(ui.scenarios, "SCENARIO_DB", broken)
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(ROOT / "pages" / "scenarios.py"),
                               default_timeout=TIMEOUT).run()
        unusable = as_text(f"scenario store {broken}: file is not a database")
        assert _errors(at) == [unusable] * 2  # the storage panel, the comparison panel
        at.button(key="do_save").click().run()
        assert _errors(at) == [unusable] * 3
        assert at.metric and at.dataframe  # the comparison is still there
    finally:
        st.cache_resource.clear()


def test_radius_and_target_are_overridden_together(page):
    page.selectbox(key="category").set_value("market").run()
    page.button(key="do_radius").click().run()
    assert _errors(page) == []
    assert _edits(page) == ["1. radius of market → 500 m", "2. target of market → 90%"]


def test_a_new_facility_after_an_undo_gets_a_free_id(page):
    page.selectbox(key="category").set_value("market").run()
    page.number_input(key="edit_lon").set_value(121.37).run()
    page.number_input(key="edit_lat").set_value(31.20).run()
    page.button(key="do_add").click().run()
    page.button(key="do_add").click().run()
    page.button(key="undo_0").click().run()
    page.button(key="do_add").click().run()
    assert _errors(page) == []
    assert [e.split(" 规划设施")[0] for e in _edits(page)] == ["1. add market NEW-2",
                                                           "2. add market NEW-1"]


def test_a_scenario_that_no_longer_fits_the_data_can_be_discarded(page):
    page.session_state["scenario"] = Scenario("旧", edits=(Edit("close", facility_id="GONE"),))
    page.run()
    assert _errors(page) == [as_text("scenario '旧': edit 1 (close): no facility with id 'GONE'")]
    page.button(key="do_discard").click().run()
    assert _errors(page) == [] and _edits(page) == []
    assert page.text_input[0].value == "新情景"


def test_a_name_with_mathtext_exports_as_plain_text(page):
    page.text_input[0].set_value(r"试点 $\undefinedcommand$").run()
    page.button(key="scenario_export_png").click().run()
    assert not page.exception and _errors(page) == []
    assert page.get("download_button")


def test_two_sessions_saving_one_scenario_the_later_is_refused_not_lost(page):
    page.button(key="do_save").click().run()  # session A saves scenario 1 (revision 1)
    other = AppTest.from_file(str(ROOT / "pages" / "scenarios.py"), default_timeout=120).run()
    other.selectbox(key="open_id").set_value(1).run()
    other.button(key="do_open").click().run()  # session B opens it at revision 1
    page.text_input[0].set_value("A's version").run()
    page.button(key="do_save").click().run()  # A saves again: revision 2
    other.text_input[0].set_value("B's version").run()
    other.button(key="do_save").click().run()
    (message,) = _errors(other)
    assert "was saved again by" in message and "revision 2" in message  # shown as text
    store = ScenarioStore(ui.scenarios.SCENARIO_DB)
    assert [(s.name, s.revision) for s in store.list()] == [("A's version", 2)]
    other.button(key="do_save_new").click().run()  # B keeps its work as a new scenario
    assert _errors(other) == []
    assert sorted((s.name, s.revision) for s in store.list()) == [("A's version", 2),
                                                                  ("B's version", 1)]
