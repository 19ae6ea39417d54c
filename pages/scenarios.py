"""Scenarios: edit facilities on the map, compare with the baseline, save, suggest sites."""

from __future__ import annotations

import streamlit as st

from geo.plan.compare import compare_streets, gain_columns, newly_covered_total
from geo.plan.scenario import Edit, free_id
from geo.plan.wording import gain_words
from layers.report import ReportInputs
from ui import scenarios as sc
from ui.controls import category_names, map_view, page_inputs
from ui.export import export_panel
from ui.i18n import t
from ui.markdown import as_text
from ui.widgets import page_header, show_table

page_header(t("情景模拟", "Scenarios"),
            t("在地图上点击取点，新增、移动或关闭设施，与现状对比。",
              "Click the map to pick a point; add, move or close facilities; compare."))
data = page_inputs()
targets, streets, facilities = data.targets, data.streets, data.facilities
categories, choices, baseline = data.categories, data.choices, data.result
names = category_names(targets, categories)
scenario = sc.current()


def try_edit(*edits: Edit) -> None:
    """Append ``edits`` when the scenario stays valid; otherwise show why and change nothing."""
    sc.try_edits(scenario, edits, resolution=choices.resolution)


left, right = st.columns([3, 2])
with right:
    name = st.text_input(t("情景名称", "Scenario name"), scenario.name)
    description = st.text_area(t("说明", "Description"), scenario.description, height=68)
    scenario = sc.rename(scenario, name=name, description=description)
result, after, after_targets = sc.evaluated_current(scenario, choices.resolution)

with left:
    click = sc.scenario_map(map_view(choices, targets=targets, categories=categories),
                            baseline=baseline, after=result, facilities=after)
    if click:
        st.session_state["edit_lon"], st.session_state["edit_lat"] = click
        st.caption(t(f"已取点：{click[0]:.6f}, {click[1]:.6f}",
                     f"Picked: {click[0]:.6f}, {click[1]:.6f}"))

with right:
    ids = sc.facility_choices(after[after["status"] != "closed"])
    add, move, close, capacity, radius = st.tabs(
        [t("新增", "Add"), t("移动", "Move"), t("关闭", "Close"), t("容量", "Capacity"),
         t("半径/目标", "Radius/target")])
    with add:
        lon = st.number_input(t("经度", "Longitude"), value=121.40, format="%.6f", key="edit_lon")
        lat = st.number_input(t("纬度", "Latitude"), value=31.21, format="%.6f", key="edit_lat")
        new_name = st.text_input(t("名称", "Name"), t("规划设施", "Planned facility"))
        new_capacity = st.number_input(t("容量", "Capacity"), min_value=0.0, value=0.0)
        shown = as_text(names[choices.category])
        if st.button(t(f"新增{shown}", f"Add {shown}"), key="do_add"):
            try_edit(Edit("add", facility_id=free_id(scenario, facilities["id"], prefix="NEW"),
                          category=choices.category, name=new_name, lon=lon, lat=lat,
                          capacity=new_capacity or None))
    with move:
        chosen = st.selectbox(t("设施", "Facility"), list(ids), format_func=ids.get,
                              key="move_id")
        st.caption(t("移到上方新增页中的经纬度（可点击地图取点）。",
                     "Moves to the longitude/latitude in the Add tab (click the map)."))
        if st.button(t("移动设施", "Move facility"), key="do_move"):
            try_edit(Edit("move", facility_id=chosen, lon=lon, lat=lat))
    with close:
        chosen = st.selectbox(t("设施", "Facility"), list(ids), format_func=ids.get,
                              key="close_id")
        if st.button(t("关闭设施", "Close facility"), key="do_close"):
            try_edit(Edit("close", facility_id=chosen))
    with capacity:
        chosen = st.selectbox(t("设施", "Facility"), list(ids), format_func=ids.get,
                              key="capacity_id")
        amount = st.number_input(t("新容量", "New capacity"), min_value=0.0, value=100.0)
        if st.button(t("修改容量", "Change capacity"), key="do_capacity"):
            try_edit(Edit("capacity", facility_id=chosen, capacity=amount))
    with radius:
        target = targets[choices.category]
        metres = st.number_input(t("服务半径（米）", "Radius (m)"), min_value=50.0,
                                 value=float(target.radius_m), step=50.0)
        share = st.slider(t("目标比例", "Target share"), 0.0, 1.0, float(target.target_share))
        if st.button(t("覆盖该类别的半径与目标", "Override this category"), key="do_radius"):
            try_edit(Edit("radius", category=choices.category, value=metres),
                     Edit("target", category=choices.category, value=share))

    st.markdown(t("**编辑记录**", "**Edits**"))
    for index, edit in enumerate(scenario.edits):
        text, undo = st.columns([5, 1])
        text.text(f"{index + 1}. {edit.describe()}")
        if undo.button(t("撤销", "Undo"), key=f"undo_{index}"):
            sc.set_current(scenario.without_edit(index),
                           stored_id=st.session_state.get(sc.KEYS["stored_id"]))
            st.rerun()

comparison = compare_streets(baseline, result)
gained, lost = gain_columns(result)
shown = comparison[comparison["category"] == choices.category]
st.subheader(t(f"对比现状：{as_text(names[choices.category])}",
               f"Against the baseline: {as_text(names[choices.category])}"))
gain_zh, gain_en = gain_words(result)
number = "{:,.2f}" if result.basis == "area" else "{:,.0f}"
st.metric(t(f"{gain_zh}（全区）", f"{gain_en.capitalize()} (district)"),
          number.format(shown[gained].sum()),
          delta=f"-{number.format(shown[lost].sum())}" if shown[lost].sum() else None)
for row in shown[shown["delta_pp"] != 0].itertuples():
    st.text(f"· {row.street}: {row.share_before:.1%} → {row.share_after:.1%}")
show_table(shown.assign(
    covered_before_pct=(shown["share_before"] * 100).round(1),
    covered_after_pct=(shown["share_after"] * 100).round(1),
    meets_target=shown["meets_after"])[
    ["code", "street", "covered_before_pct", "covered_after_pct", "delta_pp",
     gained, "meets_before", "meets_target"]], highlight=True)

with st.expander(t("全部类别对比", "Every category"), expanded=False):
    every = comparison.assign(category=comparison["category"].map(lambda c: names.get(c, c)),
                              covered_before_pct=(comparison["share_before"] * 100).round(1),
                              covered_after_pct=(comparison["share_after"] * 100).round(1),
                              meets_target=comparison["meets_after"])
    show_table(every[["code", "street", "category", "covered_before_pct", "covered_after_pct",
                      "delta_pp", gained, lost, "meets_before",
                      "meets_target"]], highlight=True)
    totals = newly_covered_total(comparison)
    show_table(totals.assign(category=totals["category"].map(lambda c: names.get(c, c))))

sc.storage_panel(scenario, resolution=choices.resolution)
sc.compare_saved_panel(baseline, resolution=choices.resolution, category=choices.category)
sc.suggest_panel(result, streets=streets, category=choices.category)
export_panel(ReportInputs(result=result, facilities=after, targets=after_targets,
                          baseline=baseline, scenario=scenario.name, demo=data.demo),
             code=None, category=choices.category, mode=choices.mode, key="scenario_export")
