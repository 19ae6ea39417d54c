from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.data.schema import normalize_facilities
from geo.engine.coverage import compute_coverage
from geo.engine.result import CoverageResult
from geo.model.errors import InputError
from geo.plan.gaps import BLOCK_COLUMNS, gap_blocks
from tests.conftest import facility_frame

S1, S2, S3 = "310105000001", "310105000002", "310105000003"

#: A res-9 cell in Changning, its six neighbours (sorted) and a far-away pair of neighbours.
C = h3.latlng_to_cell(31.215, 121.40, 9)
RING = sorted(h3.grid_ring(C, 1))
F = h3.latlng_to_cell(31.25, 121.45, 9)
G = sorted(h3.grid_ring(F, 1))[0]
#: Two ring cells of S1 that are not neighbours of each other.
A_CELL = RING[0]
B_CELL = next(r for r in RING[1:5] if not h3.are_neighbor_cells(A_CELL, r))


def _centre(cells: list[str]) -> tuple[float, float]:
    """Mean lon/lat of the cells' centres."""
    lat, lon = np.array([h3.cell_to_latlng(c) for c in cells]).mean(axis=0)
    return lon, lat


def _row(cell: str, category: str, distance: float, name: str, *, radius: float) -> dict:
    return {"cell": cell, "category": category, "distance_m": distance,
            "nearest_id": name.lower(), "nearest_name": name, "radius_m": radius,
            "covered": distance <= radius}


@pytest.fixture
def result() -> CoverageResult:
    """S1 (60 people): C and RING[0..4], 10 each; S2 (30 people): RING[5]; S3 (unknown): F, G.

    market (300 m): C, RING[0], RING[1] uncovered in S1; RING[5] uncovered in S2 (a neighbour
    of C); F and G uncovered in S3; RING[2..4] covered.
    parking (500 m): only A_CELL and B_CELL (S1, not neighbours) uncovered.
    """
    codes = {C: S1, **{r: S1 for r in RING[:5]}, RING[5]: S2, F: S3, G: S3}
    population = {S1: 10.0, S2: 30.0, S3: np.nan}
    ids = list(codes)
    latlng = np.array([h3.cell_to_latlng(c) for c in ids])
    cells = pd.DataFrame({"code": [codes[c] for c in ids], "lon": latlng[:, 1],
                          "lat": latlng[:, 0], "population": [population[codes[c]] for c in ids]},
                         index=pd.Index(ids, name="cell"))
    market = {C: (400, "M-c"), RING[0]: (350, "M-0"), RING[1]: (500, "M-1"),
              RING[5]: (320, "M-5"), F: (900, "M-f"), G: (800, "M-g")}
    parking = {A_CELL: (600, "P-a"), B_CELL: (700, "P-b")}
    rows = [_row(c, "market", *market.get(c, (100, "M-near")), radius=300) for c in ids]
    rows += [_row(c, "parking", *parking.get(c, (100, "P-near")), radius=500) for c in ids]
    boundaries = gpd.GeoDataFrame(
        {"code": [S1, S2, S3], "name": ["甲街道", "乙街道", "丙街道"], "name_en": ["A", "B", "C"],
         "population": [60.0, 30.0, np.nan]},
        geometry=[shapely.box(121.39, 31.21, 121.41, 31.22)] * 3, crs="EPSG:4326")
    return CoverageResult(resolution=9, categories=("market", "parking"), boundaries=boundaries,
                          cells=cells, cell_coverage=pd.DataFrame(rows),
                          streets=pd.DataFrame())


def test_fixture_geometry_is_as_designed():
    assert h3.are_neighbor_cells(C, RING[5])
    assert all(h3.are_neighbor_cells(C, r) for r in RING)
    assert h3.are_neighbor_cells(F, G)
    assert not h3.are_neighbor_cells(A_CELL, B_CELL)
    assert h3.grid_distance(C, F) > 2


