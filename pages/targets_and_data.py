"""Targets and data: the radius and target of every category with their sources, and what the
loaded data holds (streets and facility counts)."""

from __future__ import annotations

import streamlit as st

from geo.tables import facility_counts, streets_table, targets_table
from ui.data import load_inputs
from ui.widgets import or_stop, page_header, show_table

page_header("目标与数据 Targets and data")
targets, streets, facilities = or_stop(load_inputs)

st.subheader("覆盖目标 Coverage targets")
st.caption("Defaults from data/targets.toml: straight-line service radius and the share of "
           "residents that must live within it. Where no standard was found the number is an "
           "assumption, as its source says; edit the file to change it.")
show_table(targets_table(targets))

st.subheader("街道 Streets")
show_table(streets_table(streets))

st.subheader("设施 Facilities")
show_table(facility_counts(facilities, {k: targets[k].bilingual() for k in targets.keys()}))
