"""Isochrone outlines: each facility's cells within the radius (walked or straight), the
category's outline the union of them, exported as GeoJSON-ready frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from geo.data.schema import normalize_facilities
from geo.engine.coverage import compute_coverage
from geo.engine.hexgrid import cell_areas_km2, cells_outline
from geo.engine.network import build_network
from geo.engine.walk import network_nearest
from geo.model.errors import InputError
from geo.plan.reach import ISOCHRONE_COLUMNS, isochrones
from tests.conftest import ORIGIN_X, ORIGIN_Y, facility_frame


@pytest.fixture
def markets(targets):
    return normalize_facilities(facility_frame([
        {"id": "m1", "name": "西", "category": "market", "dx": 300, "dy": 500},
        {"id": "m2", "name": "东", "category": "market", "dx": 1700, "dy": 500},
        {"id": "m3", "name": "关", "category": "market", "dx": 900, "dy": 900,
         "status": "closed"}]), known_categories=targets.keys())


def _ladder():
    """A street along y = 500 m from x = 0 to 2000 and a cross street at x = 300."""
    nodes = pd.DataFrame({"id": list("abcd"),
                          "x": ORIGIN_X + np.array([0.0, 300, 2000, 300]),
                          "y": ORIGIN_Y + np.array([500.0, 500, 500, 900])})
    return build_network(nodes, pd.DataFrame({"u": ["a", "b", "b"], "v": ["b", "c", "d"]}),
                         max_snap_m=120.0)


def _cells(frame, fid):
    return frame.set_index("id").loc[fid, "cells"]


@pytest.mark.parametrize("walk", [False, True])
def test_each_facility_reaches_its_cells_and_the_category_is_their_union(
        two_streets, targets, markets, walk):
    network = _ladder() if walk else None
    result = compute_coverage(two_streets, markets, targets, resolution=10, network=network)
    frame = isochrones(result, markets, category="market")
    assert list(frame.columns) == [*ISOCHRONE_COLUMNS, "geometry"]
    assert frame["scope"].tolist() == ["category", "facility", "facility"]  # not the closed one
    assert set(frame["distance"]) == {"network" if walk else "straight"}
    radius = targets["market"].radius_m
    reached = {}
    for fid in ("m1", "m2"):
        one = markets[markets["id"] == fid]
        distance = (network_nearest(result.cells, one, network)["distance_m"] if walk
                    else compute_coverage(two_streets, one, targets, resolution=10)
                    .cell_coverage.query("category == 'market'").set_index("cell")["distance_m"])
        reached[fid] = set(distance.index[distance.to_numpy() <= radius])
        assert _cells(frame, fid) == len(reached[fid]) > 0
        row = frame.set_index("id").loc[fid]
        assert row.geometry.equals(cells_outline(sorted(reached[fid])))
    union = reached["m1"] | reached["m2"]
    category = frame.iloc[0]
    assert category["cells"] == len(union)
    assert category.geometry.equals(cells_outline(sorted(union)))
    assert category["area_km2"] == pytest.approx(cell_areas_km2(sorted(union)).sum())


def test_walking_reaches_less_than_the_straight_line(two_streets, targets, markets):
    walked = isochrones(compute_coverage(two_streets, markets, targets, resolution=10,
                                         network=_ladder()), markets, category="market")
    straight = isochrones(compute_coverage(two_streets, markets, targets, resolution=10),
                          markets, category="market")
    assert (walked["cells"] <= straight["cells"]).all()
    assert walked["cells"].sum() < straight["cells"].sum()
    assert shapely.difference(walked.geometry.iloc[0], straight.geometry.iloc[0]).area < 1e-12


def test_an_unknown_category_is_refused(two_streets, targets, markets):
    result = compute_coverage(two_streets, markets, targets, resolution=10)
    with pytest.raises(InputError, match=r"isochrones: unknown category 'sports'"):
        isochrones(result, markets, category="sports")
