"""Small widgets shared by the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pandas as pd
import streamlit as st

from geo.model.access import Principal
from geo.model.errors import InputError
from ui.auth import identity_sidebar, principal
from ui.data import DEMO_NOTICE, load_dataset, load_inputs, load_targets
from ui.i18n import NUMBER_FORMATS, category_label, column_label, lang, t
from ui.markdown import as_text
from ui.versions import dataset_guard

__all__ = ["demo_notice", "or_error", "or_stop", "page_header", "show_table"]

T = TypeVar("T")



GAP_STYLE = "background-color: #fde0dd"


def _gap_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Cell styles: every cell of a row whose ``meets_target`` is False is shaded red."""
    below = (table["meets_target"] == False).fillna(False).to_numpy()  # noqa: E712
    styles = pd.DataFrame("", index=table.index, columns=table.columns)
    styles.loc[below, :] = GAP_STYLE
    return styles


#: Columns headed otherwise when the shares are of area (no population known).
AREA_COLUMNS = {"covered_residents_pct": "covered_area_pct"}


def show_table(table: pd.DataFrame, *, highlight: bool = False, basis: str = "residents",
               **kwargs: object) -> None:
    """A table with headers in the chosen language and formatted numbers; rows below target
    shaded when ``highlight``; shares headed as shares of area when ``basis`` is "area" (no
    population known). Extra keyword arguments go to ``st.dataframe``."""
    formats = {k: v for k, v in NUMBER_FORMATS.items() if k in table.columns}
    styler = table.style.format(formats, na_rep="–")
    if highlight and "meets_target" in table.columns:
        styler = styler.apply(lambda _: _gap_rows(table), axis=None)
    names = AREA_COLUMNS if basis == "area" else {}
    labels = {c: st.column_config.Column(column_label(names.get(c, c))) for c in table.columns}
    st.dataframe(styler, hide_index=True, column_config=labels, **kwargs)


def page_header(title: str, caption: str = "") -> Principal:
    """Page config, who the page acts for (a page reached without signing in stops here),
    title, optional caption, the dataset guard (a page whose data cannot be loaded says why
    and offers the way back) and the demo-data notice; the principal."""
    st.set_page_config(page_title=title, layout="wide")
    who = principal()
    identity_sidebar(who)
    st.title(title)
    if caption:
        st.caption(caption)
    dataset_guard(or_stop(load_targets))
    demo_notice()
    return who


def _part_label(part: str) -> str:
    fixed = {"boundaries": ("街道边界与人口", "street boundaries and population"),
             "population": ("居住人口分布", "where residents live"),
             "network": ("步行路网", "walking network")}
    if part in fixed:
        return t(*fixed[part])
    return category_label(load_inputs()[0], part)


def demo_notice() -> None:
    """The demo-data warning while any part of the shown dataset is the embedded demo; which
    parts, once some have been replaced by imported data."""
    try:
        dataset = load_dataset()
    except InputError:
        return  # the page itself shows the message
    parts = dataset.demo_parts
    if not parts:
        return
    if dataset.all_demo:
        st.warning(DEMO_NOTICE, icon="⚠️")
        return
    names = as_text(("、" if lang() == "zh" else ", ").join(_part_label(p) for p in parts))
    st.warning(t(f"以下部分仍为演示数据（示意，非官方）：{names}。",
                 f"These parts are still demo data (approximate, not official): {names}."),
               icon="⚠️")


def or_error(call: Callable[[], T]) -> T | None:
    """``call()``'s result; on bad input, its message as ``st.error`` and None (the page goes
    on, unlike :func:`or_stop`)."""
    try:
        return call()
    except InputError as exc:
        st.error(as_text(str(exc)))
        return None


def or_stop(load: Callable[[], T]) -> T:
    """``load()``'s result; on bad input, its message as ``st.error`` and the page stops."""
    try:
        return load()
    except InputError as exc:
        st.error(as_text(str(exc)))
        st.stop()
        raise  # st.stop() raises; this line only tells type checkers so
