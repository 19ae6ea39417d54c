"""What the AppTests share: how long a page may take, the demo's categories, the map drawn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

#: Seconds an AppTest run may take (the first run of a page computes the coverage).
TIMEOUT = 120
CATEGORIES = ["charger", "market", "sports", "canteen", "parking"]


def map_html(at: AppTest) -> str:
    """The map document drawn in the page's iframe."""
    frames = at.get("iframe")
    assert len(frames) == 1
    return frames[0].proto.srcdoc


def scenario_page(db: Path, monkeypatch) -> Iterator[AppTest]:
    """The Scenarios page run once, its scenario store in ``db`` (for a ``page`` fixture)."""
    import ui.scenarios
    from tests.conftest import ROOT

    monkeypatch.setattr(ui.scenarios, "SCENARIO_DB", db)
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "scenarios.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    yield at
    st.cache_resource.clear()


def edit_lines(at: AppTest) -> list[str]:
    """The Scenarios page's list of edits, one line each."""
    return [m.value for m in at.text if m.value[:1].isdigit()]
