"""The Targets page's editor, for administrators: a category's radius and target share set in
the app over the targets file's values, or set back to them; every change audited."""

from __future__ import annotations

import streamlit as st

from geo.data.sqlite import StoreError
from geo.data.target_store import MAX_RADIUS_M, MIN_RADIUS_M, TargetStore
from geo.model import config
from geo.model.access import Action, refusal
from geo.model.errors import InputError
from geo.model.targets import Targets
from ui.auth import principal
from ui.i18n import category_label, t
from ui.markdown import as_text

__all__ = ["targets_editor"]


def _store() -> TargetStore:
    return TargetStore(config.STATE_DB)


def _done(message: str) -> None:
    st.session_state["targets_saved"] = message
    st.rerun()


def targets_editor(targets: Targets) -> None:
    """For a role that may edit targets: pick a category, set its radius and share, or go
    back to the file's values. Other roles see who may."""
    who = principal()
    if refusal(who, Action.TARGETS) is not None:
        st.caption(t("目标由管理员设置。", "Administrators set the targets."))
        return
    if "targets_saved" in st.session_state:
        st.success(st.session_state.pop("targets_saved"))
    with st.expander(t("修改目标（管理员）", "Change a target (administrators)")):
        category = st.selectbox(t("类别", "Category"), targets.keys(),
                                format_func=lambda c: category_label(targets, c),
                                key="target_category")
        now = targets[category]
        radius = st.number_input(t("服务半径（米）", "Radius (m)"), min_value=MIN_RADIUS_M,
                                 max_value=MAX_RADIUS_M, value=float(now.radius_m), step=50.0,
                                 key=f"target_radius_{category}")
        share = st.slider(t("目标比例", "Target share"), 0.0, 1.0, float(now.target_share),
                          step=0.01, key=f"target_share_{category}")
        save, back = st.columns(2)
        try:
            if save.button(t("保存目标", "Save the target"), key="target_save"):
                _store().set(who, category, radius_m=radius, target_share=share,
                             known=targets)
                _done(t("目标已保存，各页面已按新目标计算。",
                        "Saved: every page now uses the new target."))
            if category in _store().overrides() and back.button(
                    t("恢复文件中的值", "Back to the file's values"), key="target_clear"):
                _store().clear(who, category)
                _done(t("已恢复 targets.toml 中的值。", "Back to the values of targets.toml."))
        except (InputError, StoreError) as exc:
            st.error(as_text(str(exc)))