def test_market_blocks_membership_and_figures(result):
    blocks = gap_blocks(result, category="market")
    assert list(blocks.columns) == BLOCK_COLUMNS
    assert blocks["block"].tolist() == [1, 2, 3]
    assert blocks["cell_ids"].tolist() == [tuple(sorted([C, RING[0], RING[1]])), (RING[5],),
                                           tuple(sorted([F, G]))]
    assert blocks["code"].tolist() == [S1, S2, S3]
    assert blocks["street"].tolist() == ["甲街道", "乙街道", "丙街道"]
    assert blocks["category"].tolist() == ["market"] * 3
    assert blocks["cells"].tolist() == [3, 1, 2]
    assert blocks["residents"].tolist()[:2] == [30.0, 30.0]
    assert np.isnan(blocks["residents"].iloc[2])
    assert blocks["nearest_name"].tolist() == ["M-0", "M-5", "M-g"]
    assert blocks["nearest_id"].tolist() == ["m-0", "m-5", "m-g"]
    assert blocks["nearest_distance_m"].tolist() == [350.0, 320.0, 800.0]
    assert blocks["max_distance_m"].tolist() == [500.0, 320.0, 900.0]
    for (_, row), cells in zip(blocks.iterrows(), [[C, RING[0], RING[1]], [RING[5]], [F, G]],
                               strict=True):
        assert (row["lon"], row["lat"]) == pytest.approx(_centre(cells), abs=1e-12)


def test_adjacent_uncovered_cells_of_different_streets_are_two_blocks(result):
    blocks = gap_blocks(result, category="market")
    holding = [ids for ids in blocks["cell_ids"] if C in ids or RING[5] in ids]
    assert len(holding) == 2
    assert RING[5] not in holding[0] and C not in holding[1]


def test_cells_joined_only_through_a_covered_cell_are_two_blocks(result):
    blocks = gap_blocks(result, category="parking")
    # equal residents and cells: the farther block (B_CELL, 700 m) comes first
    assert blocks["cell_ids"].tolist() == [(B_CELL,), (A_CELL,)]
    assert blocks["residents"].tolist() == [10.0, 10.0]
    assert blocks["nearest_name"].tolist() == ["P-b", "P-a"]
    assert blocks["max_distance_m"].tolist() == [700.0, 600.0]


def test_all_categories_sorted_by_residents_cells_distance_nan_last(result):
    blocks = gap_blocks(result)
    assert blocks["block"].tolist() == [1, 2, 3, 4, 5]
    assert list(zip(blocks["category"], blocks["cell_ids"], strict=True)) == [
        ("market", tuple(sorted([C, RING[0], RING[1]]))),  # 30 residents, 3 cells
        ("market", (RING[5],)),  # 30 residents, 1 cell
        ("parking", (B_CELL,)),  # 10 residents, 700 m
        ("parking", (A_CELL,)),  # 10 residents, 600 m
        ("market", tuple(sorted([F, G]))),  # unknown residents
    ]
    assert blocks.equals(gap_blocks(result))


def test_street_filter_and_both_filters(result):
    s1 = gap_blocks(result, code=S1)
    assert list(zip(s1["category"], s1["cells"], strict=True)) == [
        ("market", 3), ("parking", 1), ("parking", 1)]
    assert s1["block"].tolist() == [1, 2, 3]
    both = gap_blocks(result, category="market", code=S3)
    assert both["cell_ids"].tolist() == [tuple(sorted([F, G]))]
    assert both["block"].tolist() == [1]


def test_no_uncovered_cell_gives_an_empty_frame(result):
    empty = gap_blocks(result, category="parking", code=S2)
    assert list(empty.columns) == BLOCK_COLUMNS
    assert len(empty) == 0
    covered = result.cell_coverage.assign(covered=True)
    everything = CoverageResult(resolution=9, categories=result.categories,
                                boundaries=result.boundaries, cells=result.cells,
                                cell_coverage=covered, streets=pd.DataFrame())
    assert list(gap_blocks(everything).columns) == BLOCK_COLUMNS
    assert gap_blocks(everything).empty


