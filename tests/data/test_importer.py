from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import Geod, Transformer

from geo.data.area import placement_area
from geo.data.coords import wgs84_to_bd09, wgs84_to_gcj02
from geo.data.geocode import GEOCODE_URL_VARIABLE, AMapProvider, GeocodeCache, Geocoder
from geo.data.importer import import_facilities
from geo.data.io import read_demo, read_table, read_targets
from geo.data.mapping import parse_crs, parse_mapping, suggest_mapping
from geo.data.schema import FACILITY_COLUMNS
from geo.model.errors import InputError
from tests.cli_helpers import run_cli
from tests.conftest import shared_file
from tests.geocode_stub import (
    AMAP_PATH,
    HTTP_500,
    KNOWN_WGS84,
    STUB_KEY,
    StubServer,
    geocode_stub,  # noqa: F401 - the fixture
)

KNOWN = ["charger", "market", "sports", "canteen", "parking"]
AREA = shapely.box(121.30, 31.15, 121.50, 31.26)
ADDRESS = "长宁路1187号"
#: The summary's keys for what a clean import has none of.
NOTHING_ELSE = {"warnings": {}, "ignored": 0, "ignored_classes": {}}


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
    frame = _sheet(序号=["1", "1", "3", "4", "5", "6", "7", "8", "9", "10"],
                   名称=["甲", "乙", "", "丁", "戊", "己", "庚", "辛", "壬", "癸"],
                   经度=["121.40", "121.41", "121.42", "abc", "200", "120.0", "121.43",
                         "121.44", "121.45", "121.46"],
                   纬度=["31.21"] * 10, 类型=["菜市场", "market", "market", "market", "market",
                                               "market", "zoo", "market", "market", "market"],
                   容量=["", "", "", "", "", "", "", "inf", "-1", "12"],
                   坐标系=["", "", "", "", "", "", "", "", "", "EPSG:3857"])
    report = import_facilities(frame, known_categories=KNOWN, area=AREA,
                               labels={"market": "菜市场"})
    assert report.accepted["id"].tolist() == ["1", "3"]
    assert report.accepted["name"].tolist() == ["甲", "菜市场 (3)"]  # unnamed: accepted, named
    assert report.accepted.loc[0, "category"] == "market"  # 菜市场 → market
    assert report.rejected["reason"].tolist() == [
        "duplicate id", "missing or non-numeric coordinates", "coordinates out of range",
        "outside the study area", "unknown category", "capacity is not a finite number ≥ 0",
        "capacity is not a finite number ≥ 0", "unknown crs"]
    assert list(report.rejected.columns) == [*frame.columns, "reason"]
    assert report.summary() == {
        "accepted": 2, "rejected": 8, "reasons": {
            "capacity is not a finite number ≥ 0": 2, "coordinates out of range": 1,
            "duplicate id": 1, "missing or non-numeric coordinates": 1,
            "outside the study area": 1, "unknown category": 1, "unknown crs": 1},
        "warnings": {"unnamed: named from its category and id": 1},
        "ignored": 0, "ignored_classes": {}}


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
        assert json.loads(done.stdout) == {"accepted": 2, "rejected": 0, "reasons": {},
                                           **NOTHING_ELSE}, fmt
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
        (["--facilities", str(broken)], "broken.xlsx: the content is not XLSX as its extension "
                                        "says (accepted: CSV, XLSX, GeoJSON, GeoPackage or "
                                        "Shapefile, or a zip of one of these)"),
        (["--facilities", str(tmp_path / "none.csv")], "none.csv: no such file"),
        (["--facilities", str(broken), "--crs", "mars"], "broken.xlsx"),
    ]:
        done = run_cli("import", *args, "--category", "market", "--out", str(tmp_path / "o"))
        assert done.returncode == 2 and fragment in done.stderr
        assert "Traceback" not in done.stderr


def test_the_real_osm_pois_import_in_place(tmp_path):
    path = shared_file("data", "osm", "changning_pois.geojson")
    frame = read_table(path).frame
    report = import_facilities(frame, known_categories=KNOWN, category_field="fclass")
    assert report.summary()["accepted"] + report.summary()["rejected"] == len(frame)
    assert set(report.accepted["category"]) == {"market", "sports", "parking"}
    assert (report.accepted["category"] == "parking").sum() == 45


