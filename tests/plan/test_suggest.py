from __future__ import annotations

import json
import re

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.data.schema import normalize_facilities
from geo.engine.coverage import compute_coverage
from geo.engine.hexgrid import metric_xy
from geo.engine.result import CoverageResult
from geo.model.errors import InputError
from geo.plan.suggest import SITE_COLUMNS, coverage_matrix, sites_to_dict, suggest_sites
from tests.conftest import facility_frame, metric_to_lonlat

S1, S2 = "310105000001", "310105000002"
RES = 12
MARKET_RADIUS, PARKING_RADIUS = 250.0, 500.0
#: A res-12 cell centre lies within an edge (~9.4 m) of the point it was picked at, so a
#: designed distance is true to within twice that.
JITTER_M = 20.0

#: name -> (dx, dy metres from the fixture origin, population, covered, street code)
Layout = dict[str, tuple[float, float, float, bool, str]]


def _cell_at(dx: float, dy: float) -> str:
    """The res-12 H3 cell containing the point ``dx``/``dy`` metres from the origin."""
    lon, lat = metric_to_lonlat(dx, dy)
    return h3.latlng_to_cell(float(lat), float(lon), RES)


def _coverage_rows(ids: list[str], covered: list[bool]) -> pd.DataFrame:
    """market (250 m) and parking (500 m) rows; both categories share the covered flags."""
    rows = []
    for category, radius in (("market", MARKET_RADIUS), ("parking", PARKING_RADIUS)):
        rows += [{"cell": c, "category": category, "distance_m": 100.0 if cov else 900.0,
                  "nearest_id": "f", "nearest_name": "F", "radius_m": radius, "covered": cov}
                 for c, cov in zip(ids, covered, strict=True)]
    return pd.DataFrame(rows)


def _result(layout: Layout) -> tuple[CoverageResult, dict[str, str]]:
    """A hand-built coverage result with one res-12 cell per layout entry, and the cell ids."""
    names = {name: _cell_at(dx, dy) for name, (dx, dy, *_) in layout.items()}
    ids = list(names.values())
    assert len(set(ids)) == len(ids)
    latlng = np.array([h3.cell_to_latlng(c) for c in ids])
    cells = pd.DataFrame({"code": [v[4] for v in layout.values()], "lon": latlng[:, 1],
                          "lat": latlng[:, 0], "population": [v[2] for v in layout.values()]},
                         index=pd.Index(ids, name="cell"))
    boundaries = gpd.GeoDataFrame(
        {"code": [S1, S2], "name": ["甲街道", "乙街道"], "name_en": ["A", "B"],
         "population": [np.nan, np.nan]},
        geometry=[shapely.box(121.3, 31.1, 121.5, 31.3)] * 2, crs="EPSG:4326")
    result = CoverageResult(resolution=RES, categories=("market", "parking"),
                            boundaries=boundaries, cells=cells,
                            cell_coverage=_coverage_rows(ids, [v[3] for v in layout.values()]),
                            streets=pd.DataFrame())
    return result, names


def _distance(result: CoverageResult, a: str, b: str) -> float:
    xy = metric_xy(result.cells.loc[[a, b], "lon"], result.cells.loc[[a, b], "lat"])
    return float(np.hypot(*(xy[0] - xy[1])))


def _rows(sites: pd.DataFrame) -> list[tuple]:
    """(cell, population, cells) per site; NaN population as None."""
    return [(c, None if np.isnan(p) else p, n) for c, p, n in
            zip(sites["cell"], sites["newly_covered_population"], sites["newly_covered_cells"],
                strict=True)]


#: P: one cell of 100 residents. Q1, Q2: 30 each, 300 m apart; QM between them is covered
#: (its 999 residents are not demand) and reaches both.
RESIDENTS_NOT_CELLS: Layout = {
    "P": (0, 0, 100.0, False, S1),
    "Q1": (1000, 0, 30.0, False, S1),
    "QM": (1150, 0, 999.0, True, S1),
    "Q2": (1300, 0, 30.0, False, S1),
}

#: A line: the best first site (x=200, 145 residents) also reaches x=400, so x=400's own 140
#: drop to 45 and the covered cell at x=700 (reaching x=600 and x=900, 50) comes second.
OVERLAP: Layout = {
    "x0": (0, 0, 50.0, False, S1),
    "x200": (200, 0, 50.0, False, S1),
    "x400": (400, 0, 45.0, False, S1),
    "x600": (600, 0, 45.0, False, S1),
    "x700": (700, 0, 7.0, True, S1),
    "x900": (900, 0, 5.0, False, S1),
}

#: X: one cell of 20; Y1/Y2: two cells of 10, 150 m apart (either covers both).
TIES: Layout = {
    "X": (0, 0, 20.0, False, S1),
    "Y1": (2000, 0, 10.0, False, S1),
    "Y2": (2150, 0, 10.0, False, S1),
}

#: a, b in S1 300 m apart; m in S2 halfway between them; h a heavy cell of S2 far away.
STREETS: Layout = {
    "a": (0, 0, 10.0, False, S1),
    "b": (300, 0, 10.0, False, S1),
    "m": (150, 0, 1.0, False, S2),
    "h": (3000, 0, 500.0, False, S2),
}

