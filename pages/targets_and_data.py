"""Targets and data: the radius and target of every category with their sources, and what the
loaded data holds (streets and facility counts)."""

from __future__ import annotations

import streamlit as st

from geo.plan.tables import facility_counts, streets_table, targets_table
from ui.data import load_dataset, load_inputs
from ui.i18n import lang, t
from ui.targets import targets_editor
from ui.widgets import or_stop, page_header, show_table

page_header(t("目标与数据", "Targets and data"))
targets, streets, facilities = or_stop(load_inputs)
labels = {k: targets[k].label(lang()) for k in targets.keys()}

st.subheader(t("覆盖目标", "Coverage targets"))
st.caption(t("取自 data/targets.toml：服务半径，以及须居住在半径内的居民比例（长者食堂按60岁"
             "以上老人计）。未找到标准处为假设，依据栏已注明；修改该文件即可调整，管理员也可"
             "在此设置（依据栏注明设置人和时间）。",
             "From data/targets.toml: the service radius and the share of residents that must "
             "live within it (for elderly canteens, of those aged 60+). Where no standard was "
             "found the number is an assumption, as its source says; edit the file to change "
             "it, or (administrators) set a value here — its source then says who set it and "
             "when."))
if load_dataset().network is not None:
    st.info(t("半径按沿步行路网的步行距离计算。", "Radii are walks along the street network."))
elif targets.detour_factor != 1:
    st.info(t(f"无步行路网：半径按直线距离 × 绕行系数 {targets.detour_factor:g} 计算。",
              f"No walking network: radii are straight lines × the detour factor "
              f"{targets.detour_factor:g}."))
else:
    st.info(t("无步行路网：半径按直线距离计算。", "No walking network: radii are straight "
                                                 "lines."))
show_table(targets_table(targets, labels))
targets_editor(targets)

st.subheader(t("街道", "Streets"))
show_table(streets_table(streets))

st.subheader(t("设施", "Facilities"))
show_table(facility_counts(facilities, labels))