def test_the_real_shanghai_shapefiles_import_in_place():
    path = shared_file("data", "osm", "shanghai_pois", "gis_osm_traffic_free_1.shp")
    frame = read_table(path).frame
    report = import_facilities(frame, known_categories=KNOWN, category_field="fclass")
    parking = (frame["fclass"] == "parking").sum()
    assert (report.accepted["category"] == "parking").sum() == parking - report.rejected[
        report.rejected["fclass"] == "parking"].shape[0]
    assert parking > 100


def test_boundary_overlaps_and_gaps_are_reported():
    from geo.data.schema import boundary_problems
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
    from geo.data.io import read_boundaries
    from geo.data.schema import boundary_problems

    streets = read_boundaries(shared_file("data", "osm", "changning_streets.geojson"))
    assert boundary_problems(streets, tolerance_m2=10.0) == []


# -- geocoding addresses -----------------------------------------------------------------------

OUTSIDE_ADDRESS = "浦东新区世纪大道1号"
OUTSIDE_WGS84 = (121.5600, 31.2300)  # east of AREA


@pytest.fixture
def stub(geocode_stub: StubServer) -> StubServer:  # noqa: F811 - the imported fixture
    """The geocoding stub on 127.0.0.1, which also knows an address outside AREA."""
    geocode_stub.known[OUTSIDE_ADDRESS] = OUTSIDE_WGS84
    return geocode_stub


def _amap_geocoder(server: StubServer, cache_path) -> Geocoder:
    """AMap (GCJ-02 replies) on the stub with a cache, no waiting between requests or tries."""
    provider = AMapProvider(STUB_KEY, base_url=server.url, timeout=5.0)
    return Geocoder(provider, cache=GeocodeCache(cache_path), min_interval_s=0.0,
                    backoff_s=0.0, sleep=lambda seconds: None)


def _mixed_sheet() -> pd.DataFrame:
    """Rows with coordinates (GCJ-02 of a point inside AREA), rows with an address only."""
    glon, glat = (f"{float(v):.8f}" for v in wgs84_to_gcj02(121.40, 31.21))
    return pd.DataFrame({
        "序号": ["1", "2", "3", "4", "5", "6", "7"],
        "名称": ["甲", "乙", "丙", "丁", "戊", "己", "庚"],
        "地址": [ADDRESS, "长宁区某处", "不存在路0号", OUTSIDE_ADDRESS, "", "Zhongshan Park",
               HTTP_500],
        "经度": ["", glon, "", "", "", "", ""],
        "纬度": ["", glat, "", " ", "", "", ""],
        "类型": ["菜市场", "market", "market", "market", "market", "zoo", "market"],
    })


def test_rows_with_an_address_only_are_geocoded(stub, tmp_path):
    calls: list[tuple[int, int]] = []
    report = import_facilities(_mixed_sheet(), known_categories=KNOWN, area=AREA, crs="gcj02",
                               geocoder=_amap_geocoder(stub, tmp_path / "cache.sqlite"),
                               progress=lambda done, total: calls.append((done, total)))
    accepted = report.accepted
    assert accepted["id"].tolist() == ["1", "2"]
    # row 1: AMap's GCJ-02 reply came back to the WGS-84 point; the file's --crs gcj02 was not
    # applied to it (that would move it ~500 m), only to row 2's own coordinates
    assert (accepted.loc[0, "lon"], accepted.loc[0, "lat"]) == pytest.approx(
        KNOWN_WGS84[ADDRESS], abs=1e-6)
    assert (accepted.loc[1, "lon"], accepted.loc[1, "lat"]) == pytest.approx(
        (121.40, 31.21), abs=1e-6)
    assert accepted["source"].tolist() == ["import; geocoded: amap", "import"]
    assert accepted["crs"].tolist() == ["wgs84", "wgs84"]
    assert list(accepted.columns) == [*FACILITY_COLUMNS, "geometry"]
    assert report.rejected["序号"].tolist() == ["3", "4", "5", "6", "7"]
    assert report.rejected["reason"].tolist() == [
        "geocoding failed: no match", "outside the study area",
        "missing or non-numeric coordinates", "unknown category",
        "geocoding failed: HTTP 500 after 3 tries"]
    assert report.summary() == {"accepted": 2, "rejected": 5, "reasons": {
        "geocoding failed": 2, "missing or non-numeric coordinates": 1,
        "outside the study area": 1, "unknown category": 1}, **NOTHING_ELSE}
    assert report.geocoded == 2  # rows 1 and 4 (then rejected as outside)
    assert report.hints == []
    # one request per address sent; row 6 (unknown category) was not sent at all
    assert [r.address for r in stub.requests] == [ADDRESS, "不存在路0号", OUTSIDE_ADDRESS,
                                                  HTTP_500, HTTP_500, HTTP_500]
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_a_second_import_answers_from_the_cache(stub, tmp_path):
    cache = tmp_path / "state" / "geocode_cache.sqlite"
    first = import_facilities(_mixed_sheet(), known_categories=KNOWN, area=AREA,
                              geocoder=_amap_geocoder(stub, cache))
    requests = stub.count()
    second = import_facilities(_mixed_sheet(), known_categories=KNOWN, area=AREA,
                               geocoder=_amap_geocoder(stub, cache))
    # found and not-found answers are kept; only the HTTP 500 address is asked again
    assert stub.count() - requests == 3
    assert stub.count(address=ADDRESS) == 1 and stub.count(address=OUTSIDE_ADDRESS) == 1
    assert_geodataframe_equal(first.accepted, second.accepted)
    assert first.rejected.equals(second.rejected)
    assert second.geocoded == 2


