from __future__ import annotations

import dataclasses
import re

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.data.export_io import write_csv, write_geojson, write_gpkg, write_xlsx
from geo.data.schema import FACILITY_COLUMNS, normalize_facilities
from geo.engine.coverage import compute_coverage
from geo.engine.result import CoverageResult
from geo.model.errors import InputError
from geo.plan.export import (
    CELL_COLUMNS,
    COVERAGE_COLUMNS,
    cells_frame,
    coverage_table,
    facilities_frame,
    gaps_frame,
)
from tests.conftest import facility_frame

A, B = "310105900001", "310105900002"
NUMBERS = ["population", "cells", "covered_cells", "covered_cell_share",
           "covered_population_share", "facilities", "capacity", "radius_m", "target_share"]


@pytest.fixture
def facilities(targets) -> gpd.GeoDataFrame:
    """Markets in A's centre and far away, a closed market in B; the only car park is closed,
    so every cell is infinitely far from parking."""
    rows = [
        {"id": "m1", "name": "西菜场", "category": "market", "capacity": "80",
         "status": "existing", "note": "老店", "dx": 500, "dy": 500},
        {"id": "m2", "name": "远处", "category": "market", "capacity": "20",
         "status": "planned", "note": "", "dx": 9000, "dy": 500},
        {"id": "m3", "name": "东菜场", "category": "market", "capacity": "50",
         "status": "closed", "note": "已关", "dx": 1500, "dy": 500},
        {"id": "p1", "name": "停车", "category": "parking", "capacity": "100",
         "status": "closed", "note": "", "dx": 1500, "dy": 500},
    ]
    return normalize_facilities(facility_frame(rows), known_categories=targets.keys())


@pytest.fixture
def result(two_streets, targets, facilities) -> CoverageResult:
    return compute_coverage(two_streets, facilities, targets, resolution=10)


def _numbers_equal(left: pd.DataFrame, right: pd.DataFrame, *, rtol: float = 0.0) -> None:
    """The number columns are equal (NaN equals NaN): to the last bit unless ``rtol`` says."""
    for column in NUMBERS:
        np.testing.assert_allclose(left[column].to_numpy(dtype=float),
                                   right[column].to_numpy(dtype=float), rtol=rtol, atol=0,
                                   err_msg=column)


def _same_geometries(left: gpd.GeoSeries, right: gpd.GeoSeries) -> None:
    """Same shapes within 1e-9 degrees, whatever the ring orientation or start vertex."""
    assert len(left) == len(right)
    equal = shapely.equals_exact(shapely.normalize(left.to_numpy()),
                                 shapely.normalize(right.to_numpy()), tolerance=1e-9)
    assert equal.all()


# --- frames -------------------------------------------------------------------------------


def test_coverage_table_is_the_engines_numbers(result):
    table = coverage_table(result)
    assert list(table.columns) == COVERAGE_COLUMNS
    assert len(table) == 4  # 2 streets × 2 categories
    pd.testing.assert_frame_equal(table.drop(columns="meets_target"),
                                  result.streets[COVERAGE_COLUMNS].drop(columns="meets_target"),
                                  check_exact=True)
    assert table["meets_target"].dtype == object
    assert table["meets_target"].tolist() == [False, False, False, False]
    assert table["name"].tolist() == ["甲街道", "甲街道", "乙街道", "乙街道"]
    market_a = table.set_index(["code", "category"]).loc[(A, "market")]
    assert 0 < market_a["covered_cell_share"] < 1
    assert market_a["facilities"] == 1 and market_a["capacity"] == 80.0
    # the closed market in B counts neither as a facility nor as capacity
    assert table.set_index(["code", "category"]).loc[(B, "market"), "facilities"] == 0


def test_meets_target_unknown_is_none(result):
    meets = pd.array([True, None, False, None], dtype="boolean")
    table = coverage_table(dataclasses.replace(result,
                                               streets=result.streets.assign(meets_target=meets)))
    assert table["meets_target"].tolist() == [True, None, False, None]
    assert [type(v) for v in table["meets_target"]] == [bool, type(None), bool, type(None)]


def test_cells_frame_has_a_hexagon_per_cell_and_category(result):
    cells = cells_frame(result)
    assert list(cells.columns) == [*CELL_COLUMNS, "geometry"]
    assert len(cells) == len(result.cells) * len(result.categories)
    assert cells.crs == "EPSG:4326"
    assert (cells.geom_type == "Polygon").all()
    centres = result.cells.loc[cells["cell"]]
    assert shapely.contains_xy(cells.geometry.to_numpy(), centres["lon"].to_numpy(),
                               centres["lat"].to_numpy()).all()
    assert cells["code"].tolist() == centres["code"].tolist()
    np.testing.assert_array_equal(cells["population"], centres["population"])
    assert set(zip(cells["code"], cells["street"], strict=True)) == {(A, "甲街道"), (B, "乙街道")}
    engine = result.cell_coverage
    np.testing.assert_array_equal(cells["distance_m"].to_numpy(),
                                  engine["distance_m"].replace(np.inf, np.nan).to_numpy())
    assert cells["covered"].tolist() == engine["covered"].tolist()
    parking = cells[cells["category"] == "parking"]
    assert parking["distance_m"].isna().all()  # the only car park is closed: inf → NaN
    assert parking["nearest_id"].isna().all() and not parking["covered"].any()
    market = cells[cells["category"] == "market"]
    assert set(market["nearest_id"]) == {"m1"}  # m3 is closed, m2 is far
    assert market["covered"].any() and not market["covered"].all()


