"""Small widgets shared by the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pandas as pd
import streamlit as st

from geo._errors import InputError
from geo.tables import COLUMN_LABELS, NUMBER_FORMATS
from ui.data import DEMO_NOTICE

__all__ = ["or_stop", "page_header", "show_table"]

T = TypeVar("T")

GAP_STYLE = "background-color: #fde0dd"


def highlight_gap(row: pd.Series) -> list[str]:
    """Row style: a street below target is shaded red."""
    return [GAP_STYLE if row[COLUMN_LABELS["meets_target"]] is False else ""] * len(row)


def show_table(table: pd.DataFrame, *, highlight: bool = False) -> None:
    """A table with bilingual headers and formatted numbers; gaps shaded when ``highlight``."""
    shown = table.rename(columns=COLUMN_LABELS)
    styler = shown.style.format({k: v for k, v in NUMBER_FORMATS.items() if k in shown},
                                na_rep="–")
    if highlight:
        styler = styler.apply(highlight_gap, axis=1)
    st.dataframe(styler, hide_index=True)


def page_header(title: str, caption: str = "") -> None:
    """Page config, title, optional caption and the demo-data notice."""
    st.set_page_config(page_title=title, layout="wide")
    st.title(title)
    if caption:
        st.caption(caption)
    st.warning(DEMO_NOTICE, icon="⚠️")


def or_stop(load: Callable[[], T]) -> T:
    """``load()``'s result; on bad input, its message as ``st.error`` and the page stops."""
    try:
        return load()
    except InputError as exc:
        st.error(str(exc))
        st.stop()
        raise  # st.stop() raises; this line only tells type checkers so
