from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.data.network_io import network_from_graph, read_edges_file, read_graphml, read_network
from geo.engine.coverage import nearest_facility
from geo.engine.network import build_network, snap_points, snap_xy, to_metric
from geo.engine.walk import nearest_on_network, network_nearest
from geo.model.config import METRIC_CRS
from geo.model.errors import InputError
from tests.conftest import ORIGIN_X, ORIGIN_Y, metric_to_lonlat

SPACING = 100.0
#: A 5 × 5 grid, 100 m apart, of nodes "i,j" at (100 i, 100 j) m from the fixture origin, and a
#: separate two-node street "far0"–"far1" 1 km east of the grid.
FAR = {"far0": (1000.0, 0.0), "far1": (1100.0, 0.0)}
EXACT = 1e-6  # metres: what the lon/lat round trip may cost


def _grid_xy() -> dict[str, tuple[float, float]]:
    points = {f"{i},{j}": (SPACING * i, SPACING * j) for i in range(5) for j in range(5)}
    return {**points, **FAR}


def _grid_edges(*, barrier: bool = False) -> list[tuple[str, str]]:
    """Grid streets, and the far street. With ``barrier``, no street crosses between columns 2
    and 3 except along the top row."""
    edges = [("far0", "far1")]
    for i in range(5):
        for j in range(5):
            if j < 4:
                edges.append((f"{i},{j}", f"{i},{j + 1}"))
            if i < 4 and not (barrier and i == 2 and j < 4):
                edges.append((f"{i},{j}", f"{i + 1},{j}"))
    return edges


def _graph(*, barrier: bool = False, lengths: bool = True, crs: str | None = "EPSG:4326",
           metric: bool = False) -> nx.Graph:
    """The grid as OSMnx lays a graph out: x/y in lon/lat (or UTM 51N metres), ``length``."""
    graph = nx.Graph()
    if crs:
        graph.graph["crs"] = crs
    for node, (dx, dy) in _grid_xy().items():
        if metric:
            x, y = ORIGIN_X + dx, ORIGIN_Y + dy
        else:
            x, y = (float(c) for c in metric_to_lonlat(dx, dy))
        graph.add_node(node, x=x, y=y)
    for u, v in _grid_edges(barrier=barrier):
        graph.add_edge(u, v, **({"length": SPACING} if lengths else {}))
    return graph


def _points(offsets: dict[str, tuple[float, float]]) -> pd.DataFrame:
    lon, lat = metric_to_lonlat([o[0] for o in offsets.values()], [o[1] for o in offsets.values()])
    return pd.DataFrame({"lon": lon, "lat": lat}, index=pd.Index(list(offsets), name="cell"))


def _facilities(offsets: dict[str, tuple[float, float]]) -> pd.DataFrame:
    frame = _points(offsets).reset_index(drop=True)
    frame.insert(0, "id", list(offsets))
    frame.insert(1, "name", [f"{i} 名" for i in offsets])
    return frame


def _metric_lines(*, crs: str = METRIC_CRS, barrier: bool = False) -> gpd.GeoDataFrame:
    xy = _grid_xy()
    lines = [shapely.LineString([(ORIGIN_X + xy[u][0], ORIGIN_Y + xy[u][1]),
                                 (ORIGIN_X + xy[v][0], ORIGIN_Y + xy[v][1])])
             for u, v in _grid_edges(barrier=barrier)]
    return gpd.GeoDataFrame({"name": [f"{u}-{v}" for u, v in _grid_edges(barrier=barrier)]},
                            geometry=lines, crs=METRIC_CRS).to_crs(crs)


@pytest.fixture
def grid():
    return network_from_graph(_graph())


@pytest.fixture
def river():
    return network_from_graph(_graph(barrier=True))


# --- the network itself ---------------------------------------------------------------------

def test_grid_network_has_its_nodes_and_undirected_edges(grid):
    assert grid.n_nodes == 27
    assert grid.n_edges == 41
    assert (grid.adjacency != grid.adjacency.T).nnz == 0
    assert set(grid.adjacency.data) == {SPACING}
    position = list(grid.node_ids).index("3,2")
    assert grid.xy[position] == pytest.approx([ORIGIN_X + 300, ORIGIN_Y + 200], abs=EXACT)


