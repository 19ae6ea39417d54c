"""The audit trail on the Data page, for administrators: filtered by time, user, action and
outcome, newest first."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from geo.data.audit import AuditEntry, checked, parse_since
from geo.data.sqlite import StoreError
from geo.model.access import Action
from geo.model.errors import InputError
from ui.auth import audit_log, principal
from ui.i18n import t
from ui.markdown import as_text

__all__ = ["audit_panel", "audit_table"]

#: Lines shown at most (the CLI's ``audit --format json`` gives every one).
SHOWN = 500
OUTCOMES = {"": ("全部", "all"), "ok": ("成功", "done"), "refused": ("拒绝", "refused"),
            "failed": ("失败", "failed")}


def audit_table(entries: list[AuditEntry]) -> pd.DataFrame:
    """The lines, newest first, with headers in the page's language."""
    rows = [e.as_dict() for e in reversed(entries)]
    frame = pd.DataFrame(rows, columns=["at", "user", "role", "action", "object", "outcome",
                                        "summary"])
    return frame.rename(columns={
        "at": t("时间 (UTC)", "Time (UTC)"), "user": t("用户", "User"), "role": t("角色", "Role"),
        "action": t("操作", "Action"), "object": t("对象", "Object"),
        "outcome": t("结果", "Outcome"), "summary": t("说明", "Summary")})


def audit_panel() -> None:
    """Filters and the newest :data:`SHOWN` matching lines; reading it is itself checked."""
    who = principal()
    since_col, user_col, action_col, outcome_col = st.columns(4)
    since = since_col.date_input(t("自（UTC 日期）", "Since (UTC date)"),
                                 value=dt.date.today() - dt.timedelta(days=30), key="audit_since")
    user = user_col.text_input(t("用户", "User"), key="audit_user").strip()
    action = action_col.text_input(t("操作（前缀，如 scenario）", "Action (prefix, e.g. scenario)"),
                                   key="audit_action").strip()
    outcome = outcome_col.selectbox(t("结果", "Outcome"), list(OUTCOMES),
                                    format_func=lambda o: t(*OUTCOMES[o]), key="audit_outcome")
    try:
        log = audit_log()
        checked(log, who, Action.AUDIT, object="audit trail")
        entries = log.entries(since=parse_since(since.isoformat()) if since else None,
                              user=user or None, action=action or None,
                              outcome=outcome or None, limit=SHOWN)
    except (InputError, StoreError) as exc:
        st.error(as_text(str(exc)))
        return
    st.caption(t(f"最近 {len(entries)} 条（最多显示 {SHOWN} 条；全部：python cli.py audit）",
                 f"The newest {len(entries)} lines (at most {SHOWN} shown; every one: "
                 "python cli.py audit)"))
    st.dataframe(audit_table(entries), hide_index=True)
