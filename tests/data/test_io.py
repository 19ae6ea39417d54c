from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo.data.io import read_boundaries, read_facilities, read_facility_file, read_targets
from geo.model.config import TARGETS_FILE
from geo.model.errors import InputError

KNOWN = ["market", "parking"]
HEADER = "id,name,category,subtype,capacity,address,lon,lat,crs,status,source\n"


def _streets(code: str = "official_control_code_2023",
             name: str = "official_control_name_2023") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {code: ["310105001000", "310105002000"], name: ["华阳路街道", "江苏路街道"], "pop": [5, 7]},
        geometry=[shapely.box(121.40, 31.20, 121.41, 31.21),
                  shapely.box(121.41, 31.20, 121.42, 31.21)], crs="EPSG:4326")


@pytest.mark.parametrize("suffix, driver", [(".geojson", "GeoJSON"), (".gpkg", "GPKG"),
                                            (".shp", "ESRI Shapefile")])
def test_boundaries_in_every_format_and_any_crs(tmp_path, suffix, driver):
    path = tmp_path / f"streets{suffix}"
    _streets("code", "name").to_crs("EPSG:32651").to_file(path, driver=driver)
    out = read_boundaries(path, population_field="pop")
    assert out["code"].tolist() == ["310105001000", "310105002000"]
    assert out["name"].tolist() == ["华阳路街道", "江苏路街道"]
    assert out["population"].tolist() == [5.0, 7.0]
    assert out.crs == "EPSG:4326"
    assert out.total_bounds == pytest.approx([121.40, 31.20, 121.42, 31.21], abs=1e-7)


def test_the_osm_field_names_are_known(tmp_path):
    path = tmp_path / "s.geojson"
    _streets().to_file(path)
    out = read_boundaries(path)
    assert out["name"].tolist() == ["华阳路街道", "江苏路街道"]
    assert out["population"].isna().all()


def test_explicit_field_names_win(tmp_path):
    path = tmp_path / "s.geojson"
    _streets().rename(columns={"official_control_code_2023": "区码"}).to_file(path)
    out = read_boundaries(path, code_field="区码")
    assert out["code"].tolist() == ["310105001000", "310105002000"]


def test_shapefile_without_prj_has_no_crs(tmp_path):
    path = tmp_path / "s.shp"
    _streets("code", "name").to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match=r"boundaries file .*s\.shp: no CRS defined"):
        read_boundaries(path)


def test_missing_and_unreadable_files_are_named(tmp_path):
    with pytest.raises(InputError, match=r"boundaries file .*nope\.geojson: no such file"):
        read_boundaries(tmp_path / "nope.geojson")
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.geojson: not valid JSON"):
        read_boundaries(broken)
    with pytest.raises(InputError, match=r"facilities file .*none\.csv: no such file"):
        read_facility_file(tmp_path / "none.csv", known_categories=KNOWN)


def test_csv_in_utf8_with_bom_and_in_gb18030(tmp_path):
    text = HEADER + "M1,美天菜场,market,smart,60,长宁路1号,121.42,31.22,,,demo\n"
    for encoding in ("utf-8-sig", "gb18030"):
        path = tmp_path / f"m-{encoding}.csv"
        path.write_text(text, encoding=encoding)
        out = read_facility_file(path, known_categories=KNOWN)
        assert out.loc[0, "name"] == "美天菜场"
        assert out.loc[0, "capacity"] == 60.0


def test_csv_row_numbers_count_the_header_as_row_1(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(HEADER + "M1,a,market,,,,121.42,31.22,,,\nM2,b,market,,,,121.42,95,,,\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"m\.csv: row 3 \(id=M2\): lat '95' is not a latitude"):
        read_facility_file(path, known_categories=KNOWN)


def test_geojson_and_geopackage_facilities(tmp_path):
    points = gpd.GeoDataFrame({"id": ["P1"], "name": ["停车场"], "category": ["parking"],
                               "capacity": [120]},
                              geometry=[shapely.Point(121.41, 31.21)], crs="EPSG:4326")
    for name in ("p.geojson", "p.gpkg"):
        points.to_file(tmp_path / name)
        out = read_facility_file(tmp_path / name, known_categories=KNOWN)
        assert (out.loc[0, "lon"], out.loc[0, "lat"]) == pytest.approx((121.41, 31.21))
        assert out.loc[0, "capacity"] == 120.0
    points["category"] = "zoo"
    points.to_file(tmp_path / "bad.geojson")
    with pytest.raises(InputError, match=r"bad\.geojson: feature 1 \(id=P1\): category 'zoo'"):
        read_facility_file(tmp_path / "bad.geojson", known_categories=KNOWN)


def test_ids_must_be_unique_across_files(tmp_path):
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text(HEADER + "X1,a,market,,,,121.42,31.22,,,\n",
                                     encoding="utf-8")
    with pytest.raises(InputError, match=r"1 id\(s\) occur more than once: 'X1' in .*a\.csv, "
                                         r".*b\.csv"):
        read_facilities([tmp_path / "a.csv", tmp_path / "b.csv"], known_categories=KNOWN)


def test_the_shipped_targets_file_follows_the_standards():
    targets = read_targets(TARGETS_FILE)
    assert targets.keys() == ["charger", "market", "sports", "canteen", "parking"]
    assert {k: targets[k].radius_m for k in targets.keys()} == {
        "charger": 1000, "market": 500, "sports": 1000, "canteen": 500, "parking": 500}
    assert all(targets[k].target_share == 0.9 for k in targets.keys())
    assert all(targets[k].radius_source and targets[k].target_share_source
               for k in targets.keys())


def test_bad_toml_names_the_file_and_line(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text("[categories.market]\nradius_m = = 5\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"targets file .*t\.toml: not valid TOML .*line 2"):
        read_targets(path)


def test_the_importers_csvs_hold_formulas_as_text(tmp_path):
    """facilities.csv and rejected.csv are opened in spreadsheets: a cell starting with =, +,
    -, @, tab or CR is written behind a single quote, numbers stay numbers, and a CR inside a
    text stays inside its quoted cell (OWASP's CSV-injection rule, as the exports do)."""
    import pandas as pd

    from geo.data.importer import import_facilities
    from geo.data.io import write_import

    frame = pd.DataFrame({"id": ["=1+1", "+2"], "name": ['=HYPERLINK("http://x")', "-3"],
                          "lon": ["121.42", "121.42"], "lat": ["31.21", "91"],
                          "address": ["@SUM(A1)", "\t=x\ry"]})
    report = import_facilities(frame, known_categories=["market"], category="market")
    facilities, rejected = write_import(report, tmp_path)
    accepted = pd.read_csv(facilities, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert accepted.loc[0, ["id", "name", "address", "lon"]].tolist() == [
        "'=1+1", "'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "121.42"]
    kept = pd.read_csv(rejected, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert kept.loc[0, ["id", "name", "address"]].tolist() == ["'+2", "'-3", "'\t=x\ry"]
