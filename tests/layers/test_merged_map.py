"""Large grids on the map: cells merged by street and distance band (one outline each)."""

from __future__ import annotations

import json

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.data.io import read_boundaries, read_demo, read_targets
from geo.engine.coverage import compute_coverage
from geo.engine.hexgrid import cell_polygons, cells_outline
from geo.model.config import METRIC_CRS
from geo.plan.tables import category_cells
from layers.explorer import MapView, explorer_map
from layers.folium_layers import merged_cells, merged_coverage_layer
from layers.offline import standalone_html
from layers.style import DISTANCE_BANDS
from tests.conftest import shared_file

XSS = "<img src=x onerror=alert(1)>"


def _cells(distances: list[float], street: str = "甲") -> gpd.GeoDataFrame:
    """A row of neighbouring cells with the given distances (radius 100 m)."""
    start = h3.latlng_to_cell(31.21, 121.40, 10)
    ids = [start]
    while len(ids) < len(distances):
        ids.append(next(n for n in h3.grid_ring(ids[-1], 1) if n not in ids
                        and all(h3.grid_distance(n, i) > 1 for i in ids[:-1])))
    return gpd.GeoDataFrame({"cell": ids, "code": "310105900001", "street": street,
                             "distance_m": distances,
                             "covered": [d <= 100 for d in distances]},
                            geometry=cell_polygons(ids).to_numpy(), crs="EPSG:4326")


def test_an_outline_covers_exactly_its_cells_and_keeps_holes():
    centre = h3.latlng_to_cell(31.2, 121.4, 10)
    ring = [*h3.grid_ring(centre, 2), *h3.grid_ring(centre, 3)]
    outline = cells_outline(ring)
    union = shapely.union_all(cell_polygons(ring).to_numpy())
    assert outline.geom_type == "Polygon" and len(outline.interiors) == 1
    assert outline.symmetric_difference(union).area < 1e-9 * union.area
    assert cells_outline([]).is_empty


def test_cells_merge_by_street_covered_and_band():
    cells = _cells([10, 20, 60, 120, 500, 30])
    merged = merged_cells(cells, radius_m=100, mode="distance")
    colour = [c for _, c in DISTANCE_BANDS]  # ≤ 50, ≤ 100, ≤ 150, ≤ 200, > 200 m
    assert set(merged[["covered", "fill", "cells"]].itertuples(index=False, name=None)) == {
        (True, colour[0], 3), (True, colour[1], 1), (False, colour[2], 1), (False, colour[4], 1)}
    assert merged["cells"].sum() == len(cells)
    assert merged.to_crs(METRIC_CRS).area.sum() == pytest.approx(
        cells.to_crs(METRIC_CRS).area.sum(), rel=1e-9)
    by_covered = merged_cells(cells, radius_m=100, mode="covered")
    assert sorted(by_covered["cells"]) == [2, 4]


def test_merged_areas_escape_street_names_and_say_their_band():
    cells = _cells([10, 500], street=XSS)
    layer = merged_coverage_layer(merged_cells(cells, radius_m=100, mode="distance"),
                                  radius_m=100, name="覆盖")
    html = json.dumps(next(iter(layer._children.values())).data, ensure_ascii=False)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and XSS not in html
    assert '"band": "0–50 m"' in html and '"band": "&gt; 200 m"' in html


def test_the_explorer_merges_above_the_cell_limit():
    targets = read_targets()
    streets, facilities = read_demo(targets)
    result = compute_coverage(streets, facilities, targets, resolution=10)
    cells = category_cells(result, "market")
    view = MapView(category="market", radius_m=targets["market"].radius_m,
                   category_names={"market": "菜市场"}, shown=("market",))
    per_cell = standalone_html(explorer_map(view, streets=streets, facilities=facilities,
                                            cells=cells))
    merged = standalone_html(explorer_map(view, streets=streets, facilities=facilities,
                                          cells=cells, cell_limit=len(cells) - 1))
    assert '"band": ' in merged and '"band": ' not in per_cell
    expected = merged_cells(cells, radius_m=view.radius_m, mode="distance")
    assert merged.count('"band": ') == len(expected) < len(cells)
    assert len(merged) < len(per_cell) / 3


def test_a_shanghai_wide_grid_stays_a_small_map():
    targets = read_targets()
    streets = read_boundaries(shared_file("data", "osm", "shanghai_streets_113.geojson"))
    _, facilities = read_demo(targets)
    result = compute_coverage(streets, facilities, targets, resolution=10)
    cells = category_cells(result, "market")
    assert len(cells) > 140_000
    view = MapView(category="market", radius_m=targets["market"].radius_m,
                   category_names={"market": "菜市场"})
    html = standalone_html(explorer_map(view, streets=streets, facilities=facilities,
                                        cells=cells))
    assert len(html) < 5_000_000
    merged = merged_cells(cells, radius_m=view.radius_m, mode="distance")
    assert merged["cells"].sum() == len(cells)
    covered = merged.loc[merged["covered"], "cells"].sum()
    assert covered == int(cells["covered"].sum())
    assert np.array_equal(np.sort(pd.unique(merged["code"])), np.sort(streets["code"]))


def test_the_map_page_says_when_it_merges_cells(monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import layers.explorer
    import ui.controls
    from tests.apptest import TIMEOUT, map_html
    from tests.conftest import ROOT

    monkeypatch.setattr(layers.explorer, "MAP_CELL_LIMIT", 100)
    monkeypatch.setattr(ui.controls, "MAP_CELL_LIMIT", 100)
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(ROOT / "pages" / "map_explorer.py"),
                               default_timeout=TIMEOUT).run()
        assert not at.exception, at.exception
        assert any(c.value.startswith("网格较多（3,") for c in at.caption)
        assert '"band": ' in map_html(at)
    finally:
        st.cache_data.clear()