def test_parallel_edges_keep_the_shortest_and_self_loops_are_dropped():
    nodes = pd.DataFrame({"id": ["a", "b"], "x": [0.0, 100.0], "y": [0.0, 0.0]})
    edges = pd.DataFrame({"u": ["a", "b", "a"], "v": ["b", "a", "a"],
                          "length": [250.0, 180.0, 5.0]})
    network = build_network(nodes, edges)
    assert network.n_edges == 1
    assert network.adjacency.toarray().tolist() == [[0.0, 180.0], [180.0, 0.0]]


def test_a_zero_length_edge_is_kept_and_costs_nothing():
    nodes = pd.DataFrame({"id": ["a", "b", "c"], "x": ORIGIN_X + np.array([0.0, 0.0, 100.0]),
                          "y": ORIGIN_Y + np.array([0.0, 50.0, 50.0])})
    edges = pd.DataFrame({"u": ["a", "b"], "v": ["b", "c"], "length": [0.0, 100.0]})
    network = build_network(nodes, edges)
    assert network.n_edges == 2
    near = network_nearest(_points({"c": (100, 50)}), _facilities({"f": (0, 0)}), network)
    assert near.loc["c", "distance_m"] == pytest.approx(100, abs=EXACT)
    assert near.loc["c", "nearest_id"] == "f"


def test_missing_length_is_the_straight_line_between_the_nodes_in_metres():
    nodes = pd.DataFrame({"id": ["a", "b", "c"], "x": [0.0, 300.0, 300.0],
                          "y": [0.0, 400.0, 0.0]})
    edges = pd.DataFrame({"u": ["a", "b"], "v": ["b", "c"], "length": [np.nan, 1000.0]})
    dense = build_network(nodes, edges).adjacency.toarray()
    assert dense[0, 1] == 500.0
    assert dense[1, 2] == 1000.0


# --- distances --------------------------------------------------------------------------------

def test_distance_is_facility_snap_plus_path_plus_cell_snap(grid):
    facilities = _facilities({"f1": (0, -30)})  # 30 m south of node 0,0
    cells = _points({"near_2_3": (210, 300), "on_4_4": (400, 400), "on_0_0": (0, 0)})
    near = network_nearest(cells, facilities, grid)
    assert near["distance_m"].to_numpy() == pytest.approx(
        [30 + 500 + 10, 30 + 800 + 0, 30 + 0 + 0], abs=EXACT)
    assert near["nearest_id"].tolist() == ["f1", "f1", "f1"]
    assert near["nearest_name"].tolist() == ["f1 名", "f1 名", "f1 名"]


def test_a_cell_and_a_facility_on_the_same_node_are_their_snaps_apart(grid):
    near = network_nearest(_points({"c": (200, 205)}), _facilities({"f": (197, 200)}), grid)
    assert near.loc["c", "distance_m"] == pytest.approx(5 + 3, abs=EXACT)


def test_each_cell_takes_the_facility_nearest_along_the_network(grid):
    facilities = _facilities({"f1": (0, -30), "f2": (400, 410)})
    cells = _points({"a": (100, 5), "b": (300, 390), "c": (200, 200)})
    near = network_nearest(cells, facilities, grid)
    assert near["distance_m"].to_numpy() == pytest.approx([135, 120, 410], abs=EXACT)
    assert near["nearest_id"].tolist() == ["f1", "f2", "f2"]


def test_the_network_can_make_the_straight_line_nearest_the_farther_one(river):
    facilities = _facilities({"across": (200, 0), "same_side": (400, 200)})
    cells = _points({"c": (300, 0)})
    walked = network_nearest(cells, facilities, river)
    assert walked.loc["c", "nearest_id"] == "same_side"
    assert walked.loc["c", "distance_m"] == pytest.approx(300, abs=EXACT)
    straight = nearest_facility(cells, facilities)
    assert straight.loc["c", "nearest_id"] == "across"
    only_across = network_nearest(cells, facilities.iloc[:1], river)
    assert only_across.loc["c", "distance_m"] == pytest.approx(400 + 100 + 400, abs=EXACT)


