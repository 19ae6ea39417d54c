"""Walks along a network, exact against networkx: points attach to the nearest point of an edge
(not a node), the walk runs along the partial edges, through nodes or directly along a shared
edge, barriers and disconnected parts hold, ``max_snap_m`` makes far points unreachable."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.engine.network import build_network, snap_xy
from geo.engine.walk import nearest_on_network
from geo.model.errors import InputError

EXACT = 1e-6
#: Two attachment distances and two partial edges are each rounded to a micrometre.
ROUNDED = 4 * 0.5e-6 + 1e-9


def _network(nodes: dict, edges: list, *, max_snap_m: float = 250.0):
    """``nodes``: id → (x, y) metres; ``edges``: (u, v[, length[, [(x, y), …] line]])."""
    node_frame = pd.DataFrame({"id": list(nodes), "x": [p[0] for p in nodes.values()],
                               "y": [p[1] for p in nodes.values()]})
    rows = []
    for edge in edges:
        u, v = edge[:2]
        length = edge[2] if len(edge) > 2 else np.nan
        line = shapely.LineString(edge[3]) if len(edge) > 3 else None
        rows.append({"u": u, "v": v, "length": length, "geometry": line})
    return build_network(node_frame, pd.DataFrame(rows), max_snap_m=max_snap_m)


# --- the reference: networkx on the network with every attachment point made a node ------------

def _lines(network) -> list[shapely.LineString]:
    pieces = network.segments
    lines = []
    for e in range(len(network.edge_u)):
        mine = np.flatnonzero(pieces.edge == e)
        coords = [pieces.a[mine[0]]] + [pieces.b[i] for i in mine]
        lines.append(shapely.LineString(coords))
    return lines


def _attach(lines, point, max_snap):
    """(edge, metres along its line, straight-line distance) of the nearest edge, by brute
    force with shapely; None beyond ``max_snap``."""
    p = shapely.Point(point)
    gaps = [line.distance(p) for line in lines]
    e = int(np.argmin(gaps))
    if gaps[e] > max_snap:
        return None
    return e, lines[e].project(p), gaps[e]


def _reference(network, cell_xy, facility_xy) -> np.ndarray:
    """Each cell's walk to its nearest facility, with networkx's Dijkstra on the network where
    each attachment point splits its edge."""
    lines = _lines(network)
    graph = nx.Graph()
    splits: dict[int, list[tuple[float, object]]] = {}
    for kind, points in (("c", cell_xy), ("f", facility_xy)):
        for i, point in enumerate(points):
            at = _attach(lines, point, network.max_snap_m)
            if at is None:
                continue
            e, along, gap = at
            splits.setdefault(e, []).append((along, (kind, i)))
            graph.add_edge((kind, i, "point"), (kind, i), weight=gap)
    for e, line in enumerate(lines):
        u, v = int(network.edge_u[e]), int(network.edge_v[e])
        scale = network.edge_length[e] / line.length if line.length > 0 else 0.0
        stops = [(0.0, u), *sorted(splits.get(e, []), key=lambda s: s[0]), (line.length, v)]
        for (a, x), (b, y) in itertools.pairwise(stops):
            if x == y:
                continue
            weight = (b - a) * scale
            if not graph.has_edge(x, y) or graph.edges[x, y]["weight"] > weight:
                graph.add_edge(x, y, weight=weight)
    sources = [("f", i, "point") for i in range(len(facility_xy)) if graph.has_node(("f", i))]
    reach = nx.multi_source_dijkstra_path_length(graph, sources) if sources else {}
    return np.array([reach.get(("c", i, "point"), np.inf) for i in range(len(cell_xy))])


def _walks(network, cell_xy, facility_xy):
    return nearest_on_network(network, snap_xy(network, np.asarray(cell_xy, dtype=float)),
                              np.asarray(facility_xy, dtype=float))


def _random_network(rng, *, size=6, spacing=180.0, drop=0.25, far=True):
    """A jittered street grid with some streets missing, some curved (their own line, some
    longer than drawn by a ``length`` attribute) and, with ``far``, an island street 2 km
    east."""
    nodes = {(i, j): (i * spacing + rng.uniform(-30, 30), j * spacing + rng.uniform(-30, 30))
             for i in range(size) for j in range(size)}
    edges = []
    for (i, j), a in nodes.items():
        for b_key in ((i + 1, j), (i, j + 1)):
            if b_key not in nodes or rng.random() < drop:
                continue
            b = nodes[b_key]
            edge = [(i, j), b_key]
            if rng.random() < 0.4:  # bent: a middle point off the straight line
                middle = ((a[0] + b[0]) / 2 + rng.uniform(-40, 40),
                          (a[1] + b[1]) / 2 + rng.uniform(-40, 40))
                line = [a, middle, b] if rng.random() < 0.5 else [b, middle, a]
                length = np.nan if rng.random() < 0.5 else float(rng.uniform(1.0, 1.5)
                                                                  * shapely.LineString(line).length)
                edge += [length, line]
            edges.append(tuple(edge))
    if far:
        nodes["far0"], nodes["far1"] = (2000.0, 0.0), (2150.0, 0.0)
        edges.append(("far0", "far1"))
    return _network(nodes, edges)


@pytest.mark.parametrize("seed", range(6))
def test_random_networks_match_networkx_exactly(seed):
    rng = np.random.default_rng(seed)
    network = _random_network(rng)
    cells = rng.uniform(-300, 1200, (150, 2))
    cells[:5] = rng.uniform(1950, 2200, (5, 2)) * [1, 0.1]  # near the island street
    facilities = rng.uniform(-100, 1000, (int(rng.integers(1, 7)), 2))
    distance, position = _walks(network, cells, facilities)
    expected = _reference(network, cells, facilities)
    assert np.isinf(distance).tolist() == np.isinf(expected).tolist()
    assert distance[np.isfinite(distance)] == pytest.approx(expected[np.isfinite(expected)],
                                                           abs=ROUNDED)
    assert np.isinf(expected).any() and np.isfinite(expected).any()
    # the position is a facility at that walk
    for i in np.flatnonzero(np.isfinite(distance)):
        alone = _walks(network, cells[i:i + 1], facilities[position[i]:position[i] + 1])[0]
        assert alone[0] == distance[i]
    assert (position[np.isinf(distance)] == -1).all()


# --- a 200 m block: attached to the edge, not the corner --------------------------------------

BLOCK = {"a": (0.0, 0.0), "b": (200.0, 0.0), "c": (200.0, 200.0), "d": (0.0, 200.0)}
RING = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")]


def test_a_facility_mid_block_stays_mid_block():
    network = _network(BLOCK, RING)
    distance, position = _walks(network, [[100, -20], [100, 220], [30, 5]], [[100, 10]])
    # 10 m to the edge at (100, 0), then: 20 m; round a corner (100 + 200 + 100) and 20 m;
    # along the same edge 70 m and 5 m
    assert distance == pytest.approx([10 + 0 + 20, 10 + 400 + 20, 10 + 70 + 5], abs=EXACT)
    assert position.tolist() == [0, 0, 0]


def test_on_one_edge_the_shorter_of_directly_and_round_the_network():
    # a 1 km wiggly lane a–b, whose ends a 100 m street also joins
    lane = [(0, 0), (0, 500), (100, 500), (100, 0)]
    network = _network({"a": (0.0, 0.0), "b": (100.0, 0.0)}, [("a", "b", np.nan, lane),
                                                               ("a", "b", 100.0)])
    assert network.edge_length.tolist() == [1100.0, 100.0]
    near_ends = _walks(network, [[-5, 50]], [[105, 60]])[0]
    assert near_ends[0] == pytest.approx(5 + 50 + 100 + 60 + 5, abs=EXACT)  # round by the street
    mid = _walks(network, [[-5, 450]], [[-5, 400]])[0]
    assert mid[0] == pytest.approx(5 + 50 + 5, abs=EXACT)  # directly along the lane


def test_a_length_attribute_scales_the_partial_edges():
    network = _network({"a": (0.0, 0.0), "b": (100.0, 0.0)}, [("a", "b", 300.0)])
    snap = snap_xy(network, np.array([[25.0, 3.0]]))
    assert (snap.to_u[0], snap.to_v[0], snap.distance_m[0]) == pytest.approx((75, 225, 3))
    distance = _walks(network, [[25, 3]], [[75, 0]])[0]
    assert distance[0] == pytest.approx(3 + 150, abs=EXACT)


def test_a_line_drawn_from_v_to_u_is_turned_round():
    line = [(100, 0), (50, 50), (0, 0)]
    network = _network({"a": (0.0, 0.0), "b": (100.0, 0.0)}, [("a", "b", np.nan, line)])
    snap = snap_xy(network, np.array([[10.0, 10.0]]))
    assert snap.to_u[0] == pytest.approx(np.hypot(10, 10), abs=EXACT)
    assert snap.to_v[0] == pytest.approx(2 * np.hypot(50, 50) - np.hypot(10, 10), abs=EXACT)


# --- barriers, parts, max snap ---------------------------------------------------------------

def test_a_river_with_one_bridge_makes_the_walk_long():
    nodes = {"w0": (0.0, 0.0), "w1": (0.0, 1000.0), "e0": (100.0, 0.0), "e1": (100.0, 1000.0)}
    network = _network(nodes, [("w0", "w1"), ("e0", "e1"), ("w1", "e1")])  # bridge at the top
    distance = _walks(network, [[90, 0]], [[10, 0]])[0]
    assert distance[0] == pytest.approx(10 + 1000 + 100 + 1000 + 10, abs=EXACT)


def test_max_snap_makes_far_points_unreachable_and_counts_from_the_edge():
    network = _network(BLOCK, RING, max_snap_m=50.0)
    snap = snap_xy(network, np.array([[100.0, -50.0], [100.0, -50.000002], [100.0, 100.0]]))
    assert snap.edge.tolist()[:2] == [0, -1]
    assert snap.distance_m[1] == np.inf and snap.edge[2] == -1  # the block's middle: 100 m
    distance, position = _walks(network, [[100, -50], [100, 100]], [[100, 10], [100, -51]])
    assert distance[0] == pytest.approx(60, abs=EXACT)
    assert (distance[1], position[1]) == (np.inf, -1)
    wider = network.with_max_snap(100)
    # 100 m from all four sides: the first listed (a–b), where the facility is too
    assert _walks(wider, [[100, 100]], [[100, 10]])[0][0] == pytest.approx(100 + 10)
    with pytest.raises(InputError, match="--max-snap must be a positive number of metres"):
        network.with_max_snap(0)


def test_a_facility_nobody_can_walk_to_serves_nobody():
    network = _network(BLOCK, RING)
    distance, position = _walks(network, [[100, 0]], [[100, 5000]])
    assert (distance[0], position[0]) == (np.inf, -1)


def test_ties_go_to_the_facility_listed_first_also_along_one_edge():
    network = _network(BLOCK, RING)
    for order in ([[50, 0], [150, 0]], [[150, 0], [50, 0]]):
        distance, position = _walks(network, [[100, 0]], order)
        assert (distance[0], position[0]) == (50, 0)


def test_a_self_loop_takes_attachments_and_is_walked_from_its_node():
    loop = [(0, 0), (0, 100), (100, 100), (100, 0), (0, 0)]
    network = _network({"a": (0.0, 0.0), "b": (-100.0, 0.0)},
                       [("a", "a", np.nan, loop), ("a", "b")])
    distance = _walks(network, [[90, 110]], [[-50, 5]])[0]
    # 5 m to the street, 50 m to a, then the shorter way round the loop (100 + 90 of 400 m),
    # 10 m off it
    assert distance[0] == pytest.approx(5 + 50 + 190 + 10, abs=EXACT)


@pytest.mark.parametrize("seed", [0, 1])
def test_walks_within_a_radius_are_the_walks_one_source_at_a_time(seed):
    from geo.engine.walk import walks_within

    rng = np.random.default_rng(seed)
    network = _random_network(rng)
    sources = rng.uniform(-100, 1000, (25, 2))
    targets = rng.uniform(-300, 1200, (120, 2))
    matrix = walks_within(network, snap_xy(network, sources), snap_xy(network, targets),
                          radius_m=400.0).toarray()
    expected = np.array([_walks(network, targets, sources[i:i + 1])[0] <= 400.0
                         for i in range(len(sources))])
    assert matrix.tolist() == expected.tolist()
    assert 0 < matrix.sum() < matrix.size


def test_attachment_is_exact_whichever_search_decides_it():
    # short streets, one 3 km avenue and a long bent lane: the probes decide most points, the
    # R-tree those the probes cannot tell (all must match brute force)
    rng = np.random.default_rng(11)
    network = _random_network(rng, size=8, spacing=60.0, far=False)
    nodes = {"w": (-500.0, -200.0), "e": (2500.0, -200.0), "n": (200.0, 900.0)}
    extra = _network(nodes, [("w", "e"), ("w", "n", np.nan, [(-500, -200), (-400, 700),
                                                            (200, 900)])])
    for net in (network, extra):
        points = rng.uniform(-800, 2800, (400, 2))
        snap = snap_xy(net, points)
        lines = _lines(net)
        for i, point in enumerate(points):
            at = _attach(lines, point, net.max_snap_m)
            if at is None:
                assert snap.edge[i] == -1
                continue
            assert snap.distance_m[i] == pytest.approx(at[2], abs=1e-6)
            assert lines[snap.edge[i]].distance(shapely.Point(point)) == pytest.approx(
                at[2], abs=1e-6)
