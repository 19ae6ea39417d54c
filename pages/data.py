"""Data: what the app shows now and its versions, importing official facility lists and street
boundaries in place of the demo (checked row by row; each import a new version) — for the roles
that may import — and, for administrators, the audit trail."""

from __future__ import annotations

import streamlit as st

from geo.model.access import Action, refusal
from ui.audit import audit_panel
from ui.boundary_import import boundaries_panel
from ui.data import load_targets
from ui.i18n import t
from ui.importing import facilities_panel
from ui.living_import import network_panel, population_panel
from ui.versions import current_panel
from ui.widgets import page_header

who = page_header(t("数据导入", "Data import"),
                  t("导入各部门的设施清单、官方街道边界、居住人口和步行路网，替换演示数据。"
                    "先检查，再导入；每次导入都是一个新版本，可随时回退。",
                    "Import the departments' facility lists, the official street boundaries, "
                    "where residents live and the walking network in place of the demo. Check "
                    "first, then import: every import is a new version that can be rolled "
                    "back."))
targets = load_targets()

st.subheader(t("当前数据", "The data shown now"))
current_panel(targets)

if refusal(who, Action.IMPORT) is None:
    facilities_tab, boundaries_tab, people_tab, network_tab = st.tabs([
        t("设施", "Facilities"), t("街道边界", "Boundaries"), t("居住人口", "Residents"),
        t("步行路网", "Walking network")])
    with facilities_tab:
        facilities_panel(targets)
    with boundaries_tab:
        boundaries_panel(targets)
    with people_tab:
        population_panel()
    with network_tab:
        network_panel()
else:
    st.info(t("导入数据仅限区规划人员和管理员。", "Only district planners and administrators "
                                               "import data."))

if refusal(who, Action.AUDIT) is None:
    st.subheader(t("审计记录", "Audit trail"))
    audit_panel()
