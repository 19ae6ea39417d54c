"""What the AppTests share: how long a page may take, the demo's categories, the map drawn."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

#: Seconds an AppTest run may take (the first run of a page computes the coverage).
TIMEOUT = 120
CATEGORIES = ["charger", "market", "sports", "canteen", "parking"]


def map_html(at: AppTest) -> str:
    """The map document drawn in the page's iframe."""
    frames = at.get("iframe")
    assert len(frames) == 1
    return frames[0].proto.srcdoc