#: M1 (5) + M2 (unknown) weigh 6; N1 + N2 (both unknown) weigh 2; K weighs 1.5.
UNKNOWN: Layout = {
    "M1": (4000, 0, 5.0, False, S1),
    "M2": (4150, 0, np.nan, False, S1),
    "N1": (0, 0, np.nan, False, S1),
    "N2": (150, 0, np.nan, False, S1),
    "K": (2000, 0, 1.5, False, S1),
}


@pytest.mark.parametrize("layout", [RESIDENTS_NOT_CELLS, OVERLAP, TIES, STREETS, UNKNOWN])
def test_fixture_distances_are_as_designed(layout):
    result, ids = _result(layout)
    for a, (ax, ay, *_) in layout.items():
        for b, (bx, by, *_) in layout.items():
            designed = np.hypot(ax - bx, ay - by)
            assert _distance(result, ids[a], ids[b]) == pytest.approx(designed, abs=JITTER_M)
            assert abs(designed - MARKET_RADIUS) >= 50  # no designed distance is near it


def test_first_pick_covers_the_most_residents_not_the_most_cells():
    result, ids = _result(RESIDENTS_NOT_CELLS)
    sites = suggest_sites(result, category="market", k=5)
    assert list(sites.columns) == SITE_COLUMNS
    assert _rows(sites) == [(ids["P"], 100.0, 1), (ids["QM"], 60.0, 2)]  # then nothing is left
    assert sites["lon"].tolist() == result.cells.loc[sites["cell"], "lon"].tolist()
    assert sites["lat"].tolist() == result.cells.loc[sites["cell"], "lat"].tolist()
    assert sites["newly_covered_cells"].dtype == np.int64
    assert sites["newly_covered_population"].dtype == np.float64
    assert sites.index.tolist() == [0, 1]
    assert _rows(suggest_sites(result, category="market", k=1)) == [(ids["P"], 100.0, 1)]


def test_second_pick_counts_only_what_the_first_left_uncovered():
    result, ids = _result(OVERLAP)
    sites = suggest_sites(result, category="market", k=3)
    assert _rows(sites) == [(ids["x200"], 145.0, 3), (ids["x700"], 50.0, 2)]
    assert sites["newly_covered_population"].sum() == 50 + 50 + 45 + 45 + 5


def test_ties_go_to_more_cells_then_the_smallest_cell_id():
    result, ids = _result(TIES)
    first = min(ids["Y1"], ids["Y2"])  # Y1 and Y2 each cover 20 residents in 2 cells
    expected = [(first, 20.0, 2), (ids["X"], 20.0, 1)]
    assert _rows(suggest_sites(result, category="market", k=3)) == expected
    reordered, _ = _result(dict(reversed(TIES.items())))
    assert _rows(suggest_sites(reordered, category="market", k=3)) == expected


def test_a_rounding_difference_in_residents_is_a_tie():
    layout = {"one": (0, 0, 0.8, False, S1),
              "two_a": (2000, 0, 0.7, False, S1), "two_b": (2150, 0, 0.1, False, S1)}
    assert 0.7 + 0.1 < 0.8
    result, ids = _result(layout)
    sites = suggest_sites(result, category="market", k=1)
    assert sites["cell"].tolist() == [min(ids["two_a"], ids["two_b"])]
    assert sites["newly_covered_cells"].tolist() == [2]


def test_the_street_filter_limits_candidates_and_demand():
    result, ids = _result(STREETS)
    everywhere = suggest_sites(result, category="market", k=2)
    assert _rows(everywhere) == [(ids["h"], 500.0, 1), (ids["m"], 21.0, 3)]
    in_s1 = suggest_sites(result, category="market", k=5, code=S1)
    first, second = sorted([ids["a"], ids["b"]])
    assert _rows(in_s1) == [(first, 10.0, 1), (second, 10.0, 1)]  # m is not S1's demand
    in_s2 = suggest_sites(result, category="market", k=5, code=S2)
    assert _rows(in_s2) == [(ids["h"], 500.0, 1), (ids["m"], 1.0, 1)]


def test_unknown_population_weighs_one_a_cell_and_is_reported_unknown():
    result, ids = _result(UNKNOWN)
    sites = suggest_sites(result, category="market", k=4)
    assert _rows(sites) == [(min(ids["M1"], ids["M2"]), None, 2),
                            (min(ids["N1"], ids["N2"]), None, 2),
                            (ids["K"], 1.5, 1)]


def test_the_categorys_radius_is_used():
    layout = {"a": (0, 0, 10.0, False, S1), "b": (400, 0, 10.0, False, S1)}
    result, ids = _result(layout)
    assert _distance(result, ids["a"], ids["b"]) == pytest.approx(400, abs=JITTER_M)
    first, second = sorted(ids.values())
    assert _rows(suggest_sites(result, category="market", k=2)) == [
        (first, 10.0, 1), (second, 10.0, 1)]
    assert _rows(suggest_sites(result, category="parking", k=2)) == [(first, 20.0, 2)]


