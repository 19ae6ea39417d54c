"""The CLI as other tools call it: a separate process, JSON on stdout, exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess

import geopandas as gpd
import pytest
import shapely

from tests.cli_helpers import run_cli
from tests.conftest import shared_file

HEADER = "id,name,category,subtype,capacity,address,lon,lat,crs,status,source\n"
MARKET = "M1,菜场,market,,50,,121.4225,31.2175,,,\n"


@pytest.fixture
def streets_file(tmp_path):
    """Two 0.01° × 0.01° squares in Changning with populations 100 and 300."""
    path = tmp_path / "streets.geojson"
    gpd.GeoDataFrame({"code": ["310105001000", "310105002000"], "name": ["甲", "乙"],
                      "population": [100, 300]},
                     geometry=[shapely.box(121.41, 31.21, 121.42, 31.22),
                               shapely.box(121.42, 31.21, 121.43, 31.22)],
                     crs="EPSG:4326").to_file(path)
    return path


def _facilities(tmp_path, body: str, name: str = "f.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_demo_data_by_default():
    done = run_cli("coverage", "--format", "json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["resolution"] == 10
    assert len(out["streets"]) == 10
    assert {s["code"][:6] for s in out["streets"]} == {"310105"}
    for street in out["streets"]:
        assert list(street["coverage"]) == ["charger", "market", "sports", "canteen", "parking"]
        assert street["cells"] > 0 and street["population"] > 0
    total_piles_streets = sum(s["coverage"]["charger"]["facilities"] for s in out["streets"])
    assert total_piles_streets > 0


def test_own_files_one_entry_per_category_present(tmp_path, streets_file):
    facilities = _facilities(tmp_path, MARKET)
    done = run_cli("coverage", "--boundaries", str(streets_file), "--facilities",
                   str(facilities), "--resolution", "9", "--radius", "market=800",
                   "--format", "json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["resolution"] == 9
    assert [s["code"] for s in out["streets"]] == ["310105001000", "310105002000"]
    assert [list(s["coverage"]) for s in out["streets"]] == [["market"], ["market"]]
    market = out["streets"][0]["coverage"]["market"]
    assert market["radius_m"] == 800
    assert market["facilities"] == 0  # M1 lies in the east square
    assert out["streets"][1]["coverage"]["market"]["facilities"] == 1
    assert out["streets"][0]["population"] == 100


def test_facilities_may_be_repeated_and_new_categories_take_a_radius(tmp_path, streets_file):
    first = _facilities(tmp_path, MARKET, "a.csv")
    second = _facilities(tmp_path, "S1,学校,school,,,,121.425,31.215,,,\n", "b.csv")
    done = run_cli("coverage", "--boundaries", str(streets_file), "--facilities", str(first),
                   "--facilities", str(second), "--radius", "school=300", "--format", "json")
    assert done.returncode == 0, done.stderr
    coverage = json.loads(done.stdout)["streets"][1]["coverage"]
    assert list(coverage) == ["market", "school"]
    assert coverage["school"]["radius_m"] == 300
    assert coverage["school"]["target_share"] == 0.9


def test_population_field_and_real_boundaries_with_their_field_names(tmp_path):
    boundaries = shared_file("data", "osm", "changning_streets.geojson")
    facilities = _facilities(tmp_path, MARKET)
    done = run_cli("coverage", "--boundaries", str(boundaries),
                   "--code-field", "official_control_code_2023",
                   "--name-field", "official_control_name_2023",
                   "--facilities", str(facilities), "--format", "json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert len(out["streets"]) == 10
    assert all(s["population"] is None for s in out["streets"])
    assert out["streets"][0]["name"] == "华阳路街道"


def _fails_with(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in done.stderr


def test_missing_file(tmp_path):
    _fails_with(run_cli("coverage", "--boundaries", str(tmp_path / "x.geojson")),
                "x.geojson: no such file")


def test_no_crs(tmp_path, streets_file):
    shp = tmp_path / "s.shp"
    gpd.read_file(streets_file).to_file(shp)
    shp.with_suffix(".prj").unlink()
    _fails_with(run_cli("coverage", "--boundaries", str(shp)), "s.shp: no CRS defined")


def test_invalid_geometry(tmp_path):
    path = tmp_path / "bowtie.geojson"
    gpd.GeoDataFrame({"code": ["1"], "name": ["x"]},
                     geometry=[shapely.Polygon([(121.4, 31.2), (121.41, 31.21), (121.41, 31.2),
                                                (121.4, 31.21)])],
                     crs="EPSG:4326").to_file(path)
    _fails_with(run_cli("coverage", "--boundaries", str(path)),
                "bowtie.geojson: feature 1 (code=1): invalid geometry (Self-intersection")


def test_unknown_category_without_radius(tmp_path, streets_file):
    path = _facilities(tmp_path, "Z1,动物园,zoo,,,,121.42,31.21,,,\n")
    _fails_with(run_cli("coverage", "--boundaries", str(streets_file), "--facilities",
                        str(path)), "f.csv: row 2 (id=Z1): category 'zoo' is unknown and has no "
                                    "radius")


def test_missing_columns(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("id,name,category,lon\nM1,x,market,121.4\n", encoding="utf-8")
    _fails_with(run_cli("coverage", "--facilities", str(path)),
                "f.csv: missing field 'lat' for lat")


def test_lon_lat_out_of_range(tmp_path):
    path = _facilities(tmp_path, MARKET + "M2,x,market,,,,181,31.2,,,\nM3,y,market,,,,121,-91,,,\n")
    _fails_with(run_cli("coverage", "--facilities", str(path)), "2 problem(s)",
                "row 3 (id=M2): lon '181' is not a longitude", "row 4 (id=M3): lat '-91'")


def test_missing_population_field_that_was_asked_for(streets_file):
    _fails_with(run_cli("coverage", "--boundaries", str(streets_file), "--population-field",
                        "人口"), "missing field '人口' for the population")


@pytest.mark.parametrize("args, fragment", [
    (["--resolution", "13"], "resolution must be an integer from 7 to 12, got 13"),
    (["--radius", "market=-5"], "'market=-5' is not CATEGORY=METRES"),
    (["--resolution", "ten"], "invalid int value: 'ten'"),
    (["--format", "xml"], "invalid choice: 'xml'"),
])
def test_bad_arguments(args, fragment):
    _fails_with(run_cli("coverage", *args), fragment)


def test_bad_targets_file(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text("[categories.market]\nradius_m = 0\n", encoding="utf-8")
    _fails_with(run_cli("coverage", "--targets", str(path)),
                "t.toml: [categories.market] radius_m must be a positive number of metres")


def _scenario_file(tmp_path, features: list[dict], **members) -> str:
    path = tmp_path / "scenario.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "name": "试点", **members,
                                "features": features}, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _market_at(lon: float, lat: float, facility_id: str = "NEW-1") -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"id": facility_id, "name": "新菜场", "category": "market",
                           "capacity": 60}}


def test_scenario_applies_before_computing_and_keeps_the_json_shape(tmp_path):
    plain = json.loads(run_cli("coverage", "--format", "json").stdout)
    scenario = _scenario_file(
        tmp_path, [_market_at(121.3700, 31.2000), _market_at(121.3650, 31.1950, "NEW-2"),
                   {"type": "Feature", "geometry": None,
                    "properties": {"action": "close", "id": "MKT-001"}}],
        targets={"parking": {"radius_m": 800}})
    done = run_cli("coverage", "--scenario", scenario, "--format", "json")
    assert done.returncode == 0, done.stderr
    after = json.loads(done.stdout)
    assert list(after) == ["resolution", "distance", "detour_factor", "unreachable_cells",
                           "population", "elderly", "streets"]
    assert [list(s) for s in after["streets"]] == [list(s) for s in plain["streets"]]
    by_code = {s["code"]: s for s in after["streets"]}
    assert sum(s["coverage"]["market"]["covered_cells"] for s in after["streets"]) != sum(
        s["coverage"]["market"]["covered_cells"] for s in plain["streets"])
    assert all(s["coverage"]["parking"]["radius_m"] == 800 for s in after["streets"])
    chengjiaqiao = by_code["310105010000"]["coverage"]["market"]
    before = {s["code"]: s for s in plain["streets"]}["310105010000"]["coverage"]["market"]
    assert chengjiaqiao["covered_cells"] > before["covered_cells"]
    assert chengjiaqiao["facilities"] == before["facilities"] + 2


def test_a_bad_scenario_exits_2_and_names_the_problem(tmp_path):
    scenario = _scenario_file(tmp_path, [_market_at(120.0, 30.0), _market_at(121.37, 31.2,
                                                                             "MKT-001")])
    done = run_cli("coverage", "--scenario", scenario)
    _fails_with(done, "scenario '试点': ", "lies outside the study area")
    scenario = _scenario_file(tmp_path, [{"type": "Feature", "geometry": None,
                                          "properties": {"action": "close", "id": "NOPE"}}])
    _fails_with(run_cli("coverage", "--scenario", scenario), "no facility with id 'NOPE'")
    broken = tmp_path / "broken.geojson"
    broken.write_text("{", encoding="utf-8")
    _fails_with(run_cli("coverage", "--scenario", str(broken)), "broken.geojson: not valid JSON")


def test_suggest_prints_sites_in_the_order_chosen():
    done = run_cli("suggest", "--category", "market", "--k", "3", "--format", "json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert list(out) == ["category", "resolution", "sites"]
    assert (out["category"], out["resolution"]) == ("market", 10)
    assert len(out["sites"]) == 3
    assert [list(s) for s in out["sites"]] == [
        ["lon", "lat", "cell", "newly_covered_population", "newly_covered_cells"]] * 3
    gains = [s["newly_covered_population"] for s in out["sites"]]
    assert gains == sorted(gains, reverse=True)  # greedy: each adds no more than the one before


def test_suggest_in_one_street_covers_what_its_coverage_then_gains(tmp_path):
    code = "310105010000"
    done = run_cli("suggest", "--category", "market", "--k", "2", "--street", code,
                   "--resolution", "9")
    assert done.returncode == 0, done.stderr
    sites = json.loads(done.stdout)["sites"]
    features = [_market_at(s["lon"], s["lat"], f"S{i}") for i, s in enumerate(sites)]
    before = json.loads(run_cli("coverage", "--resolution", "9").stdout)
    after = json.loads(run_cli("coverage", "--resolution", "9", "--scenario",
                               _scenario_file(tmp_path, features)).stdout)

    def covered(out: dict) -> int:
        return {s["code"]: s for s in out["streets"]}[code]["coverage"]["market"]["covered_cells"]

    assert covered(after) - covered(before) == sum(s["newly_covered_cells"] for s in sites)


@pytest.mark.parametrize("args, fragment", [
    (["--category", "market", "--k", "21"], "k must be an integer from 1 to 20, got 21"),
    (["--category", "zoo", "--k", "2"], "unknown category 'zoo'"),
    (["--category", "market", "--k", "2", "--street", "999"], "unknown street code '999'"),
    (["--k", "2"], "the following arguments are required: --category"),
])
def test_suggest_bad_arguments(args, fragment):
    _fails_with(run_cli("suggest", *args), fragment)