class FakeProvider:
    """A provider answering from a dict (WGS-84), recording what it was asked."""

    name = "fake"

    def __init__(self, places: dict[str, tuple[float, float]]) -> None:
        self.places, self.asked = places, []

    def lookup(self, address: str) -> tuple[float, float] | None:
        self.asked.append(address)
        return self.places.get(address)


def _fake_geocoder(places: dict[str, tuple[float, float]]) -> Geocoder:
    return Geocoder(FakeProvider(places), cache=None, min_interval_s=0.0,
                    sleep=lambda seconds: None)


def test_a_file_without_coordinate_columns_is_geocoded_as_wgs84():
    frame = pd.DataFrame({"名称": ["甲", "乙", "丙"], "地址": ["A路1号", "B路2号", "A路1号"]})
    geocoder = _fake_geocoder({"A路1号": (121.41, 31.21), "B路2号": (121.42, 31.22)})
    report = import_facilities(frame, known_categories=KNOWN, category="canteen", crs="bd09",
                               area=AREA, geocoder=geocoder)
    assert report.accepted[["lon", "lat"]].to_numpy().tolist() == [
        [121.41, 31.21], [121.42, 31.22], [121.41, 31.21]]
    assert report.accepted["id"].tolist() == ["row-2", "row-3", "row-4"]
    assert set(report.accepted["source"]) == {"import; geocoded: fake"}
    assert report.geocoded == 3 and report.rejected.empty
    assert geocoder.provider.asked == ["A路1号", "B路2号"]  # each distinct address once


def test_a_rows_own_source_keeps_its_text_and_says_geocoded():
    frame = pd.DataFrame({"name": ["a"], "address": ["A路1号"], "lon": [""], "lat": [""],
                          "source": ["民政局 2024"]})
    report = import_facilities(frame, known_categories=KNOWN, category="canteen",
                               geocoder=_fake_geocoder({"A路1号": (121.41, 31.21)}))
    assert report.accepted["source"].tolist() == ["民政局 2024; geocoded: fake"]


def test_without_a_geocoder_addresses_are_a_hint():
    frame = pd.DataFrame({"name": ["a", "b", "c"], "address": ["A路1号", "B路2号", ""],
                          "lon": ["", "121.41", ""], "lat": ["", "31.21", ""]})
    report = import_facilities(frame, known_categories=KNOWN, category="market", area=AREA)
    assert report.accepted["name"].tolist() == ["b"]
    assert report.rejected["reason"].tolist() == ["missing or non-numeric coordinates"] * 2
    assert report.geocoded == 0
    assert report.hints == [
        "1 row(s) have an address but no coordinates: choose a geocoding provider "
        "(--geocode amap|tianditu|nominatim) to place them"]


def test_an_address_column_without_coordinates_or_geocoder_asks_for_a_provider():
    frame = pd.DataFrame({"名称": ["a"], "地址": ["A路1号"]})
    with pytest.raises(InputError, match=r"addresses in column '地址' can be geocoded: choose a "
                                         r"geocoding provider \(--geocode amap"):
        import_facilities(frame, known_categories=KNOWN, category="market")