def test_cells_on_a_component_no_facility_reaches_are_uncovered_not_zero(grid):
    facilities = _facilities({"f1": (600, 300)})  # nearest node: 4,3, 200 m west
    cells = _points({"far": (1090, 0), "on_far0": (1000, 0), "grid": (400, 0)})
    near = network_nearest(cells, facilities, grid)
    assert near.loc["far", "distance_m"] == np.inf
    assert near.loc["on_far0", "distance_m"] == np.inf
    assert pd.isna(near.loc["far", "nearest_id"]) and pd.isna(near.loc["far", "nearest_name"])
    assert near.loc["grid", "distance_m"] == pytest.approx(200 + 300, abs=EXACT)
    assert not (near["distance_m"] <= 10_000).loc[["far", "on_far0"]].any()


def test_a_facility_on_the_small_component_serves_only_it(grid):
    facilities = _facilities({"far": (1100, -20)})
    near = network_nearest(_points({"far": (1010, 0), "grid": (400, 0)}), facilities, grid)
    # both on the far street's one edge: directly along it
    assert near.loc["far", "distance_m"] == pytest.approx(20 + 90 + 0, abs=EXACT)
    assert near.loc["far", "nearest_id"] == "far"
    assert near.loc["grid", "distance_m"] == np.inf
    assert pd.isna(near.loc["grid", "nearest_id"])


def test_ties_go_to_the_facility_listed_first(grid):
    cells = _points({"middle": (200, 0), "co": (0, 400)})
    for order in (["west", "east"], ["east", "west"]):
        spots = {"west": (0, 0), "east": (400, 0)}
        near = network_nearest(cells, _facilities({k: spots[k] for k in order}), grid)
        assert near.loc["middle", "nearest_id"] == order[0]
        assert near.loc["middle", "distance_m"] == pytest.approx(200, abs=EXACT)
    for order in (["a", "b"], ["b", "a"]):
        near = network_nearest(cells, _facilities({k: (0, 400) for k in order}), grid)
        assert near.loc["co", "nearest_id"] == order[0]


def test_ties_resolve_the_same_way_across_a_whole_tied_region():
    # Facilities at two corners of a 5 × 5 grid in metres: every node off the diagonal
    # corridor is nearer one of them; ties lie on the anti-diagonal and follow the listing.
    graph = _graph(crs=METRIC_CRS, metric=True)
    network = network_from_graph(graph)
    cells = _points({f"{i},{j}": (SPACING * i, SPACING * j) for i in range(5) for j in range(5)})
    for first, second in (("sw", "ne"), ("ne", "sw")):
        spots = {"sw": (0, 0), "ne": (400, 400)}
        near = network_nearest(cells, _facilities({first: spots[first],
                                                   second: spots[second]}), network)
        for cell, row in near.iterrows():
            i, j = (int(n) for n in cell.split(","))
            sw, ne = SPACING * (i + j), SPACING * (8 - i - j)
            assert row["distance_m"] == pytest.approx(min(sw, ne), abs=EXACT)
            expected = first if sw == ne else ("sw" if sw < ne else "ne")
            assert row["nearest_id"] == expected, cell


def test_output_has_the_shape_of_nearest_facility(grid):
    cells = _points({"a": (0, 0), "b": (1090, 0)})
    facilities = _facilities({"f1": (10, 0)})
    walked = network_nearest(cells, facilities, grid)
    straight = nearest_facility(cells, facilities)
    assert list(walked.columns) == list(straight.columns) == ["distance_m", "nearest_id",
                                                               "nearest_name"]
    assert walked.index.equals(cells.index)
    assert walked["distance_m"].dtype == np.float64
    for empty in (facilities.iloc[:0], None):
        args = (cells, facilities.iloc[:0]) if empty is not None else (cells.iloc[:0], facilities)
        pd.testing.assert_frame_equal(network_nearest(*args, grid), nearest_facility(*args))


