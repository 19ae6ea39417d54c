"""Street view, for a street office: its map, its coverage against target and the district,
its uncovered blocks ranked by residents, and its facilities."""

from __future__ import annotations

import streamlit as st

from geo.plan.gaps import gap_blocks
from geo.plan.tables import street_facilities, street_profile
from layers.report import ReportInputs
from ui.controls import category_names, page_inputs, show_map
from ui.export import export_panel
from ui.i18n import lang, t
from ui.markdown import as_text
from ui.widgets import page_header, show_table

who = page_header(t("街道视图", "Street view"))
street_picker = st.sidebar.container()  # above the map controls in the sidebar
data = page_inputs()
targets, streets, facilities = data.targets, data.streets, data.facilities
categories, choices, result = data.categories, data.choices, data.result
labels = streets["name_en"].where(streets["name_en"] != "", streets["name"]) if lang() == "en" \
    else streets["name"]  # imported boundaries may have no English names
names_by_code = dict(zip(streets["code"], labels, strict=True))
codes = list(names_by_code)
own = [c for c in who.streets if c in names_by_code]  # a street office opens on its street
code = street_picker.selectbox(t("街道", "Street"), codes, format_func=names_by_code.get,
                               index=codes.index(own[0]) if own else 0, key="street")
names = category_names(targets, categories)
street = streets[streets["code"] == code]

st.subheader(as_text(names_by_code[code]))
show_map(choices, targets=targets, categories=categories,
         focus=tuple(street.total_bounds))

st.subheader(t("各类设施覆盖（对比全区平均与目标）",
               "Coverage per category, against the district average and the target"))
show_table(street_profile(result, code, names), highlight=True, basis=result.basis)

shown = as_text(names[choices.category])
st.subheader(t(f"未覆盖街区：{shown}（按人口排序）",
               f"Uncovered blocks: {shown} (most residents first)"))
blocks = gap_blocks(result, category=choices.category, code=code)
if len(blocks):
    show_table(blocks[["block", "cells", "residents", "nearest_name", "nearest_distance_m",
                       "max_distance_m"]])
else:
    st.success(t("该类设施已覆盖全部街区。", "Every block is covered for this category."))

st.subheader(t("街道内设施", "Facilities in the street"))
inside = street_facilities(streets, facilities, code)
show_table(inside.assign(category=inside["category"].map(lambda c: names.get(c, c))))

export_panel(ReportInputs(result=result, facilities=facilities, targets=targets,
                          demo=data.demo), code=code,
             category=choices.category, mode=choices.mode, key="street_export")
