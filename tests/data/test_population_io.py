"""Reading population layers: every row accepted, rejected naming the row and field, or
counted as ignored; files only through the allow-list."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.data.population_io import read_population
from geo.model.config import STORAGE_CRS
from geo.model.errors import InputError
from tests.cli_helpers import run_cli


def _geojson(tmp_path, features: list[dict], name="people.geojson", crs=True):
    doc = {"type": "FeatureCollection", "features": features}
    if not crs:
        doc["crs"] = None
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _feature(geometry: dict | None, **properties) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


POINT = {"type": "Point", "coordinates": [121.40, 31.21]}
SQUARE = {"type": "Polygon", "coordinates": [[[121.40, 31.20], [121.41, 31.20], [121.41, 31.21],
                                              [121.40, 31.21], [121.40, 31.20]]]}
LINE = {"type": "LineString", "coordinates": [[121.40, 31.20], [121.41, 31.21]]}


def test_rows_are_kept_or_counted_as_ignored_with_the_reason(tmp_path):
    path = _geojson(tmp_path, [
        _feature(POINT, population=10, old=2),
        _feature(SQUARE, population="1,200", old=None),  # a thousands separator is a number
        _feature(LINE, population=5, old=1),
        _feature(None, population=7, old=1),
        _feature(POINT, population=None, old=1),
        _feature(POINT, population="", old=1),
    ])
    layer = read_population(path, elderly_field="old")
    assert layer.ignored == {
        "rows without a geometry": 1,
        "rows that are not polygons or points (lines hold no residents)": 1,
        "rows without a 'population' value": 2,
        "rows without a 'old' value (counted as 0 aged 60+)": 1,
    }
    assert layer.points["residents"].tolist() == [10.0]
    assert layer.polygons["residents"].tolist() == [1200.0]
    assert (layer.total(), layer.total("elderly")) == (1210.0, 2.0)
    assert layer.has_elderly


def test_values_that_are_not_residents_are_rejected_naming_row_and_field(tmp_path):
    path = _geojson(tmp_path, [_feature(POINT, 人口=10), _feature(POINT, 人口="many"),
                               _feature(POINT, 人口=-3)])
    with pytest.raises(InputError, match=r"(?s)people\.geojson.*2 problem\(s\).*row 2, field "
                       r"'人口': 'many' is not a number of residents ≥ 0.*row 3, field '人口': "
                       r"'-3'"):
        read_population(path, field="人口")


def test_a_missing_field_lists_the_fields(tmp_path):
    path = _geojson(tmp_path, [_feature(POINT, residents=10, name="x")])
    with pytest.raises(InputError, match=r"no field 'population' \(fields: residents, name\)"):
        read_population(path)
    with pytest.raises(InputError, match=r"no field 'age60'"):
        read_population(path, field="residents", elderly_field="age60")


def test_a_multipoint_shares_its_value_among_its_points(tmp_path):
    multi = {"type": "MultiPoint", "coordinates": [[121.40, 31.21], [121.41, 31.21]]}
    layer = read_population(_geojson(tmp_path, [_feature(multi, population=30)]))
    assert layer.points["residents"].tolist() == [15.0, 15.0]


def test_a_layer_in_another_crs_is_placed_in_lon_lat(tmp_path):
    frame = gpd.GeoDataFrame({"population": [5]}, geometry=[shapely.Point(347_000, 3_453_000)],
                             crs="EPSG:32651")
    path = tmp_path / "metric.gpkg"
    frame.to_file(path)
    layer = read_population(path)
    expected = frame.to_crs(STORAGE_CRS).geometry.iloc[0]
    assert (layer.points["lon"].iloc[0], layer.points["lat"].iloc[0]) == pytest.approx(
        (expected.x, expected.y), abs=1e-12)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("people.tif", b"<VRTDataset><VRTRasterBand/></VRTDataset>",
     r"people\.tif: the content is not a GeoTIFF as its extension says"),
    ("people.tif", b"II*\x00 broken", r"people\.tif: cannot be read as a GeoTIFF"),
    ("people.geojson", b"<OGRVRTDataSource/>", r"the content is not GEOJSON"),
    ("people.kml", b"<kml/>", r"\.kml is not an accepted format"),
])
def test_files_are_opened_only_through_the_allow_list(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_population(path)


def test_a_geotiff_has_no_elderly_field(tmp_path):
    with pytest.raises(InputError, match=r"a GeoTIFF holds residents only"):
        read_population(tmp_path / "x.tif", elderly_field="old")


def test_a_raster_without_crs_is_refused(tmp_path):
    import rasterio

    path = tmp_path / "nocrs.tif"
    with rasterio.open(path, "w", driver="GTiff", height=1, width=1, count=1,
                       dtype="float32") as out:
        out.write(np.ones((1, 1), dtype="float32"), 1)
    with pytest.raises(InputError, match=r"nocrs\.tif: no CRS"):
        read_population(path)


def test_cli_population_errors_exit_2_with_one_line(tmp_path):
    bad = _geojson(tmp_path, [_feature(POINT, population="lots")])
    done = run_cli("coverage", "--population", str(bad), "--format", "json")
    assert done.returncode == 2
    assert "row 1, field 'population': 'lots'" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_cli("coverage", "--elderly-field", "old", "--format", "json")
    assert (done.returncode, "--elderly-field needs --population" in done.stderr) == (2, True)
    from geo.model.config import DEMO_BOUNDARIES, DEMO_FACILITY_FILES

    files = ["--boundaries", str(DEMO_BOUNDARIES), "--facilities",
             str(DEMO_FACILITY_FILES["market"])]
    done = run_cli("coverage", *files, "--max-snap", "100", "--format", "json")
    assert (done.returncode, "--max-snap needs a walking network" in done.stderr) == (2, True)
