"""Smoke tests of the pages under pages/ with Streamlit's AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def test_targets_and_data_page_lists_targets_streets_and_facilities():
    page = ROOT / "pages" / "targets_and_data.py"
    at = AppTest.from_file(str(page), default_timeout=120).run()
    assert not at.exception, at.exception
    assert not at.error
    targets, streets, facilities = (d.value for d in at.dataframe)
    assert len(targets) == 5
    assert targets["服务半径 m Radius"].tolist() == [1000, 500, 1000, 500, 500]
    assert targets["半径依据 Radius source"].str.len().gt(0).all()
    assert len(streets) == 10
    assert streets["面积 km² Area"].sum() == pytest.approx(37.5, abs=0.05)
    parking = facilities[facilities["类别 Category"].str.startswith("公共停车场")]
    assert parking["设施 Facilities"].sum() == 120
