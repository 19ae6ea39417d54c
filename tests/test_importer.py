from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod, Transformer

from geo._errors import InputError
from geo.coords import wgs84_to_bd09, wgs84_to_gcj02
from geo.importer import import_facilities, parse_crs, parse_mapping, suggest_mapping
from geo.io import read_demo, read_table, read_targets
from geo.scenario import placement_area
from tests.cli_helpers import run_cli
from tests.conftest import shared_file

KNOWN = ["charger", "market", "sports", "canteen", "parking"]
AREA = shapely.box(121.30, 31.15, 121.50, 31.26)


def _sheet(**columns) -> pd.DataFrame:
    base = {"序号": ["1", "2"], "名称": ["甲", "乙"], "经度": ["121.40", "121.41"],
            "纬度": ["31.21", "31.22"], "类型": ["菜市场", "market"]}
    base.update(columns)
    return pd.DataFrame(base)


def test_mapping_is_suggested_from_chinese_and_english_headers():
    assert suggest_mapping(["编号", "名称", "地址", "经度", "纬度", "类型", "容量", "状态"]) == {
        "id": "编号", "name": "名称", "category": "类型", "capacity": "容量", "address": "地址",
        "lon": "经度", "lat": "纬度", "status": "状态"}
    assert suggest_mapping(["ID", "Name", "LNG", "Y", "x"]) == {
        "id": "ID", "name": "Name", "lon": "LNG", "lat": "Y"}


def test_mapping_option_is_checked_against_fields_and_columns():
    assert parse_mapping("name=名称, lon=X", columns=["名称", "X"]) == {"name": "名称", "lon": "X"}
    with pytest.raises(InputError, match=r"'colour=X': expected FIELD=COLUMN"):
        parse_mapping("colour=X", columns=["X"])
    with pytest.raises(InputError, match=r"'lon=经度': no column '经度'"):
        parse_mapping("lon=经度", columns=["X"])


def test_crs_names_and_epsg_codes():
    assert parse_crs("GCJ02") == "gcj02" and parse_crs(None) == "wgs84"
    assert parse_crs("cgcs2000").to_epsg() == 4490
    assert parse_crs("EPSG:32651").to_epsg() == 32651
    with pytest.raises(InputError, match=r"--crs 'mars': not wgs84"):
        parse_crs("mars")


def test_rows_are_accepted_or_rejected_with_every_reason():
    frame = _sheet(序号=["1", "1", "3", "4", "5", "6", "7"],
                   名称=["甲", "乙", "", "丁", "戊", "己", "庚"],
                   经度=["121.40", "121.41", "121.42", "abc", "200", "120.0", "121.43"],
                   纬度=["31.21"] * 7, 类型=["菜市场", "market", "market", "market", "market",
                                              "market", "zoo"])
    report = import_facilities(frame, known_categories=KNOWN, area=AREA)
    assert report.accepted["id"].tolist() == ["1"]
    assert report.accepted.loc[0, "category"] == "market"  # 菜市场 → market
    assert report.rejected["reason"].tolist() == [
        "duplicate id", "empty name", "missing or non-numeric coordinates",
        "coordinates out of range", "outside the study area", "unknown category"]
    assert list(report.rejected.columns) == [*frame.columns, "reason"]
    assert report.summary() == {"accepted": 1, "rejected": 6, "reasons": {
        "coordinates out of range": 1, "duplicate id": 1, "empty name": 1,
        "missing or non-numeric coordinates": 1, "outside the study area": 1,
        "unknown category": 1}}


def test_rows_without_id_get_their_row_number_and_category_option_applies():
    frame = pd.DataFrame({"name": ["a", "b"], "x": ["121.40", "121.41"], "y": ["31.2", "31.2"]})
    report = import_facilities(frame, known_categories=KNOWN, category="parking")
    assert report.accepted["id"].tolist() == ["row-2", "row-3"]
    assert set(report.accepted["category"]) == {"parking"}
    assert set(report.accepted["status"]) == {"existing"}