def test_unknown_category_is_refused(result):
    with pytest.raises(InputError, match=r"^gaps: unknown category 'zoo' \(known: market, "
                                         r"parking\)$"):
        gap_blocks(result, category="zoo")


def test_unknown_street_code_is_refused(result):
    with pytest.raises(InputError, match=r"^gaps: unknown street code '999'$"):
        gap_blocks(result, code="999")


@pytest.fixture
def two_street_result(two_streets, targets) -> CoverageResult:
    """Market in the west square's centre (radius 300 m), parking in the east one's (500 m)."""
    facilities = normalize_facilities(facility_frame([
        {"id": "m1", "name": "西菜场", "category": "market", "dx": 500, "dy": 500},
        {"id": "m2", "name": "远处", "category": "market", "dx": 9000, "dy": 500},
        {"id": "p1", "name": "停车", "category": "parking", "dx": 1500, "dy": 500},
    ]), known_categories=targets.keys())
    return compute_coverage(two_streets, facilities, targets, resolution=10)


@pytest.mark.parametrize("category", ["market", "parking"])
def test_blocks_partition_the_uncovered_cells(two_street_result, category):
    result = two_street_result
    blocks = gap_blocks(result, category=category)
    uncovered = result.cell_coverage.query("category == @category and not covered")["cell"]
    members = [cell for ids in blocks["cell_ids"] for cell in ids]
    assert len(members) == len(set(members)) == len(uncovered)
    assert set(members) == set(uncovered)
    assert blocks["cells"].sum() == len(uncovered)
    assert blocks["residents"].sum() == pytest.approx(
        result.cells.loc[uncovered, "population"].sum())
    codes = result.cells["code"]
    for _, row in blocks.iterrows():
        assert set(codes.loc[list(row["cell_ids"])]) == {row["code"]}
    # blocks are maximal: no two blocks of one street touch
    owner = {cell: row["block"] for _, row in blocks.iterrows() for cell in row["cell_ids"]}
    for cell, block in owner.items():
        for other in h3.grid_ring(cell, 1):
            if other in owner and codes[other] == codes[cell]:
                assert owner[other] == block
    assert blocks["residents"].is_monotonic_decreasing


def test_market_gaps_are_one_block_per_street(two_street_result):
    blocks = gap_blocks(two_street_result, category="market")
    a, b = "310105900001", "310105900002"
    assert blocks["code"].tolist() == [b, a]  # all 3,000 of B before A's uncovered share
    assert blocks["residents"].iloc[0] == pytest.approx(3000.0)
    assert blocks["street"].tolist() == ["乙街道", "甲街道"]
    assert blocks["nearest_name"].tolist() == ["西菜场", "西菜场"]
    assert (blocks["nearest_distance_m"] > 300).all()


def test_missing_categories_counts_the_categories_that_fail_each_cell(two_streets, targets):
    from geo.data.schema import normalize_facilities
    from geo.engine.coverage import compute_coverage
    from geo.plan.gaps import missing_categories
    from tests.conftest import facility_frame

    facilities = normalize_facilities(facility_frame([
        {"id": "m1", "name": "m", "category": "market", "dx": 500, "dy": 500},
        {"id": "p1", "name": "p", "category": "parking", "dx": 500, "dy": 500},
    ]), known_categories=targets.keys())
    result = compute_coverage(two_streets, facilities, targets, resolution=10)
    missing = missing_categories(result)
    assert list(missing.index) == list(result.cells.index)
    per_cell = result.cell_coverage.groupby("cell")["covered"].apply(lambda c: (~c).sum())
    assert (missing["missing"] == per_cell.reindex(missing.index)).all()
    assert set(missing["missing"]) == {0, 1, 2}  # near the point both, farther one, far none
