from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.data.coords import wgs84_to_bd09, wgs84_to_gcj02
from geo.data.schema import FACILITY_COLUMNS, normalize_boundaries, normalize_facilities
from geo.model.errors import InputError

KNOWN = ["market", "parking"]


def _rows(*rows: dict) -> pd.DataFrame:
    base = {"id": "", "name": "", "category": "market", "lon": "121.4", "lat": "31.2"}
    return pd.DataFrame([{**base, **row} for row in rows]).astype(str)


def test_defaults_fill_optional_columns_and_extra_columns_stay():
    out = normalize_facilities(_rows({"id": "1", "name": "甲", "networked": "true"}),
                               known_categories=KNOWN)
    assert list(out.columns) == [*FACILITY_COLUMNS, "networked", "geometry"]
    row = out.iloc[0]
    assert (row["crs"], row["status"], row["address"]) == ("wgs84", "existing", "")
    assert np.isnan(row["capacity"])
    assert row["networked"] == "true"
    assert (row.geometry.x, row.geometry.y) == (121.4, 31.2)
    assert out.crs == "EPSG:4326"


def test_gcj02_and_bd09_rows_are_converted_to_wgs84():
    lon, lat = 121.41084236, 31.24846238
    glon, glat = wgs84_to_gcj02(lon, lat)
    blon, blat = wgs84_to_bd09(lon, lat)
    out = normalize_facilities(_rows(
        {"id": "g", "name": "g", "lon": f"{float(glon):.10f}", "lat": f"{float(glat):.10f}",
         "crs": "GCJ02"},
        {"id": "b", "name": "b", "lon": f"{float(blon):.10f}", "lat": f"{float(blat):.10f}",
         "crs": "bd09"},
    ), known_categories=KNOWN)
    assert out["lon"].to_numpy() == pytest.approx([lon, lon], abs=1e-7)
    assert out["lat"].to_numpy() == pytest.approx([lat, lat], abs=1e-7)
    assert out["crs"].tolist() == ["wgs84", "wgs84"]


def test_every_row_problem_is_named_with_row_and_field():
    frame = _rows(
        {"id": "1", "name": "ok"},
        {"id": "１", "name": "dup (full-width one)"},
        {"id": "4", "name": "x", "category": "school"},
        {"id": "5", "name": "x", "lon": "200"},
        {"id": "6", "name": "x", "lat": "north"},
        {"id": "7", "name": "x", "crs": "utm"},
        {"id": "8", "name": "x", "status": "open"},
        {"id": "9", "name": "x", "capacity": "-3"},
        {"id": "10", "name": "x", "capacity": "inf"},
    )
    with pytest.raises(InputError) as caught:
        normalize_facilities(frame, known_categories=KNOWN, source="facilities file f.csv")
    assert str(caught.value).splitlines() == [
        "facilities file f.csv: 8 problem(s)",
        "  - row 3 (id=１): duplicate id '1'",
        "  - row 4 (id=4): category 'school' is unknown and has no radius (known: market, "
        "parking)",
        "  - row 5 (id=5): lon '200' is not a longitude from -180 to 180",
        "  - row 6 (id=6): lat 'north' is not a latitude from -90 to 90",
        "  - row 7 (id=7): crs 'utm' is not one of wgs84, gcj02, bd09, cgcs2000",
        "  - row 8 (id=8): status 'open' is not one of existing, planned, closed",
        "  - row 9 (id=9): capacity '-3' is not a finite number ≥ 0",
        "  - row 10 (id=10): capacity 'inf' is not a finite number ≥ 0",
    ]


def test_unnamed_and_id_less_rows_are_accepted_named_from_category_and_row():
    out = normalize_facilities(_rows({"id": "", "name": ""}, {"id": "p1", "name": " ",
                                                              "category": "parking"}),
                               known_categories=KNOWN, labels={"parking": "公共停车场"})
    assert out["id"].tolist() == ["row-2", "p1"]
    assert out["name"].tolist() == ["market (row-2)", "公共停车场 (p1)"]
    assert out.attrs["warnings"] == {"unnamed: named from its category and id": 2}


