"""geo.data.osm_fetch against a local Overpass stub (no internet): queries, ring stitching, POI
mapping, the written files, and retries/errors."""

from __future__ import annotations

import math
import socket

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon

from geo.data.io import read_boundaries, read_facility_file
from geo.data.osm_fetch import (
    BOUNDARIES_FILE,
    CHANGNING_RELATIONS,
    FACILITIES_FILE,
    OSM_SOURCE,
    POI_TAGS,
    FetchError,
    OsmUnit,
    boundaries_from_overpass,
    fetch_osm,
    fetch_overpass,
    overpass_query_boundaries,
    overpass_query_pois,
    pois_from_overpass,
)
from tests.overpass_stub import (
    BAD_JSON,
    BOUNDARIES_REPLY,
    GATEWAY_TIMEOUT,
    POIS_REPLY,
    RELATION_A,
    RELATION_B,
    TOO_MANY_REQUESTS,
    Reply,
    serve_overpass,
    slow,
)

KNOWN = ["charger", "market", "sports", "canteen", "parking"]
STUB_UNITS = [u for u in CHANGNING_RELATIONS if u.relation_id in (RELATION_A, RELATION_B)]
EXPECTED_A = shapely.box(121.40, 31.21, 121.41, 31.22).difference(
    shapely.box(121.404, 31.214, 121.406, 31.216))
EXPECTED_B = shapely.box(121.41, 31.21, 121.42, 31.22).union(
    shapely.box(121.425, 31.21, 121.427, 31.212))
#: id → (category, subtype, name) of every POI the stub's reply should yield.
EXPECTED_POIS = {
    "osm-node-1": ("market", "marketplace", "甲菜场"),
    "osm-node-2": ("market", "greengrocer", "greengrocer (OSM node 2)"),
    "osm-way-3": ("market", "supermarket", "乙超市"),
    "osm-way-4": ("sports", "pitch", "篮球场"),
    "osm-node-5": ("sports", "sports_centre", "体育中心"),
    "osm-way-6": ("sports", "swimming_pool", "游泳池"),
    "osm-way-7": ("sports", "stadium", "体育场"),
    "osm-way-8": ("parking", "parking", "停车场"),
    "osm-node-9": ("charger", "charging_station", "充电站"),
    "osm-node-10": ("parking", "parking", "parking (OSM node 10)"),
    "osm-way-12": ("parking", "parking", "区外停车场"),
}


@pytest.fixture
def overpass():
    """The local Overpass stub, running for one test."""
    with serve_overpass() as stub:
        yield stub