def test_snapped_cells_can_be_reused_across_categories(grid):
    cells = _points({"a": (210, 300), "b": (1090, 0)})
    snap = snap_points(grid, cells["lon"], cells["lat"])
    assert snap.distance_m == pytest.approx([0, 0], abs=EXACT)  # both lie on an edge
    assert [grid.node_ids[grid.edge_u[e]] for e in snap.edge] == ["2,3", "far0"]
    assert snap.to_u == pytest.approx([10, 90], abs=EXACT)
    assert snap.to_v == pytest.approx([90, 10], abs=EXACT)
    facilities = _facilities({"f1": (0, -30)})
    pd.testing.assert_frame_equal(network_nearest(cells, facilities, grid, cell_snap=snap),
                                  network_nearest(cells, facilities, grid))


def test_the_array_form_gives_positions_and_minus_one_where_unreachable(grid):
    cell_xy = np.array([[ORIGIN_X + 210, ORIGIN_Y + 300], [ORIGIN_X + 1090, ORIGIN_Y]])
    facilities = _facilities({"f1": (0, -30), "f2": (400, 410)})
    distance, position = nearest_on_network(grid, snap_xy(grid, cell_xy),
                                            to_metric(facilities["lon"], facilities["lat"]))
    # f2 attaches 10 m south of it at 4,4, walks 100 m west and 190 m south to the cell
    assert distance == pytest.approx([10 + 100 + 190, np.inf], abs=EXACT)
    assert position.tolist() == [1, -1]
    none_distance, none_position = nearest_on_network(grid, snap_xy(grid, cell_xy),
                                                      np.zeros((0, 2)))
    assert none_distance.tolist() == [np.inf, np.inf]
    assert none_position.tolist() == [-1, -1]


def test_walking_is_never_shorter_than_the_straight_line(river):
    rng = np.random.default_rng(7)
    cells = _points({f"c{i}": xy for i, xy in enumerate(rng.uniform(-50, 450, (200, 2)))})
    facilities = _facilities({f"f{i}": xy for i, xy in enumerate(rng.uniform(-50, 450, (6, 2)))})
    walked = network_nearest(cells, facilities, river)["distance_m"].to_numpy()
    straight = nearest_facility(cells, facilities)["distance_m"].to_numpy()
    assert np.all(walked >= straight - EXACT)
    assert np.all(np.isfinite(walked))


# --- edge lengths -----------------------------------------------------------------------------

def test_an_edge_length_attribute_wins_over_the_geometry_and_the_straight_line():
    graph = _graph(lengths=False)
    graph.edges["0,0", "1,0"]["length"] = 250.0
    lon, lat = metric_to_lonlat([0, 50, 0], [0, 50, 100])  # a 141.42 m dog-leg to 0,1
    graph.edges["0,0", "0,1"]["geometry"] = shapely.LineString(
        np.column_stack([lon, lat])).wkt
    network = network_from_graph(graph)
    cells = _points({"east": (100, 0), "north": (0, 100), "ne": (100, 100)})
    near = network_nearest(cells, _facilities({"f": (0, 0)}), network)
    assert near["distance_m"].to_numpy() == pytest.approx(
        [250, 2 * np.hypot(50, 50), 2 * np.hypot(50, 50) + 100], abs=1e-3)


# --- GraphML ----------------------------------------------------------------------------------

def _distances(network) -> np.ndarray:
    cells = _points({"a": (210, 300), "b": (400, 400), "c": (1090, 0), "d": (300, 0)})
    facilities = _facilities({"f1": (0, -30), "f2": (400, 200)})
    return network_nearest(cells, facilities, network)


def test_graphml_round_trip_keeps_the_distances(tmp_path):
    path = tmp_path / "walk.graphml"
    nx.write_graphml(_graph(barrier=True), path)
    pd.testing.assert_frame_equal(_distances(read_network(path)),
                                  _distances(network_from_graph(_graph(barrier=True))))