def test_gaps_frame_is_the_uncovered_cells(result):
    cells = cells_frame(result)
    gaps = gaps_frame(result)
    assert_geodataframe_equal(gaps, cells[~cells["covered"]].reset_index(drop=True))
    assert len(gaps) == int((~result.cell_coverage["covered"]).sum())


def test_code_restricts_to_one_street(result):
    table = coverage_table(result, code=B)
    assert table["code"].tolist() == [B, B]
    pd.testing.assert_frame_equal(
        table.drop(columns="meets_target"),
        result.streets.loc[result.streets["code"] == B, COVERAGE_COLUMNS]
        .drop(columns="meets_target").reset_index(drop=True), check_exact=True)
    cells = cells_frame(result, code=A)
    assert set(cells["code"]) == {A}
    assert len(cells) == int((result.cells["code"] == A).sum()) * 2
    gaps = gaps_frame(result, code=A)
    assert_geodataframe_equal(gaps, cells[~cells["covered"]].reset_index(drop=True))
    with pytest.raises(InputError, match="unknown street code '999'"):
        cells_frame(result, code="999")


def test_facilities_frame_keeps_closed_ones_in_model_order(facilities):
    shuffled = facilities[["note", *reversed(FACILITY_COLUMNS), "geometry"]]
    frame = facilities_frame(shuffled)
    assert list(frame.columns) == [*FACILITY_COLUMNS, "note", "geometry"]
    assert frame.crs == "EPSG:4326"
    assert frame["id"].tolist() == ["m1", "m2", "m3", "p1"]
    assert frame["status"].tolist() == ["existing", "planned", "closed", "closed"]
    assert (frame.geom_type == "Point").all()
    np.testing.assert_array_equal(frame.geometry.x, facilities["lon"])
    np.testing.assert_array_equal(frame.geometry.y, facilities["lat"])


# --- files --------------------------------------------------------------------------------


def test_csv_round_trip_keeps_chinese_and_full_precision(result, tmp_path):
    path = write_csv(coverage_table(result), tmp_path / "coverage.csv")
    assert path == tmp_path / "coverage.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    back = pd.read_csv(path, encoding="utf-8-sig", dtype={"code": str})
    assert list(back.columns) == COVERAGE_COLUMNS
    assert back["name"].tolist() == result.streets["name"].tolist()
    assert back["code"].tolist() == result.streets["code"].tolist()
    _numbers_equal(back, result.streets)
    assert back["meets_target"].tolist() == [False] * 4


def test_csv_writes_missing_as_empty_and_geometry_as_wkt(result, tmp_path):
    cells = cells_frame(result, code=A)
    path = write_csv(cells, tmp_path / "cells.csv")
    back = pd.read_csv(path, encoding="utf-8-sig", dtype={"code": str})
    assert list(back.columns) == [*CELL_COLUMNS, "geometry"]
    np.testing.assert_array_equal(back["distance_m"], cells["distance_m"])
    assert back["street"].eq("甲街道").all()
    _same_geometries(gpd.GeoSeries.from_wkt(back["geometry"]), cells.geometry)
    text = path.read_text(encoding="utf-8-sig").splitlines()
    parking = next(line for line in text if ",parking," in line)
    assert ",,,," in parking  # distance, nearest id and name empty