class Sleeps(list):
    """An injected ``sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _relation(rel_id: int, *rings: tuple[str, list[tuple[float, float]]]) -> dict:
    members = [{"type": "way", "ref": i, "role": role,
                "geometry": [{"lon": x, "lat": y} for x, y in coords]}
               for i, (role, coords) in enumerate(rings)]
    return {"elements": [{"type": "relation", "id": rel_id, "members": members, "tags": {}}]}


def _square(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]


# --- constants and queries ----------------------------------------------------------------


def test_changning_relations_are_the_ten_units():
    ids = [u.relation_id for u in CHANGNING_RELATIONS]
    codes = [u.code for u in CHANGNING_RELATIONS]
    assert isinstance(CHANGNING_RELATIONS, tuple) and len(CHANGNING_RELATIONS) == 10
    assert len(set(ids)) == 10 and len(set(codes)) == 10
    assert all(len(c) == 12 and c.startswith("310105") and c.isdigit() for c in codes)
    assert CHANGNING_RELATIONS[0] == OsmUnit(13469230, "310105001000", "华阳路街道")
    assert CHANGNING_RELATIONS[-1] == OsmUnit(14184082, "310105102000", "新泾镇")


def test_queries_name_every_relation_and_tag():
    ids = [u.relation_id for u in CHANGNING_RELATIONS]
    boundaries, pois = overpass_query_boundaries(ids), overpass_query_pois(ids)
    id_list = ",".join(map(str, ids))
    for query in (boundaries, pois):
        assert query.startswith("[out:json][timeout:120];")
        assert f"relation(id:{id_list});" in query
    assert boundaries.rstrip().endswith("out geom;")
    assert pois.rstrip().endswith("out center;")
    assert "map_to_area->.units;" in pois
    for key, value in POI_TAGS:
        for kind in ("node", "way"):
            assert f'{kind}["{key}"="{value}"](area.units);' in pois
    assert {v for _, v in POI_TAGS} == {
        "marketplace", "greengrocer", "supermarket", "pitch", "sports_centre", "swimming_pool",
        "stadium", "parking", "charging_station"}
    with pytest.raises(ValueError):
        overpass_query_pois([])


# --- boundaries ---------------------------------------------------------------------------


def test_rings_are_stitched_into_the_expected_polygons():
    streets = boundaries_from_overpass(BOUNDARIES_REPLY)
    assert streets.crs.to_epsg() == 4326
    assert streets["osm_relation_id"].tolist() == [RELATION_A, RELATION_B]
    assert streets["code"].tolist() == ["310105001000", "310105002000"]
    assert streets["name"].tolist() == ["华阳路街道", "江苏路街道"]
    assert streets["name_en"].tolist() == ["Huayanglu Subdistrict", ""]
    a, b = streets.geometry
    assert isinstance(a, MultiPolygon) and isinstance(b, MultiPolygon)
    assert a.is_valid and b.is_valid
    assert shapely.equals(a, EXPECTED_A) and shapely.equals(b, EXPECTED_B)
    assert a.symmetric_difference(EXPECTED_A).area == 0
    assert b.symmetric_difference(EXPECTED_B).area == 0
    assert [len(p.interiors) for p in a.geoms] == [1]
    assert sorted(len(p.interiors) for p in b.geoms) == [0, 0]
    assert a.area == pytest.approx(0.01 * 0.01 - 0.002 * 0.002, rel=1e-9)
    assert b.area == pytest.approx(0.01 * 0.01 + 0.002 * 0.002, rel=1e-9)


def test_even_odd_rule_island_in_hole_and_touching_hole():
    data = _relation(1, ("outer", _square(0, 0, 10, 10)), ("inner", _square(2, 2, 8, 8)),
                     ("outer", _square(4, 4, 6, 6)),
                     ("inner", [(0, 0), (1, 0.5), (0.5, 1), (0, 0)]))
    streets = boundaries_from_overpass(data)
    geom = streets.geometry.iloc[0]
    assert streets["code"].tolist() == ["osm-1"]
    assert geom.is_valid
    assert geom.area == pytest.approx(100 - 36 + 4 - 0.375)
    assert geom.contains(shapely.Point(5, 5)) and not geom.contains(shapely.Point(3, 3))


def test_open_ring_names_the_relation():
    data = _relation(77, ("outer", [(0, 0), (1, 0), (1, 1)]), ("outer", [(0, 1), (0, 0)]))
    with pytest.raises(FetchError, match="OSM relation 77: its ways do not close"):
        boundaries_from_overpass(data)


# --- facilities ---------------------------------------------------------------------------


def test_pois_map_to_categories_exactly():
    pois = pois_from_overpass(POIS_REPLY).set_index("id")
    assert pois.crs.to_epsg() == 4326
    assert set(pois.index) == set(EXPECTED_POIS)  # the cafe has no wanted tag
    for poi_id, (category, subtype, name) in EXPECTED_POIS.items():
        assert tuple(pois.loc[poi_id, ["category", "subtype", "name"]]) == (
            category, subtype, name), poi_id
    assert pois.loc["osm-way-8", "capacity"] == 120
    assert pois.loc["osm-node-9", "capacity"] == 4
    assert math.isnan(pois.loc["osm-node-10", "capacity"])  # "lots"
    assert math.isnan(pois.loc["osm-node-1", "capacity"])
    assert pois.loc["osm-node-1", "address"] == "上海市 甲路 1号"
    assert pois.loc["osm-node-2", "address"] == ""
    assert tuple(pois.loc["osm-way-3", ["lon", "lat"]]) == (121.403, 31.213)  # the centre
    assert pois.loc["osm-way-3", "geometry"].equals(shapely.Point(121.403, 31.213))
    assert set(pois["crs"]) == {"wgs84"} and set(pois["status"]) == {"existing"}
    assert set(pois["source"]) == {OSM_SOURCE}


# --- fetch_osm ----------------------------------------------------------------------------


def test_fetch_osm_writes_files_the_readers_accept(overpass, tmp_path):
    out_dir = tmp_path / "new" / "osm"
    paths = fetch_osm(out_dir, url=overpass.url, units=STUB_UNITS)
    assert paths == [out_dir / BOUNDARIES_FILE, out_dir / FACILITIES_FILE]
    assert [r["path"] for r in overpass.requests] == ["/api/interpreter"] * 2
    assert "out geom" in overpass.requests[0]["query"]
    assert "out center" in overpass.requests[1]["query"]
    assert overpass.requests[0]["content_type"].startswith("application/x-www-form-urlencoded")

    streets = read_boundaries(paths[0])
    assert streets["code"].tolist() == ["310105001000", "310105002000"]
    assert streets["name"].tolist() == ["华阳路街道", "江苏路街道"]
    assert shapely.equals(streets.geometry.iloc[0], EXPECTED_A)
    assert shapely.equals(streets.geometry.iloc[1], EXPECTED_B)

    assert paths[1].read_bytes().startswith(b"\xef\xbb\xbf")
    facilities = read_facility_file(paths[1], known_categories=KNOWN).set_index("id")
    inside = {k: v for k, v in EXPECTED_POIS.items() if k != "osm-way-12"}  # centre outside
    assert set(facilities.index) == set(inside)
    assert facilities["category"].to_dict() == {k: v[0] for k, v in inside.items()}
    assert facilities.loc["osm-way-8", "capacity"] == 120
    assert facilities.loc["osm-node-9", ["lon", "lat"]].tolist() == [121.426, 31.211]

    again = fetch_osm(out_dir, url=overpass.url, units=STUB_UNITS)  # replaces the files
    assert read_boundaries(again[0])["code"].tolist() == ["310105001000", "310105002000"]


def test_fetch_osm_fails_when_a_relation_is_missing(overpass, tmp_path):
    units = [*STUB_UNITS, OsmUnit(14184082, "310105102000", "新泾镇")]
    with pytest.raises(FetchError, match=r"no relation for id.*14184082"):
        fetch_osm(tmp_path, url=overpass.url, units=units)
    assert list(tmp_path.iterdir()) == []


# --- retries and errors -------------------------------------------------------------------


def test_retry_after_429_then_success(overpass):
    overpass.queue(TOO_MANY_REQUESTS)
    sleeps = Sleeps()
    data = fetch_overpass(overpass_query_boundaries([RELATION_A]), url=overpass.url,
                          sleep=sleeps)
    assert len(overpass.requests) == 2
    assert sleeps == [5]
    assert len(data["elements"]) == 2


def test_429_retry_after_header_is_honoured(overpass):
    overpass.queue(Reply(429, b"slow down", headers={"Retry-After": "30"}))
    sleeps = Sleeps()
    fetch_overpass(overpass_query_pois([RELATION_A]), url=overpass.url, sleep=sleeps)
    assert sleeps == [30]


def test_504_exhausted_names_url_and_status(overpass):
    overpass.queue(*[GATEWAY_TIMEOUT] * 4)
    sleeps = Sleeps()
    with pytest.raises(FetchError) as caught:
        fetch_overpass(overpass_query_boundaries([RELATION_A]), url=overpass.url,
                       retries=3, backoff_s=2, sleep=sleeps)
    message = str(caught.value)
    assert overpass.url in message and "HTTP 504" in message and "4 attempt" in message
    assert "too busy" in message
    assert len(overpass.requests) == 4
    assert sleeps == [2, 4, 8]


def test_other_http_errors_are_not_retried(overpass):
    sleeps = Sleeps()
    with pytest.raises(FetchError, match=r"HTTP 400.*unknown query"):
        fetch_overpass("[out:json]; node(1); out;", url=overpass.url, sleep=sleeps)
    assert len(overpass.requests) == 1 and sleeps == []


def test_timeout_raises_fetch_error(overpass):
    overpass.queue(slow(5.0))
    with pytest.raises(FetchError, match="timed out") as caught:
        fetch_overpass(overpass_query_boundaries([RELATION_A]), url=overpass.url,
                       timeout=0.2, retries=0)
    assert overpass.url in str(caught.value)


def test_timeout_is_retried(overpass):
    overpass.queue(slow(5.0))
    sleeps = Sleeps()
    data = fetch_overpass(overpass_query_boundaries([RELATION_A]), url=overpass.url,
                          timeout=0.2, retries=1, sleep=sleeps)
    assert len(data["elements"]) == 2
    assert len(overpass.requests) == 2 and sleeps == [5]


def test_malformed_json_raises_fetch_error(overpass):
    overpass.queue(BAD_JSON)
    with pytest.raises(FetchError, match="not valid JSON") as caught:
        fetch_overpass(overpass_query_pois([RELATION_A]), url=overpass.url, sleep=Sleeps())
    assert overpass.url in str(caught.value)
    assert len(overpass.requests) == 1


def test_runtime_error_remark_raises_fetch_error(overpass):
    remark = b'{"elements": [], "remark": "runtime error: Query timed out in \\"query\\""}'
    overpass.queue(Reply(200, remark))
    with pytest.raises(FetchError, match="runtime error: Query timed out"):
        fetch_overpass(overpass_query_pois([RELATION_A]), url=overpass.url)


def test_unreachable_server_raises_fetch_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/interpreter"
    with pytest.raises(FetchError, match="cannot be reached") as caught:
        fetch_overpass("[out:json];out;", url=url, sleep=Sleeps())
    assert url in str(caught.value)


def test_cli_fetch_osm_reports_a_failure_with_exit_2(overpass, tmp_path):
    from tests.cli_helpers import run_cli

    done = run_cli("fetch-osm", "--out", str(tmp_path / "osm"), "--url", overpass.url)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no relation for id" in done.stderr  # the stub holds 2 of the 10 relations
    assert not any((tmp_path / "osm").iterdir())  # nothing half-written


def test_fetch_osm_network_writes_walkable_edges_cut_where_ways_meet(overpass, tmp_path):
    from geo.data.network_io import read_network
    from geo.data.osm_walks import NETWORK_FILE
    from geo.engine.network import to_metric

    paths = fetch_osm(tmp_path, url=overpass.url, units=STUB_UNITS, network=True)
    assert paths[2] == tmp_path / NETWORK_FILE
    assert "out body geom" in overpass.requests[2]["query"]
    assert 'way["highway"]["highway"!~"^(motorway|' in overpass.requests[2]["query"]
    edges = gpd.read_file(paths[2])
    # the street 1–2–3 is cut at node 2 where the footway starts; the private service road
    # and the motorway are left out
    assert sorted(zip(edges["osm_way"], [len(g.coords) for g in edges.geometry],
                      strict=True)) == [(301, 2), (301, 2), (302, 3)]
    network = read_network(paths[2])
    assert (network.n_nodes, network.n_edges) == (4, 3)
    # walking from node 1 to node 5 goes along the street to node 2 and up the bent footway
    xy = to_metric(np.array([121.401, 121.403, 121.4035, 121.403]),
                   np.array([31.212, 31.212, 31.215, 31.218]))
    expected = sum(np.hypot(*(xy[i + 1] - xy[i])) for i in range(3))
    from geo.engine.network import snap_xy
    from geo.engine.walk import nearest_on_network

    distance, _ = nearest_on_network(network, snap_xy(network, xy[[3]]), xy[[0]])
    assert distance[0] == pytest.approx(expected, abs=1e-3)


def test_cli_fetch_osm_network(overpass, tmp_path):
    from tests.cli_helpers import run_cli

    done = run_cli("fetch-osm", "--out", str(tmp_path / "osm"), "--url", overpass.url,
                   "--network")
    assert done.returncode == 2  # the stub holds 2 of the 10 relations: nothing written
    assert not any((tmp_path / "osm").iterdir())
    assert "--network" in run_cli("fetch-osm", "--help").stdout
