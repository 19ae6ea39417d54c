"""Changning coverage map: the overview page, and the navigation to the pages under ``pages/``.

Run with ``streamlit run app.py``. Logic lives in ``geo/`` (computation) and ``layers/`` (map);
``ui/`` holds the cached loaders and controls the pages share.
"""

from __future__ import annotations

import streamlit as st

from geo.plan.seed import seed_comparison
from geo.plan.tables import district_table, street_table
from ui.auth import gate, sign_in_page
from ui.controls import category_names, page_inputs, show_map
from ui.i18n import lang, language_switch, t
from ui.markdown import as_text
from ui.widgets import page_header, show_table


def district_kpis(table) -> None:
    """One metric per category: residents covered against target, streets below target."""
    columns = st.columns(len(table))
    for column, row in zip(columns, table.itertuples(), strict=True):
        gap = row.covered_residents_pct - row.target_pct
        column.metric(as_text(row.category), f"{row.covered_residents_pct:.1f}%",
                      delta=t(f"{gap:+.1f} 个百分点", f"{gap:+.1f} pp"))
        whose = {"elderly": t("60岁以上老人", "of those aged 60+"),
                 "area": t("覆盖面积（无人口数据）", "of area (no population data)")}.get(
            row.judged_on, t("居民", "of residents"))
        column.caption(t(f"{whose}；目标 {row.target_pct:.0f}%，未达标街道 "
                         f"{row.streets_below_target} 个",
                         f"{whose}; target {row.target_pct:.0f}%, {row.streets_below_target} "
                         "streets below it"))


def overview() -> None:
    """District KPIs, the review's figures against the loaded data, the map, the street table."""
    page_header(t("长宁区 15 分钟社区生活圈设施覆盖",
                  "Changning: 15-minute walk coverage of facilities"))
    data = page_inputs()
    targets, facilities = data.targets, data.facilities
    categories, choices, result = data.categories, data.choices, data.result
    names = category_names(targets, categories)
    shown = as_text(names[choices.category])

    st.subheader(t("全区覆盖", "District coverage"))
    kpis = district_table(result, names)
    district_kpis(kpis)

    st.subheader(t("评估报告数字与当前数据", "The 2023 review's figures and the loaded data"))
    show_table(seed_comparison(facilities, lang=lang()))

    st.subheader(t(f"覆盖地图：{shown}", f"Map: {shown}"))
    show_map(choices, targets=targets, categories=categories)

    st.subheader(t(f"各街道覆盖：{shown}", f"Coverage per street: {shown}"))
    table = street_table(result, choices.category)
    show_table(table, highlight=True, basis=result.basis)
    below = int((table["meets_target"] == False).sum())  # noqa: E712
    st.caption(t(f"低于目标的街道：{below} / {len(table)}（红色标出）",
                 f"Streets below target: {below} / {len(table)} (shaded red)"))


def main() -> None:
    """Navigation between the overview and the pages under pages/; the language switch. When
    sign-in is required and the session has not signed in, the sign-in page is the only one."""
    language_switch()
    if gate() is None:
        st.navigation([st.Page(sign_in_page, title=t("登录", "Sign in"), url_path="sign_in",
                               default=True)], position="hidden").run()
        return
    # url paths = the file names, so that Streamlit's first run of a fresh server (which treats
    # pages/ the legacy way) resolves a deep link to the same page
    pages = [
        st.Page(overview, title=t("总览", "Overview"), default=True),
        st.Page("pages/map_explorer.py", title=t("地图浏览", "Map explorer"),
                url_path="map_explorer"),
        st.Page("pages/street.py", title=t("街道视图", "Street view"), url_path="street"),
        st.Page("pages/scenarios.py", title=t("情景模拟", "Scenarios"), url_path="scenarios"),
        st.Page("pages/targets_and_data.py", title=t("目标与数据", "Targets and data"),
                url_path="targets_and_data"),
        st.Page("pages/data.py", title=t("数据导入", "Data import"), url_path="data"),
    ]
    st.navigation(pages).run()


main()