def test_cli_import_geocodes_with_amap_against_the_stub(stub, tmp_path, monkeypatch):
    monkeypatch.setenv("AMAP_KEY", STUB_KEY)
    monkeypatch.setenv(GEOCODE_URL_VARIABLE, stub.url)
    monkeypatch.setenv("CHANGNING_STATE_DIR", str(tmp_path / "state"))
    sheet = tmp_path / "食堂.csv"
    pd.DataFrame({"名称": ["甲", "乙", "丙"], "地址": [ADDRESS, "上海市长宁区天山路900号",
                                                  "不存在路0号"],
                  "经度": ["", "121.40", ""], "纬度": ["", "31.21", ""]}).to_csv(
        sheet, index=False, encoding="gb18030")
    out = tmp_path / "out"
    done = run_cli("import", "--facilities", str(sheet), "--category", "canteen", "--geocode",
                   "amap", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"accepted": 2, "rejected": 1,
                                       "reasons": {"geocoding failed": 1}, **NOTHING_ELSE}
    assert "geocoding (amap)" in done.stderr and "2/2" in done.stderr
    assert "geocoded: 1 row(s) placed by amap" in done.stderr
    accepted = pd.read_csv(out / "facilities.csv", encoding="utf-8-sig", dtype=str)
    assert accepted["name"].tolist() == ["甲", "乙"]
    assert (float(accepted.loc[0, "lon"]), float(accepted.loc[0, "lat"])) == pytest.approx(
        KNOWN_WGS84[ADDRESS], abs=1e-6)
    assert accepted["source"].tolist() == ["import: 食堂.csv; geocoded: amap", "import: 食堂.csv"]
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig", dtype=str)
    assert rejected["reason"].tolist() == ["geocoding failed: no match"]
    assert stub.count(path=AMAP_PATH) == 2  # 天山路900号 has coordinates: not asked
    assert (tmp_path / "state" / "geocode_cache.sqlite").exists()

    again = run_cli("import", "--facilities", str(sheet), "--category", "canteen",
                    "--geocode", "amap", "--out", str(out))
    assert again.returncode == 0 and again.stdout == done.stdout
    assert stub.count() == 2  # every answer came from the cache


def test_cli_import_geocode_errors_exit_2(tmp_path, monkeypatch):
    monkeypatch.delenv("AMAP_KEY", raising=False)
    monkeypatch.setenv("CHANGNING_STATE_DIR", str(tmp_path / "state"))
    sheet = tmp_path / "a.csv"
    pd.DataFrame({"名称": ["甲"], "地址": [ADDRESS]}).to_csv(sheet, index=False)
    out = str(tmp_path / "out")
    missing_key = run_cli("import", "--facilities", str(sheet), "--category", "market",
                          "--geocode", "amap", "--out", out)
    assert missing_key.returncode == 2
    assert missing_key.stderr.startswith("error: AMAP_KEY is not set: put the service key")
    assert missing_key.stderr.count("\n") == 1 and "Traceback" not in missing_key.stderr
    no_provider = run_cli("import", "--facilities", str(sheet), "--category", "market",
                          "--out", out)
    assert no_provider.returncode == 2
    assert "choose a geocoding provider (--geocode" in no_provider.stderr
    assert not (tmp_path / "out" / "facilities.csv").exists()
    unknown = run_cli("import", "--facilities", str(sheet), "--category", "market",
                      "--geocode", "baidu", "--out", out)
    assert unknown.returncode == 2 and "invalid choice: 'baidu'" in unknown.stderr


def test_the_imports_csv_files_write_formulas_as_text(tmp_path):
    sheet = tmp_path / "f.csv"
    pd.DataFrame({"名称": ["=HYPERLINK(\"http://x\")", "@SUM(A1)"], "经度": ["121.40", "abc"],
                  "纬度": ["31.21", "31.21"], "备注": ["ok", "+1-2"]}).to_csv(sheet, index=False)
    out = tmp_path / "out"
    done = run_cli("import", "--facilities", str(sheet), "--category", "market", "--out",
                   str(out))
    assert done.returncode == 0, done.stderr
    accepted = pd.read_csv(out / "facilities.csv", encoding="utf-8-sig", dtype=str)
    assert accepted["name"].tolist() == ["'=HYPERLINK(\"http://x\")"]
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig", dtype=str)
    assert rejected[["名称", "备注"]].values.tolist() == [["'@SUM(A1)", "'+1-2"]]