def test_nothing_uncovered_gives_no_sites():
    layout = {"a": (0, 0, 10.0, True, S1), "b": (400, 0, 10.0, True, S2)}
    result, _ = _result(layout)
    sites = suggest_sites(result, category="market", k=3)
    assert list(sites.columns) == SITE_COLUMNS
    assert len(sites) == 0
    assert sites["newly_covered_cells"].dtype == np.int64
    assert sites_to_dict(sites, category="market", resolution=RES) == {
        "category": "market", "resolution": RES, "sites": []}


def test_coverage_matrix_marks_the_pairs_within_the_radius():
    result, ids = _result(OVERLAP)
    cells = result.cells.loc[[ids["x0"], ids["x200"], ids["x900"]]]
    matrix = coverage_matrix(cells, cells, radius_m=MARKET_RADIUS)
    assert matrix.shape == (3, 3)
    assert matrix.dtype == bool
    assert matrix.toarray().tolist() == [[True, True, False], [True, True, False],
                                         [False, False, True]]
    assert coverage_matrix(cells.iloc[:0], cells, radius_m=MARKET_RADIUS).shape == (0, 3)


@pytest.mark.parametrize("k", [0, 21, -1, 2.0, True, "3", None])
def test_k_must_be_an_integer_from_1_to_20(k):
    result, _ = _result(TIES)
    with pytest.raises(InputError, match=r"^suggest: k must be an integer from 1 to 20, got "
                                         + re.escape(repr(k)) + "$"):
        suggest_sites(result, category="market", k=k)


def test_k_accepts_numpy_integers():
    result, _ = _result(TIES)
    assert len(suggest_sites(result, category="market", k=np.int64(1))) == 1


def test_unknown_category_is_refused():
    result, _ = _result(TIES)
    with pytest.raises(InputError,
                       match=r"^suggest: unknown category 'zoo' \(known: market, parking\)$"):
        suggest_sites(result, category="zoo", k=1)


def test_unknown_street_is_refused():
    result, _ = _result(TIES)
    with pytest.raises(InputError, match=r"^suggest: unknown street code '999'$"):
        suggest_sites(result, category="market", k=1, code="999")


def test_every_bad_option_is_listed_at_once():
    result, _ = _result(TIES)
    with pytest.raises(InputError, match=r"(?s)3 problem.*k must.*'zoo'.*'999'"):
        suggest_sites(result, category="zoo", k=0, code="999")


def test_sites_to_dict_shape():
    result, ids = _result(UNKNOWN)
    sites = suggest_sites(result, category="market", k=3)
    out = sites_to_dict(sites, category="market", resolution=np.int64(RES))
    assert list(out) == ["category", "resolution", "sites"]
    assert out["category"] == "market"
    assert out["resolution"] == RES and type(out["resolution"]) is int
    assert [list(s) for s in out["sites"]] == [SITE_COLUMNS] * 3
    last = out["sites"][2]
    lon, lat = result.cells.loc[ids["K"], ["lon", "lat"]]
    assert last == {"lon": round(lon, 6), "lat": round(lat, 6), "cell": ids["K"],
                    "newly_covered_population": 1.5, "newly_covered_cells": 1}
    assert out["sites"][0]["newly_covered_population"] is None
    assert all(type(s["newly_covered_cells"]) is int for s in out["sites"])
    assert all(type(s["lon"]) is float and type(s["lat"]) is float for s in out["sites"])
    assert json.loads(json.dumps(out)) == out


def _uncovered_population(result: CoverageResult, code: str | None) -> float:
    rows = result.cell_coverage.query("category == 'market' and not covered")
    rows = rows.merge(result.cells, left_on="cell", right_index=True)
    if code is not None:
        rows = rows[rows["code"] == code]
    return float(rows["population"].sum())


@pytest.mark.parametrize("code", [None, "310105900002"])
def test_suggested_sites_cover_what_they_claim_once_planned(two_streets, targets, code):
    base = [{"id": "m1", "name": "西菜场", "category": "market", "status": "existing",
             "dx": 500, "dy": 500},
            {"id": "p1", "name": "停车", "category": "parking", "status": "existing",
             "dx": 1500, "dy": 500}]
    known, existing = targets.keys(), facility_frame(base)
    before = compute_coverage(two_streets, normalize_facilities(existing, known_categories=known),
                              targets, resolution=10)
    sites = suggest_sites(before, category="market", k=3, code=code)
    assert len(sites) == 3
    planned = pd.DataFrame({"id": [f"new{i}" for i in range(len(sites))], "name": "新",
                            "category": "market", "status": "planned",
                            "lon": [repr(v) for v in sites["lon"]],
                            "lat": [repr(v) for v in sites["lat"]]})
    facilities = pd.concat([existing, planned], ignore_index=True).astype(str)
    after = compute_coverage(two_streets, normalize_facilities(facilities, known_categories=known),
                             targets, resolution=10)
    gained = _uncovered_population(before, code) - _uncovered_population(after, code)
    assert sites["newly_covered_population"].sum() == pytest.approx(gained, abs=1e-6)
    assert gained > 0
