"""Map explorer: every layer toggleable — streets, facilities by category, coverage, gaps."""

from __future__ import annotations

import streamlit as st

from geo.plan.gaps import streets_below_target
from layers.report import ReportInputs
from ui.controls import category_names, page_inputs, show_map
from ui.export import export_panel
from ui.i18n import t
from ui.markdown import as_text
from ui.widgets import page_header, show_table

page_header(t("地图浏览", "Map explorer"),
            t("图层可在地图右上角开关；平移缩放不会重新计算。",
              "Switch layers in the map's top-right panel; panning and zooming recompute nothing."))
data = page_inputs()
targets, streets, facilities = data.targets, data.streets, data.facilities
categories, choices, result = data.categories, data.choices, data.result
show_map(choices, targets=targets, categories=categories)

name = as_text(category_names(targets, categories)[choices.category])
below = streets_below_target(result, choices.category)
st.subheader(t(f"未达标街道：{name}", f"Streets below target: {name}"))
if len(below):
    show_table(below.assign(street=below["name"],
                            covered_residents_pct=(below["covered_population_share"] * 100)
                            .round(1),
                            target_pct=below["target_share"] * 100)
               [["code", "street", "covered_residents_pct", "target_pct", "facilities"]],
               basis=result.basis)
else:
    st.success(t("所有街道均达到目标。", "Every street meets the target."))

export_panel(ReportInputs(result=result, facilities=facilities, targets=targets,
                          demo=data.demo), code=None,
             category=choices.category, mode=choices.mode, key="explorer_export")