def test_graphml_written_as_osmnx_writes_it_all_strings_multidigraph(tmp_path):
    graph = nx.MultiDiGraph(_graph(barrier=True))  # both directions, as OSMnx walk graphs
    graph.graph["crs"] = "epsg:4326"
    for _, data in graph.nodes(data=True):
        data.update({k: str(v) for k, v in data.items()})
    for _, _, data in graph.edges(data=True):
        data.update({"length": str(data["length"]), "osmid": "123"})
    path = tmp_path / "osmnx.graphml"
    nx.write_graphml(graph, path)
    network = read_graphml(path)
    assert network.n_edges == 37
    expected = _distances(network_from_graph(_graph(barrier=True)))
    pd.testing.assert_frame_equal(_distances(network), expected)


def test_graphml_without_crs_reads_lon_lat_and_a_metric_crs_attribute_is_used(tmp_path):
    plain, metric = tmp_path / "plain.graphml", tmp_path / "metric.graphml"
    nx.write_graphml(_graph(crs=None, lengths=False), plain)
    nx.write_graphml(_graph(crs="EPSG:32651", metric=True, lengths=False), metric)
    expected = _distances(network_from_graph(_graph()))
    for path in (plain, metric):
        got = _distances(read_network(path))
        assert got["distance_m"].to_numpy() == pytest.approx(expected["distance_m"].to_numpy(),
                                                             abs=EXACT)
        assert got["nearest_id"].tolist() == expected["nearest_id"].tolist()


# --- edges files ------------------------------------------------------------------------------

def test_gpkg_of_edges_gives_the_same_distances_as_the_graph(tmp_path):
    path = tmp_path / "edges.gpkg"
    _metric_lines(barrier=True).to_file(path)
    network = read_network(path)
    assert (network.n_nodes, network.n_edges) == (27, 37)
    got, expected = _distances(network), _distances(network_from_graph(_graph(barrier=True)))
    assert got["distance_m"].to_numpy() == pytest.approx(expected["distance_m"].to_numpy(),
                                                         abs=EXACT)
    assert got["nearest_id"].tolist() == expected["nearest_id"].tolist()


def test_geojson_edges_in_lon_lat_are_measured_in_metres(tmp_path):
    path = tmp_path / "edges.geojson"
    _metric_lines(crs="EPSG:4326").to_file(path)
    network = read_network(path)
    assert network.adjacency.data == pytest.approx(np.full(network.adjacency.nnz, SPACING),
                                                   abs=EXACT)


def test_an_edges_file_length_column_wins_over_the_line_length(tmp_path):
    lines = _metric_lines()
    lines["length"] = np.where(lines["name"] == "0,0-1,0", 250.0, np.nan)
    path = tmp_path / "edges.gpkg"
    lines.to_file(path)
    near = network_nearest(_points({"east": (100, 0), "north": (0, 100)}),
                           _facilities({"f": (0, 0)}), read_network(path))
    assert near["distance_m"].to_numpy() == pytest.approx([250, 100], abs=EXACT)


def test_an_osmnx_geopackage_reads_its_edges_layer(tmp_path):
    path = tmp_path / "osmnx.gpkg"
    lines = _metric_lines()
    gpd.GeoDataFrame(geometry=shapely.points(shapely.get_coordinates(lines.geometry)),
                     crs=METRIC_CRS).to_file(path, layer="nodes")
    lines.to_file(path, layer="edges")
    assert read_network(path).n_edges == 41


def test_multilinestring_parts_are_separate_edges(tmp_path):
    x, y = ORIGIN_X, ORIGIN_Y
    multi = shapely.MultiLineString([[(x, y), (x + 100, y)], [(x + 500, y), (x + 600, y)]])
    path = tmp_path / "multi.gpkg"
    gpd.GeoDataFrame(geometry=[multi], crs=METRIC_CRS).to_file(path)
    network = read_network(path)
    assert (network.n_nodes, network.n_edges) == (4, 2)


# --- bad input --------------------------------------------------------------------------------

def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GRAPHML_HEAD = ('<?xml version="1.0" encoding="utf-8"?>\n'
                '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
                '<key id="x" for="node" attr.name="x" attr.type="double"/>\n'
                '<key id="y" for="node" attr.name="y" attr.type="double"/>\n'
                '<graph edgedefault="undirected">\n')