def test_missing_columns_are_named_with_the_fields_present():
    with pytest.raises(InputError, match=r"missing field 'lat' for lat \(fields present: id, "
                                         r"name, category, lon\)"):
        normalize_facilities(_rows({"id": "1", "name": "x"}).drop(columns="lat"),
                             known_categories=KNOWN)


def test_points_of_a_geodataframe_give_lon_lat_in_wgs84():
    points = gpd.GeoDataFrame({"id": ["1"], "name": ["x"], "category": ["market"]},
                              geometry=[shapely.Point(121.4, 31.2)], crs="EPSG:4326")
    out = normalize_facilities(points.to_crs("EPSG:32651"), known_categories=KNOWN)
    assert out.loc[0, "lon"] == pytest.approx(121.4, abs=1e-8)
    assert out.loc[0, "lat"] == pytest.approx(31.2, abs=1e-8)


def _streets(**overrides) -> gpd.GeoDataFrame:
    data = {"code": ["1", "2"], "name": ["甲", "乙"], "pop": [10, 20]}
    data.update(overrides)
    return gpd.GeoDataFrame(data, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
                            crs="EPSG:4326")


def test_boundaries_are_normalised_to_the_data_model():
    out = normalize_boundaries(_streets(code=[310105002000, 310105001000]), code_field="code",
                               name_field="name", population_field="pop")
    assert list(out.columns) == ["code", "name", "name_en", "population", "geometry"]
    assert out["code"].tolist() == ["310105001000", "310105002000"]  # text, sorted
    assert out["population"].tolist() == [20.0, 10.0]


def test_boundaries_in_a_projected_crs_come_back_in_wgs84():
    metric = _streets().set_crs(None, allow_override=True).set_crs("EPSG:32651",
                                                                   allow_override=True)
    out = normalize_boundaries(metric, code_field="code", name_field="name")
    assert out.crs == "EPSG:4326"
    assert out["population"].isna().all()


def test_no_crs_is_refused():
    with pytest.raises(InputError, match=r"b.shp: no CRS defined"):
        normalize_boundaries(_streets().set_crs(None, allow_override=True), code_field="code",
                             name_field="name", source="b.shp")


def test_invalid_geometry_and_bad_population_are_named():
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    streets = _streets(pop=["x", -1]).set_geometry([bowtie, shapely.Point(0, 0)])
    with pytest.raises(InputError) as caught:
        normalize_boundaries(streets, code_field="code", name_field="name",
                             population_field="pop")
    message = str(caught.value)
    assert "feature 1 (code=1): invalid geometry (Self-intersection" in message
    assert "feature 2 (code=2): geometry is a Point, not a polygon" in message
    assert "feature 1 (code=1): pop 'x' is not a finite number ≥ 0" in message
    assert "feature 2 (code=2): pop -1 is not a finite number ≥ 0" in message


def test_a_population_that_is_not_finite_is_refused():
    """An 'inf' population was accepted: coverage then printed Infinity, which is not JSON,
    and the street's population share as null."""
    with pytest.raises(InputError) as caught:
        normalize_boundaries(_streets(pop=["inf", "1e400"]), code_field="code",
                             name_field="name", population_field="pop")
    assert "feature 1 (code=1): pop 'inf' is not a finite number ≥ 0" in str(caught.value)
    assert "feature 2 (code=2): pop '1e400' is not a finite number ≥ 0" in str(caught.value)


def test_missing_code_field_lists_the_fields():
    with pytest.raises(InputError, match=r"missing field 'official_control_code_2023' for the "
                                         r"street code \(fields present: code, name, pop\)"):
        normalize_boundaries(_streets(), code_field="official_control_code_2023",
                             name_field="name")


def test_duplicate_and_empty_codes():
    with pytest.raises(InputError, match=r"(?s)feature 2 \(code=∅\): empty code"):
        normalize_boundaries(_streets(code=["1", ""]), code_field="code", name_field="name")
    with pytest.raises(InputError, match=r"duplicate code '1'"):
        normalize_boundaries(_streets(code=["1", "1"]), code_field="code", name_field="name")
