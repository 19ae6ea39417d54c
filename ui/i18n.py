"""Chinese and English labels: the language switch and the text of table headers.

Chinese is the default. Text is given in place as a (zh, en) pair: ``t("街道", "Street")``.
"""

from __future__ import annotations

import streamlit as st

__all__ = ["COLUMNS", "LANG_KEY", "NUMBER_FORMATS", "category_label", "column_label", "lang",
           "language_switch", "t"]

LANG_KEY = "lang"
LANGUAGES = {"zh": "中文", "en": "English"}

#: Table column key → (Chinese, English) header.
COLUMNS = {
    "id": ("编号", "ID"),
    "code": ("代码", "Code"),
    "street": ("街道", "Street"),
    "category": ("类别", "Category"),
    "residents": ("常住人口", "Residents"),
    "cells": ("网格数", "Cells"),
    "covered_cells": ("覆盖网格", "Covered cells"),
    "covered_residents_pct": ("覆盖人口 %", "Covered residents %"),
    "covered_area_pct": ("覆盖面积 %", "Covered area %"),
    "district_pct": ("全区平均 %", "District average %"),
    "target_pct": ("目标 %", "Target %"),
    "facilities": ("设施数", "Facilities"),
    "capacity": ("容量", "Capacity"),
    "meets_target": ("达标", "Meets target"),
    "streets_below_target": ("未达标街道", "Streets below target"),
    "name": ("名称", "Name"),
    "name_en": ("英文名", "English name"),
    "area_km2": ("面积 km²", "Area km²"),
    "subtype": ("子类", "Subtype"),
    "status": ("状态", "Status"),
    "address": ("地址", "Address"),
    "radius_m": ("服务半径 m", "Radius m"),
    "radius_source": ("半径依据", "Radius source"),
    "target_source": ("目标依据", "Target source"),
    "block": ("缺口", "Gap"),
    "nearest_name": ("最近设施", "Nearest facility"),
    "nearest_distance_m": ("最近距离 m", "Distance m"),
    "max_distance_m": ("最远距离 m", "Farthest m"),
    "covered_before_pct": ("现状覆盖 %", "Before %"),
    "covered_after_pct": ("情景覆盖 %", "After %"),
    "delta_pp": ("变化（百分点）", "Change (pp)"),
    "newly_covered_residents": ("新增覆盖人口", "Newly covered residents"),
    "lost_residents": ("失去覆盖人口", "Residents no longer covered"),
    "newly_covered_area_km2": ("新增覆盖面积 km²", "Newly covered area km²"),
    "lost_area_km2": ("失去覆盖面积 km²", "Area no longer covered km²"),
    "meets_before": ("现状达标", "Met before"),
    "scenario_a": ("情景 A %", "Scenario A %"),
    "scenario_b": ("情景 B %", "Scenario B %"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "newly_covered_cells": ("新增覆盖网格", "Newly covered cells"),
    "figure": ("指标", "Figure"),
    "seed": ("2023 评估报告", "2023 review"),
    "loaded": ("当前数据", "Loaded data"),
    "count": ("数量", "Count"),
    "source": ("来源", "Source"),
    "crs": ("坐标系", "CRS"),
    "reason": ("原因", "Reason"),
}
#: Display formats (str.format) of numeric columns, by column key.
NUMBER_FORMATS = {
    "residents": "{:,.0f}",
    "covered_residents_pct": "{:.1f}",
    "district_pct": "{:.1f}",
    "target_pct": "{:.0f}",
    "capacity": "{:,.0f}",
    "area_km2": "{:.2f}",
    "radius_m": "{:,.0f}",
    "nearest_distance_m": "{:,.0f}",
    "max_distance_m": "{:,.0f}",
    "seed": "{:,.0f}",
    "covered_before_pct": "{:.1f}",
    "covered_after_pct": "{:.1f}",
    "delta_pp": "{:+.1f}",
    "newly_covered_residents": "{:,.0f}",
    "lost_residents": "{:,.0f}",
    "newly_covered_area_km2": "{:,.2f}",
    "lost_area_km2": "{:,.2f}",
    "scenario_a": "{:.1f}",
    "scenario_b": "{:.1f}",
    "lon": "{:.6f}",
    "lat": "{:.6f}",
    "loaded": "{:,.0f}",
}


def category_label(targets, category: str) -> str:
    """A category's display name in the chosen language (its key when it has no target)."""
    return targets[category].label(lang()) if category in targets else category


def lang() -> str:
    """The chosen language: "zh" (default) or "en"."""
    return st.session_state.get(LANG_KEY, "zh")


def t(zh: str, en: str) -> str:
    """The text in the chosen language."""
    return en if lang() == "en" else zh


def column_label(key: str) -> str:
    """A table column's header in the chosen language (the key itself when unknown)."""
    pair = COLUMNS.get(key)
    return (pair[1] if lang() == "en" else pair[0]) if pair else key


def language_switch() -> None:
    """The language switch in the sidebar; its value is kept in session state across pages."""
    st.session_state.setdefault(LANG_KEY, "zh")
    st.sidebar.radio("语言 Language", list(LANGUAGES), format_func=LANGUAGES.get,
                     horizontal=True, key=LANG_KEY)