GRAPHML_TAIL = "</graph>\n</graphml>\n"


def test_missing_and_unknown_kinds_of_file(tmp_path):
    with pytest.raises(InputError, match=r"walking network file .*nope\.graphml: no such file"):
        read_network(tmp_path / "nope.graphml")
    with pytest.raises(InputError, match=r"walk\.csv: unknown kind of file '\.csv'"):
        read_network(_write(tmp_path, "walk.csv", "a,b\n"))


def test_unreadable_xml(tmp_path):
    path = _write(tmp_path, "broken.graphml", "<graphml><node id='a'")
    with pytest.raises(InputError, match=r"broken\.graphml: cannot be read as GraphML"):
        read_network(path)


def test_graphml_with_no_nodes(tmp_path):
    path = _write(tmp_path, "empty.graphml", GRAPHML_HEAD + GRAPHML_TAIL)
    with pytest.raises(InputError, match=r"empty\.graphml.*: no nodes"):
        read_network(path)


def test_graphml_node_without_x_or_y_and_no_edges(tmp_path):
    path = _write(tmp_path, "bad.graphml", GRAPHML_HEAD
                  + '<node id="n1"><data key="x">121.4</data></node>\n'
                  + '<node id="n2"/>\n' + GRAPHML_TAIL)
    with pytest.raises(InputError, match=r"(?s)bad\.graphml.*3 problem\(s\)"
                       r".*node 'n1': no y.*node 'n2': no x and y.*no edges"):
        read_network(path)


def test_graphml_with_nodes_but_no_edges(tmp_path):
    path = _write(tmp_path, "lonely.graphml", GRAPHML_HEAD
                  + '<node id="n1"><data key="x">121.4</data><data key="y">31.2</data></node>\n'
                  + GRAPHML_TAIL)
    with pytest.raises(InputError, match=r"lonely\.graphml.*: no edges$"):
        read_network(path)


def test_graphml_coordinates_and_lengths_that_are_not_numbers(tmp_path):
    graph = _graph()
    graph.nodes["0,0"]["x"] = "east"
    graph.edges["0,1", "0,2"]["length"] = "long"
    graph.edges["0,2", "0,3"]["length"] = -5.0
    path = tmp_path / "words.graphml"
    nx.write_graphml(graph, path)
    with pytest.raises(InputError, match=r"(?s)words\.graphml: 3 problem\(s\)"
                       r".*node '0,0': x 'east' is not a number"
                       r".*edge '0,1'–'0,2': length 'long' is not a number of metres ≥ 0"
                       r".*edge '0,2'–'0,3': length -5\.0 is not a number"):
        read_network(path)


def test_graphml_metric_coordinates_without_a_crs_attribute(tmp_path):
    path = tmp_path / "metric.graphml"
    nx.write_graphml(_graph(crs=None, metric=True), path)
    with pytest.raises(InputError, match=r"(?s)no crs attribute: x/y read as longitude/latitude"
                       r"\).*is not a longitude/latitude"):
        read_network(path)
    assert read_network(path, crs=METRIC_CRS).n_nodes == 27


def test_graphml_unknown_crs(tmp_path):
    path = tmp_path / "crs.graphml"
    nx.write_graphml(_graph(crs="EPSG:999999"), path)
    with pytest.raises(InputError, match=r"CRS 'EPSG:999999' is not a known coordinate"):
        read_network(path)


def test_edges_file_of_points_is_the_wrong_geometry_type(tmp_path):
    path = tmp_path / "points.gpkg"
    gpd.GeoDataFrame(geometry=[shapely.Point(ORIGIN_X, ORIGIN_Y)] * 2,
                     crs=METRIC_CRS).to_file(path)
    with pytest.raises(InputError, match=r"(?s)points\.gpkg: 2 problem\(s\)"
                       r".*row 0: geometry is a Point, not a LineString"):
        read_network(path)


@pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")
def test_edges_file_without_crs_or_edges_or_readable_content(tmp_path):
    path = tmp_path / "nocrs.shp"
    gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 1)])]).to_file(path)
    with pytest.raises(InputError, match=r"nocrs\.shp: no CRS: cannot measure"):
        read_network(path)
    empty = tmp_path / "empty.gpkg"
    _metric_lines().iloc[:0].to_file(empty)
    with pytest.raises(InputError, match=r"empty\.gpkg: no edges"):
        read_network(empty)
    junk = _write(tmp_path, "junk.gpkg", "not a geopackage")
    with pytest.raises(InputError, match=r"junk\.gpkg: the content is not GPKG"):
        read_network(junk)


@pytest.mark.parametrize("name", ["edges.geojson", "edges.zip"])
def test_an_edges_file_goes_through_the_allow_list(tmp_path, name):
    """A VRT named .geojson (or zipped) was opened by GDAL as it is: its source, a local file
    or a /vsicurl/ URL, was read (a request left the machine)."""
    vrt = ('<OGRVRTDataSource><OGRVRTLayer name="edges"><SrcDataSource>'
           f'{tmp_path / "lines.csv"}</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>')
    (tmp_path / "lines.csv").write_text("WKT,length\n\"LINESTRING (0 0, 1 1)\",1\n")
    path = tmp_path / name
    if name.endswith(".zip"):
        import zipfile

        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("edges.geojson", vrt)
    else:
        path.write_text(vrt)
    with pytest.raises(InputError, match=r"the content is not GEOJSON as its extension says"):
        read_network(path)


def test_edges_file_negative_or_missing_length_field(tmp_path):
    lines = _metric_lines()
    lines["length_m"] = -1.0
    path = tmp_path / "neg.gpkg"
    lines.to_file(path)
    with pytest.raises(InputError, match=r"(?s)neg\.gpkg: 41 problem\(s\).*row 0: length_m -1\.0"):
        read_network(path)
    with pytest.raises(InputError, match=r"neg\.gpkg: no 'metres' column"):
        read_edges_file(path, length_field="metres")


def test_build_network_reports_unknown_and_duplicated_nodes():
    nodes = pd.DataFrame({"id": ["a", "a", "b"], "x": [0.0, 1.0, 2.0], "y": [0.0] * 3})
    with pytest.raises(InputError, match=r"walking network: node 'a': listed more than once"):
        build_network(nodes, pd.DataFrame({"u": ["a"], "v": ["b"]}))
    nodes = nodes.iloc[1:]
    with pytest.raises(InputError, match=r"edge 'a'–'zz': unknown node 'zz'"):
        build_network(nodes, pd.DataFrame({"u": ["a"], "v": ["zz"]}))
    with pytest.raises(InputError, match=r"no 'v' column in the edges"):
        build_network(nodes, pd.DataFrame({"u": ["a"]}))


def test_osm_xml_reads_its_ways_through_osmnx_with_their_bends(tmp_path):
    lon, lat = metric_to_lonlat([0.0, 300.0, 300.0, 600.0], [0.0, 0.0, 400.0, 400.0])
    nodes = "".join(f'<node id="{i + 1}" lat="{la:.9f}" lon="{lo:.9f}"/>'
                    for i, (lo, la) in enumerate(zip(lon, lat, strict=True)))
    path = _write(tmp_path, "walk.osm", '<?xml version="1.0"?><osm version="0.6">' + nodes
                  + '<way id="7"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/>'
                  '<tag k="highway" v="footway"/></way></osm>')
    network = read_network(path)
    assert network.n_nodes == 2  # the way's ends; its bends are the edge's geometry
    # a cell 10 m east of the middle of the way's second stretch walks along the bend
    cells = _points({"beside": (310.0, 200.0)})
    near = network_nearest(cells, _facilities({"f": (0.0, 0.0)}), network)
    assert near.loc["beside", "distance_m"] == pytest.approx(10 + 300 + 200, rel=2e-3)
    broken = _write(tmp_path, "broken.osm", "<html>not osm</html>")
    with pytest.raises(InputError, match=r"broken\.osm: the content is not OpenStreetMap XML"):
        read_network(broken)
