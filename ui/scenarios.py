"""The scenario being edited (session state), its cached evaluation, the store, and the map
that takes clicks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st
from streamlit_folium import st_folium

from geo.data.area import placement_area
from geo.data.audit import AuditNotWritten
from geo.data.coords import gcj02_to_wgs84
from geo.data.store import ScenarioStore, StoredScenario, StoreError
from geo.engine.hexgrid import cell_polygons
from geo.engine.result import CoverageResult
from geo.model.access import Action, Principal, refusal
from geo.model.config import SCENARIO_DB
from geo.model.errors import InputError
from geo.model.targets import Targets
from geo.plan.compare import changed_cells, side_by_side
from geo.plan.scenario import (
    Edit,
    Scenario,
    baseline_capacities,
    evaluate,
    renamed,
    scenario_from_geojson,
    scenario_to_geojson,
)
from geo.plan.scenario_io import scenario_from_json
from geo.plan.scenario_scope import save_scope
from geo.plan.suggest import suggest_sites
from geo.plan.tables import category_cells
from layers.basemaps import BASEMAPS
from layers.explorer import MapView, explorer_map
from layers.offline import with_local_assets
from ui.auth import audit_log, principal
from ui.data import Version, current_version, load_coverage, load_inputs
from ui.i18n import t
from ui.markdown import as_text
from ui.widgets import show_table

__all__ = ["KEYS", "adopt", "compare_saved_panel", "current", "evaluated", "evaluated_current",
           "export_geojson", "facility_choices", "import_geojson", "rename", "scenario_map",
           "set_current", "storage_panel", "store", "suggest_panel", "suggested_scenario",
           "try_edits"]

#: What streamlit-folium reports of a click: on a layer, or on the bare map.
CLICKS = ("last_object_clicked", "last_clicked")
#: Session-state keys of the scenario page.
KEYS = {"scenario": "scenario", "stored_id": "scenario_stored_id", "click": "scenario_click",
        "map": "scenario_map"}


@st.cache_resource
def store() -> ScenarioStore:
    """The scenario store under the state directory (``CHANGNING_STATE_DIR``)."""
    return ScenarioStore(SCENARIO_DB)


def current() -> Scenario:
    """The scenario being edited in this session."""
    return st.session_state.setdefault(KEYS["scenario"], Scenario(name="新情景 New scenario"))


def set_current(scenario: Scenario, *, stored_id: tuple[int, int] | None = None) -> None:
    """Make ``scenario`` the one being edited (``stored_id``: its row in the store and the
    revision it was opened or saved at)."""
    st.session_state[KEYS["scenario"]] = scenario
    st.session_state[KEYS["stored_id"]] = stored_id


def _stored_id() -> tuple[int, int] | None:
    return st.session_state.get(KEYS["stored_id"])


def _error(exc: Exception) -> None:
    """The message of a refused input or an unusable store, as text (never a traceback)."""
    st.error(as_text(str(exc)))


def adopt(scenario: Scenario, *, resolution: int, stored_id: int | None = None) -> bool:
    """Make ``scenario`` the one being edited when it can be evaluated; otherwise show why,
    change nothing and return False."""
    try:
        evaluated(scenario, resolution)
    except InputError as exc:
        _error(exc)
        return False
    set_current(scenario, stored_id=stored_id)
    return True


def try_edits(scenario: Scenario, edits: Sequence[Edit], *, resolution: int) -> None:
    """Append ``edits`` and rerun when the scenario stays valid; otherwise show why and change
    nothing."""
    for edit in edits:
        scenario = scenario.with_edit(edit)
    if adopt(scenario, resolution=resolution, stored_id=_stored_id()):
        st.rerun()


def rename(scenario: Scenario, *, name: str, description: str) -> Scenario:
    """The scenario with the typed name and description; when the name cannot be saved (empty,
    too long), the message and the scenario as it was."""
    if (name, description) == (scenario.name, scenario.description):
        return scenario
    try:
        scenario = renamed(scenario, name=name, description=description)
    except InputError as exc:
        _error(exc)
        return scenario
    set_current(scenario, stored_id=_stored_id())
    return scenario


def evaluated_current(scenario: Scenario, resolution: int
                      ) -> tuple[CoverageResult, gpd.GeoDataFrame, Targets]:
    """:func:`evaluated` for the scenario being edited; when it no longer fits the data (which
    an import on the Data page can change), the message, a button to start anew, and the page
    stops."""
    try:
        return evaluated(scenario, resolution)
    except InputError as exc:
        _error(exc)
        if st.button(t("放弃此情景，新建空白情景", "Discard it and start an empty scenario"),
                     key="do_discard"):
            set_current(Scenario(name=t("新情景", "New scenario")))
            st.rerun()
        st.stop()
        raise  # st.stop() raises; this line only tells type checkers so


def evaluated(scenario: Scenario, resolution: int) -> tuple[CoverageResult, gpd.GeoDataFrame,
                                                            Targets]:
    """The scenario's coverage, facilities and targets; only edited categories recomputed."""
    return _evaluated(scenario, resolution, current_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _evaluated(scenario: Scenario, resolution: int, version: Version
               ) -> tuple[CoverageResult, gpd.GeoDataFrame, Targets]:
    targets, _, facilities = load_inputs()
    return evaluate(scenario, baseline=load_coverage(resolution), facilities=facilities,
                    targets=targets, area=_placement_area(version))


@st.cache_data(show_spinner=False, max_entries=4)
def _placement_area(version: Version) -> shapely.Geometry:
    """Where scenarios may place facilities in the shown dataset (computed once a version)."""
    targets, streets, _ = load_inputs()
    return placement_area(streets, targets)


def export_geojson(scenario: Scenario, resolution: int) -> str:
    """The scenario as the GeoJSON exchange file (UTF-8 text)."""
    _, facilities_after, _ = evaluated(scenario, resolution)
    document = scenario_to_geojson(scenario, facilities_after=facilities_after)
    return json.dumps(document, ensure_ascii=False, indent=1)


def import_geojson(data: bytes, *, source: str) -> Scenario:
    """A scenario from an uploaded GeoJSON file; :class:`InputError` naming ``source`` when it
    is not one."""
    _, _, facilities = load_inputs()
    return scenario_from_json(data, source=source, baseline=baseline_capacities(facilities))


def suggested_scenario(result: CoverageResult, *, category: str, k: int, code: str | None,
                       label: str) -> Scenario:
    """A new scenario adding the k suggested sites as planned facilities."""
    sites = suggest_sites(result, category=category, k=k, code=code)
    edits = tuple(
        Edit("add", facility_id=f"SUG-{i}", category=category, name=f"{label} {i}",
             lon=float(row.lon), lat=float(row.lat))
        for i, row in enumerate(sites.itertuples(), start=1))
    return Scenario(name=f"{label}: {category} × {len(edits)}", edits=edits)


def _changes(before: CoverageResult, after: CoverageResult, category: str) -> gpd.GeoDataFrame:
    cells = changed_cells(before, after, category)
    return gpd.GeoDataFrame(cells, geometry=cell_polygons(cells["cell"]).to_numpy(),
                            crs="EPSG:4326")


def scenario_map(view: MapView, *, baseline: CoverageResult, after: CoverageResult,
                 facilities: gpd.GeoDataFrame, height: int = 560
                 ) -> tuple[float, float] | None:
    """Draw the scenario's map (changed cells highlighted); return the last click as
    (lon, lat) in WGS-84 degrees (converted back from GCJ-02 on AMap), or None."""
    _, streets, _ = load_inputs()
    fmap = explorer_map(view, streets=streets, facilities=facilities,
                        cells=category_cells(after, view.category),
                        changes=_changes(baseline, after, view.category))
    out = st_folium(with_local_assets(fmap), height=height, use_container_width=True,
                    returned_objects=list(CLICKS), key=KEYS["map"]) or {}
    click = _new_click(out)
    if not click:
        return None
    lon, lat = float(click["lng"]), float(click["lat"])
    if BASEMAPS[view.basemap].needs_gcj02:
        converted = gcj02_to_wgs84(lon, lat)
        lon, lat = float(converted[0]), float(converted[1])
    return lon, lat


def _new_click(out: dict) -> dict | None:
    """The click not seen before: a click on a layer (cell, street) or on the bare map."""
    for name in CLICKS:
        value = out.get(name)
        seen = f"{KEYS['click']}_{name}"
        if value and value != st.session_state.get(seen):
            st.session_state[seen] = value
            return value
    return None


def facility_choices(facilities: pd.DataFrame) -> dict[str, str]:
    """Facility id → "id · name" for pickers, by id."""
    rows = facilities.sort_values("id")
    return dict(zip(rows["id"], rows["id"] + " · " + rows["name"], strict=True))


def _saved() -> list[StoredScenario]:
    """The saved scenarios; none, with the message, when the store cannot be used."""
    try:
        return store().list()
    except StoreError as exc:
        _error(exc)
        return []


def _save(scenario: Scenario, *, resolution: int, as_new: bool = False) -> None:
    """Save the scenario (under its id when it came from the store, checked against the
    revision it was opened at; ``as_new``: as a new one) and say so, or say why not."""
    who = principal()
    stored_id, revision = (None, None) if as_new else (_stored_id() or (None, None))
    try:
        _, streets, facilities = load_inputs()
        body = json.loads(export_geojson(scenario, resolution))
        scope = save_scope(scenario, who=who, facilities=facilities, streets=streets)
        stored = store().save(who, name=scenario.name, description=scenario.description,
                              body=body, streets=scope, scenario_id=stored_id,
                              revision=revision)
    except AuditNotWritten as exc:  # saved: go on from the saved revision, and say so
        stored = exc.result
        st.warning(as_text(str(exc)))
    except (InputError, StoreError) as exc:
        _error(exc)
        return
    set_current(scenario, stored_id=(stored.id, stored.revision))
    name = as_text(scenario.name)
    st.success(t(f"已保存「{name}」（编号 {stored.id}，第 {stored.revision} 版）",
                 f"Saved “{name}” (id {stored.id}, revision {stored.revision})"))


def _open(scenario_id: int, *, resolution: int) -> None:
    """Make saved scenario ``scenario_id`` the one being edited, or say why not."""
    try:
        stored = store().load(scenario_id)
        scenario = _from_body(stored.body, stored.name, stored.description)
    except (InputError, StoreError) as exc:
        _error(exc)
        return
    if adopt(scenario, resolution=resolution, stored_id=(stored.id, stored.revision)):
        st.rerun()


def _delete(stored: StoredScenario) -> None:
    try:
        store().delete(principal(), stored.id, revision=stored.revision)
    except AuditNotWritten as exc:
        st.session_state["scenario_unaudited"] = str(exc)
    except (InputError, StoreError) as exc:
        _error(exc)
        return
    if (_stored_id() or (None,))[0] == stored.id:
        st.session_state[KEYS["stored_id"]] = None
    st.rerun()


def _import(upload, *, resolution: int) -> None:
    """Make the uploaded scenario the one being edited, or say why not (nothing changes)."""
    try:
        scenario = import_geojson(upload.getvalue(), source=upload.name)
    except InputError as exc:
        _error(exc)
        return
    if adopt(scenario, resolution=resolution):
        st.rerun()


def storage_panel(scenario: Scenario, *, resolution: int) -> None:
    """Save, open, delete, export and import scenarios."""
    with st.expander(t("保存与导入导出", "Save, open, export, import"), expanded=False):
        if "scenario_unaudited" in st.session_state:
            st.warning(as_text(st.session_state.pop("scenario_unaudited")))
        saved = _saved()
        who = principal()
        may_save = refusal(who, Action.SCENARIO_SAVE, streets=who.streets) is None
        save, new = st.columns(2)
        if not may_save:
            save.caption(t("只读账号可以试算情景，但不能保存或删除。",
                           "A viewer can try scenarios out but not save or delete them."))
        elif save.button(t("保存情景", "Save scenario"), key="do_save"):
            _save(scenario, resolution=resolution)
        if may_save and _stored_id() and save.button(t("另存为新情景", "Save as a new scenario"),
                                                     key="do_save_new"):
            _save(scenario, resolution=resolution, as_new=True)
        if new.button(t("新建空白情景", "New empty scenario"), key="do_new"):
            set_current(Scenario(name=t("新情景", "New scenario")))
            st.rerun()
        by_id = {s.id: s for s in saved}
        labels = {s.id: f"{s.id} · {s.name} ({s.updated_at[:16]}, {_scope_text(s)}, "
                        f"{s.owner or '—'})" for s in saved}
        if labels:
            chosen = st.selectbox(t("已保存的情景", "Saved scenarios"), list(labels),
                                  format_func=labels.get, key="open_id")
            open_, delete = st.columns(2)
            if open_.button(t("打开", "Open"), key="do_open"):
                _open(chosen, resolution=resolution)
            if may_save and delete.button(t("删除", "Delete"), key="do_delete"):
                _delete(by_id[chosen])
        _geojson_download(scenario, who=who, resolution=resolution)
        upload = st.file_uploader(t("导入 GeoJSON", "Import GeoJSON"), type=["geojson", "json"],
                                  key="scenario_upload")
        if upload is not None and st.button(t("载入导入的情景", "Load the imported scenario"),
                                            key="do_import"):
            _import(upload, resolution=resolution)


def _geojson_download(scenario: Scenario, *, who: Principal, resolution: int) -> None:
    """The scenario as GeoJSON, for a role that may export its scope (a street office: only a
    scenario within its streets); the download writes an audit line."""
    _, streets, facilities = load_inputs()
    scope = save_scope(scenario, who=who, facilities=facilities, streets=streets)
    reason = refusal(who, Action.EXPORT, streets=scope)
    if reason is not None:
        st.caption(t("此情景超出本街道，不能导出：", "This scenario reaches beyond your streets "
                                                   "and cannot be exported: ") + as_text(reason))
        return
    st.download_button(t("导出 GeoJSON", "Export GeoJSON"), export_geojson(scenario, resolution),
                       file_name="scenario.geojson", mime="application/geo+json",
                       on_click=_audit_download, args=(scenario.name,))


def _audit_download(name: str) -> None:
    """The scenario GeoJSON was downloaded: a line in the audit trail."""
    try:
        audit_log().append(principal(), "export", object=f"scenario GeoJSON {name}"[:300],
                           summary="scenario.geojson")
    except StoreError as exc:
        _error(exc)


def _scope_text(stored: StoredScenario) -> str:
    return ", ".join(stored.streets) if stored.streets else t("全区", "district")


def _from_body(body: dict, name: str, description: str) -> Scenario:
    """A stored scenario's edits, with its stored name and description."""
    _, _, facilities = load_inputs()
    scenario = scenario_from_geojson(body, baseline=baseline_capacities(facilities))
    return replace(scenario, name=name, description=description)


def compare_saved_panel(baseline: CoverageResult, *, resolution: int, category: str) -> None:
    """Two saved scenarios side by side: covered residents per street for ``category``."""
    with st.expander(t("比较两个已保存情景", "Compare two saved scenarios"), expanded=False):
        saved = {s.id: s for s in _saved()}
        if len(saved) < 2:
            st.info(t("至少保存两个情景后可比较。", "Save at least two scenarios to compare."))
            return
        labels = {i: f"{i} · {s.name}" for i, s in saved.items()}
        first, second = st.columns(2)
        a = first.selectbox("A", list(labels), format_func=labels.get, key="compare_a")
        b = second.selectbox("B", list(labels), format_func=labels.get, index=1,
                             key="compare_b")
        results = []
        for chosen in (a, b):
            stored = saved[chosen]
            try:
                scenario = _from_body(stored.body, stored.name, stored.description)
                results.append(evaluated(scenario, resolution)[0])
            except InputError as exc:
                _error(exc)
                return
        show_table(side_by_side(baseline, results[0], results[1], category=category))


def suggest_panel(result: CoverageResult, *, streets: gpd.GeoDataFrame, category: str) -> None:
    """Propose k sites for ``category``; they come back as a new scenario to edit."""
    with st.expander(t("推荐选址", "Suggest sites"), expanded=False):
        k = st.number_input(t("站点数 k", "Sites k"), min_value=1, max_value=20, value=3,
                            key="suggest_k")
        codes = {"": t("全区", "Whole district"), **dict(zip(streets["code"], streets["name"],
                                                              strict=True))}
        code = st.selectbox(t("街道", "Street"), list(codes), format_func=codes.get,
                            key="suggest_street")
        if st.button(t("推荐并生成新情景", "Suggest as a new scenario"), key="do_suggest"):
            try:
                scenario = suggested_scenario(result, category=category, k=int(k),
                                              code=code or None, label=t("推荐站点",
                                                                         "Suggested site"))
            except InputError as exc:
                _error(exc)
                return
            set_current(scenario)
            st.rerun()