def test_xlsx_round_trip(result, tmp_path):
    long_name = "gaps of every street and every category"
    meets = pd.array([True, None, False, None], dtype="boolean")
    table = coverage_table(dataclasses.replace(result,
                                               streets=result.streets.assign(meets_target=meets)))
    path = write_xlsx({"coverage": table, long_name: gaps_frame(result)}, tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["coverage", long_name[:31]]
    sheet = book["coverage"]
    assert [c.value for c in sheet[1]] == COVERAGE_COLUMNS
    assert all(c.font.b for c in sheet[1])
    assert [sheet.cell(row=r, column=13).value for r in range(2, 6)] == [True, None, False, None]
    assert sheet.cell(row=2, column=13).data_type == "b"  # Excel's TRUE/FALSE
    assert sheet.column_dimensions["A"].width >= len(A)
    back = pd.read_excel(path, sheet_name=None, dtype={"code": str})
    assert set(back) == {"coverage", long_name[:31]}
    coverage = back["coverage"]
    assert coverage["name"].tolist() == result.streets["name"].tolist()
    # openpyxl writes floats with 16 significant digits ("%.16g"): equal to 1 part in 1e15
    _numbers_equal(coverage, result.streets, rtol=1e-15)
    gaps = back[long_name[:31]]
    assert len(gaps) == len(gaps_frame(result))
    np.testing.assert_allclose(gaps["distance_m"], gaps_frame(result)["distance_m"], rtol=1e-15)
    gap_sheet = book[long_name[:31]]
    distance = CELL_COLUMNS.index("distance_m") + 1
    parking_row = next(r for r in range(2, gap_sheet.max_row + 1)
                       if gap_sheet.cell(row=r, column=4).value == "parking")
    assert gap_sheet.cell(row=parking_row, column=distance).value is None  # NaN → empty


def test_xlsx_sheet_names_are_made_valid_and_distinct(tmp_path):
    frame = pd.DataFrame({"x": [1.5]})
    path = write_xlsx({"a/b": frame, "A_B": frame, "x" * 40: frame}, tmp_path / "n.xlsx")
    assert openpyxl.load_workbook(path).sheetnames == ["a_b", "A_B (2)", "x" * 31]


def test_geojson_round_trip(result, tmp_path):
    cells = cells_frame(result)
    path = write_geojson(cells, tmp_path / "cells.geojson")
    back = gpd.read_file(path)
    assert len(back) == len(cells)
    assert back.crs == "EPSG:4326"
    _same_geometries(back.geometry, cells.geometry)
    assert back["covered"].tolist() == cells["covered"].tolist()
    np.testing.assert_array_equal(back["distance_m"], cells["distance_m"])
    assert back["street"].tolist() == cells["street"].tolist()
    assert '"crs"' not in path.read_text(encoding="utf-8")  # RFC 7946: no crs member


def test_geojson_writes_optional_booleans_as_json_booleans(result, tmp_path):
    facilities = gpd.GeoDataFrame(
        {"meets_target": pd.Series([True, None], dtype=object)},
        geometry=[shapely.Point(121.4, 31.2), shapely.Point(121.5, 31.2)], crs="EPSG:4326")
    text = write_geojson(facilities, tmp_path / "b.geojson").read_text(encoding="utf-8")
    assert '"meets_target": true' in text and '"meets_target": null' in text


def test_gpkg_round_trip_and_overwrite(result, facilities, tmp_path):
    layers = {"cells": cells_frame(result), "gaps": gaps_frame(result),
              "facilities": facilities_frame(facilities)}
    path = write_gpkg(layers, tmp_path / "report.gpkg")
    assert pyogrio.list_layers(path)[:, 0].tolist() == ["cells", "gaps", "facilities"]
    for name, frame in layers.items():
        back = gpd.read_file(path, layer=name)
        assert len(back) == len(frame)
        assert back.crs == "EPSG:4326"
        _same_geometries(back.geometry, frame.geometry)
    back = gpd.read_file(path, layer="facilities")
    assert back["status"].tolist() == ["existing", "planned", "closed", "closed"]
    assert back["name"].tolist() == ["西菜场", "远处", "东菜场", "停车"]
    np.testing.assert_array_equal(back["capacity"], facilities["capacity"])
    back = gpd.read_file(path, layer="cells")
    np.testing.assert_array_equal(back["distance_m"], layers["cells"]["distance_m"])
    assert back["covered"].tolist() == layers["cells"]["covered"].tolist()
    write_gpkg({"gaps": layers["gaps"]}, path)
    assert pyogrio.list_layers(path)[:, 0].tolist() == ["gaps"]


def test_missing_directory_is_an_input_error(result, tmp_path):
    missing = tmp_path / "nowhere"
    cells = cells_frame(result)
    writers = [
        (lambda p: write_csv(cells, p), missing / "x.csv"),
        (lambda p: write_xlsx({"cells": cells}, p), missing / "x.xlsx"),
        (lambda p: write_geojson(cells, p), missing / "x.geojson"),
        (lambda p: write_gpkg({"cells": cells}, p), missing / "x.gpkg"),
    ]
    for write, path in writers:
        with pytest.raises(InputError, match=re.escape(str(path))):
            write(path)
        assert not missing.exists()


def test_xlsx_drops_control_characters_it_cannot_hold(tmp_path):
    frame = pd.DataFrame({"name": ["菜场\x08A", "ok"], "n": [1, 2]})
    path = write_xlsx({"s": frame}, tmp_path / "c.xlsx")
    back = pd.read_excel(path, sheet_name="s")
    assert back["name"].tolist() == ["菜场A", "ok"]
    assert frame.loc[0, "name"] == "菜场\x08A"  # the caller's frame is untouched