@pytest.mark.parametrize("crs, forward", [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_chinese_coordinates_come_back_within_a_metre(crs, forward):
    lon = np.array([121.3712, 121.4105, 121.4388])
    lat = np.array([31.2011, 31.2154, 31.2233])
    glon, glat = forward(lon, lat)
    frame = pd.DataFrame({"name": ["a", "b", "c"], "lon": [f"{v:.8f}" for v in glon],
                          "lat": [f"{v:.8f}" for v in glat]})
    report = import_facilities(frame, known_categories=KNOWN, category="market", crs=crs)
    metres = Geod(ellps="WGS84").inv(report.accepted["lon"], report.accepted["lat"], lon, lat)[2]
    assert np.max(metres) < 1.0


def test_projected_input_is_converted():
    frame = pd.DataFrame({"name": ["a"], "x": ["347000"], "y": ["3453000"]})
    report = import_facilities(frame, known_categories=KNOWN, category="market",
                               crs=parse_crs("EPSG:32651"))
    lon, lat = Transformer.from_crs("EPSG:32651", "EPSG:4326", always_xy=True).transform(
        347000, 3453000)
    assert (report.accepted.loc[0, "lon"], report.accepted.loc[0, "lat"]) == pytest.approx(
        (lon, lat), abs=1e-8)


def test_hints_for_swapped_columns_and_another_crs():
    targets = read_targets()
    streets, facilities = read_demo(targets)
    area = placement_area(streets, targets)
    sample = facilities.iloc[:40]
    swapped = pd.DataFrame({"name": sample["name"], "lon": sample["lat"].astype(str),
                            "lat": sample["lon"].astype(str)})
    report = import_facilities(swapped, known_categories=KNOWN, category="market", area=area)
    assert report.accepted.empty
    assert report.hints[0].startswith("lon and lat look swapped: 100%")
    glon, glat = wgs84_to_gcj02(sample["lon"].to_numpy(), sample["lat"].to_numpy())
    as_gcj = pd.DataFrame({"name": sample["name"], "lon": glon, "lat": glat}).astype(str)
    near = shapely.union_all(shapely.buffer(shapely.points(sample["lon"], sample["lat"]), 0.001))
    report = import_facilities(as_gcj, known_categories=KNOWN, category="market", area=near)
    assert len(report.rejected) > 30  # read as WGS-84 most land ~500 m off
    assert report.hints == [
        "100% of the points would land inside the study area if read as GCJ02"]


def test_no_coordinate_columns_is_one_clear_error():
    with pytest.raises(InputError, match=r"no column for lon and lat \(columns: 名称, 地址"):
        import_facilities(pd.DataFrame({"名称": ["a"], "地址": ["b"]}),
                          known_categories=KNOWN, category="market")
    with pytest.raises(InputError, match=r"no category: give --category"):
        import_facilities(pd.DataFrame({"lon": ["1"], "lat": ["2"]}), known_categories=KNOWN)


def _write_every_format(tmp_path) -> dict[str, str]:
    frame = _sheet()
    points = gpd.GeoDataFrame(frame.drop(columns=["经度", "纬度"]),
                              geometry=gpd.points_from_xy([121.40, 121.41], [31.21, 31.22]),
                              crs="EPSG:4326")
    paths = {"csv": tmp_path / "a.csv", "xlsx": tmp_path / "a.xlsx",
             "geojson": tmp_path / "a.geojson", "gpkg": tmp_path / "a.gpkg",
             "zip": tmp_path / "a.zip"}
    frame.to_csv(paths["csv"], index=False, encoding="gb18030")
    frame.to_excel(paths["xlsx"], index=False)
    points.to_file(paths["geojson"])
    points.to_crs("EPSG:32651").to_file(paths["gpkg"])
    (tmp_path / "shp").mkdir()
    points.to_file(tmp_path / "shp" / "a.shp")
    with zipfile.ZipFile(paths["zip"], "w") as archive:
        for part in (tmp_path / "shp").iterdir():
            archive.write(part, part.name)
    return {k: str(v) for k, v in paths.items()}


def test_every_format_imports_through_the_cli(tmp_path):
    for fmt, path in _write_every_format(tmp_path).items():
        out = tmp_path / f"out-{fmt}"
        done = run_cli("import", "--facilities", path, "--category-field", "类型", "--out",
                       str(out))
        assert done.returncode == 0, (fmt, done.stderr)
        assert json.loads(done.stdout) == {"accepted": 2, "rejected": 0, "reasons": {}}, fmt
        accepted = pd.read_csv(out / "facilities.csv", encoding="utf-8-sig", dtype=str)
        assert accepted.columns.tolist()[:11] == ["id", "name", "category", "subtype",
                                                  "capacity", "address", "lon", "lat", "crs",
                                                  "status", "source"]
        assert accepted["name"].tolist() == ["甲", "乙"], fmt
        assert [round(float(v), 6) for v in accepted["lon"]] == [121.40, 121.41], fmt
        assert (out / "rejected.csv").exists()


def test_cli_import_errors_exit_2(tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a spreadsheet")
    for args, fragment in [
        (["--facilities", str(broken)], "broken.xlsx: cannot be read as XLSX"),
        (["--facilities", str(tmp_path / "none.csv")], "none.csv: no such file"),
        (["--facilities", str(broken), "--crs", "mars"], "broken.xlsx"),
    ]:
        done = run_cli("import", *args, "--category", "market", "--out", str(tmp_path / "o"))
        assert done.returncode == 2 and fragment in done.stderr
        assert "Traceback" not in done.stderr


def test_the_real_osm_pois_import_in_place(tmp_path):
    path = shared_file("data", "osm", "changning_pois.geojson")
    frame = read_table(path)
    report = import_facilities(frame, known_categories=KNOWN, category_field="fclass")
    assert report.summary()["accepted"] + report.summary()["rejected"] == len(frame)
    assert set(report.accepted["category"]) == {"market", "sports", "parking"}
    assert (report.accepted["category"] == "parking").sum() == 45


def test_the_real_shanghai_shapefiles_import_in_place():
    path = shared_file("data", "osm", "shanghai_pois", "gis_osm_traffic_free_1.shp")
    frame = read_table(path)
    report = import_facilities(frame, known_categories=KNOWN, category_field="fclass")
    parking = (frame["fclass"] == "parking").sum()
    assert (report.accepted["category"] == "parking").sum() == parking - report.rejected[
        report.rejected["fclass"] == "parking"].shape[0]
    assert parking > 100


def test_boundary_overlaps_and_gaps_are_reported():
    from geo.importer import boundary_problems
    from tests.conftest import ORIGIN_X, ORIGIN_Y

    def box(x0: float, x1: float) -> shapely.Polygon:
        return shapely.box(ORIGIN_X + x0, ORIGIN_Y, ORIGIN_X + x1, ORIGIN_Y + 100)

    def streets(*polygons) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({"code": [str(i) for i in range(len(polygons))],
                                 "name": [f"S{i}" for i in range(len(polygons))]},
                                geometry=list(polygons), crs="EPSG:32651").to_crs("EPSG:4326")

    assert boundary_problems(streets(box(0, 100), box(100, 200))) == []
    overlap = boundary_problems(streets(box(0, 110), box(100, 200)))
    assert len(overlap) == 1 and overlap[0].startswith("S0 (0) and S1 (1) overlap by 1,0")
    ring = shapely.box(ORIGIN_X, ORIGIN_Y, ORIGIN_X + 300, ORIGIN_Y + 300).difference(
        shapely.box(ORIGIN_X + 100, ORIGIN_Y + 100, ORIGIN_X + 200, ORIGIN_Y + 200))
    inner = shapely.box(ORIGIN_X + 100, ORIGIN_Y + 100, ORIGIN_X + 150, ORIGIN_Y + 200)
    gaps = boundary_problems(streets(ring, inner))
    assert len(gaps) == 1 and gaps[0].startswith("gap of 5,0")


def test_the_real_osm_boundaries_tile_cleanly():
    from geo.importer import boundary_problems
    from geo.io import read_boundaries

    streets = read_boundaries(shared_file("data", "osm", "changning_streets.geojson"))
    assert boundary_problems(streets, tolerance_m2=10.0) == []
