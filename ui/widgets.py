"""Small widgets shared by the pages."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.tables import COLUMN_LABELS, NUMBER_FORMATS

__all__ = ["show_table"]

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
