"""Data: what the app shows now, and importing official facility lists and street boundaries
in place of the demo (checked row by row; applied all at once or not at all)."""

from __future__ import annotations

import streamlit as st

from ui.data import load_inputs
from ui.i18n import t
from ui.importing import boundaries_panel, current_panel, facilities_panel
from ui.widgets import or_stop, page_header

page_header(t("数据导入", "Data import"),
            t("导入各部门的设施清单和官方街道边界，替换演示数据。先检查，再导入；"
              "导入要么完整生效，要么不改变现有数据。",
              "Import the departments' facility lists and the official street boundaries in "
              "place of the demo. Check first, then import: an import lands completely or "
              "leaves the data as it was."))
targets, _, _ = or_stop(load_inputs)

st.subheader(t("当前数据", "The data shown now"))
current_panel(targets)

facilities_tab, boundaries_tab = st.tabs([t("设施", "Facilities"), t("街道边界", "Boundaries")])
with facilities_tab:
    facilities_panel(targets)
with boundaries_tab:
    boundaries_panel()
