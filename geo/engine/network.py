"""Walking distance along a street network, as an alternative to the straight line.

Every cell centre and every facility is snapped to its nearest network node (straight line in
the metric CRS, UTM 51N); the distance from a cell to a facility is the facility's snap distance
plus the shortest path between the two nodes plus the cell's snap distance, in metres. One
multi-source shortest-path run per category finds every cell's nearest facility.

Reading network files is in :mod:`geo.data.network_io`; this module is pure computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.engine.nearest import nearest_frame
from geo.model.config import METRIC_CRS, STORAGE_CRS
from geo.model.errors import InputError, raise_if_problems

__all__ = [
    "SNAP_DECIMALS",
    "Snap",
    "WalkingNetwork",
    "build_network",
    "nearest_on_network",
    "network_nearest",
    "snap_points",
    "snap_xy",
    "to_metric",
]


#: Snap distances are rounded to this many decimals of a metre (a micrometre): below what the
#: coordinates can tell, and it lets equally far facilities tie exactly.
SNAP_DECIMALS = 6


@cache
def _transformer(crs: str) -> Transformer:
    return Transformer.from_crs(crs, METRIC_CRS, always_xy=True)


def to_metric(x: np.ndarray, y: np.ndarray, *, crs: str = STORAGE_CRS) -> np.ndarray:
    """(n, 2) metres in the metric CRS (UTM 51N) for coordinates ``x``/``y`` in ``crs``
    (longitude/latitude in degrees for EPSG:4326)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if CRS.from_user_input(crs) == CRS.from_user_input(METRIC_CRS):
        return np.column_stack([x, y])
    mx, my = _transformer(crs).transform(x, y)
    return np.column_stack([mx, my])


@dataclass(frozen=True, eq=False)
class WalkingNetwork:
    """An undirected walking network in the metric CRS.

    Attributes
    ----------
    node_ids
        (n,) the nodes' ids as the source file names them.
    xy
        (n, 2) node coordinates, metres in UTM 51N (EPSG:32651).
    adjacency
        (n, n) symmetric CSR matrix of edge lengths in metres, one entry per pair of connected
        nodes (the shortest of parallel edges); build it with :func:`build_network`.
    """

    node_ids: np.ndarray
    xy: np.ndarray
    adjacency: sp.csr_array

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges (pairs of connected nodes)."""
        return self.adjacency.nnz // 2

    @cached_property
    def tree(self) -> cKDTree:
        """KD-tree of the node coordinates (metres), for snapping."""
        return cKDTree(self.xy)

    @cached_property
    def _arcs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Both directions of every edge: (from, to, length in metres), sorted by ``from``."""
        coo = self.adjacency.tocoo()
        order = np.lexsort([coo.col, coo.row])
        return (coo.row[order].astype(np.int64), coo.col[order].astype(np.int64),
                coo.data[order])


def _shown(value: object) -> str:
    """``repr`` of a value as the file gave it (a numpy scalar as the plain Python one)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _node_problems(nodes: pd.DataFrame, x: np.ndarray, y: np.ndarray, *,
                   geographic: bool) -> list[str]:
    problems = []
    ids = nodes["id"].to_numpy()
    for name, values in (("x", x), ("y", y)):
        for position in np.flatnonzero(~np.isfinite(values)):
            problems.append(f"node {ids[position]!r}: {name} {_shown(nodes[name].iloc[position])} "
                            "is not a number")
    if geographic:
        outside = np.isfinite(x) & np.isfinite(y) & ((np.abs(x) > 180) | (np.abs(y) > 90))
        problems += [f"node {ids[p]!r}: x/y ({x[p]}, {y[p]}) is not a longitude/latitude"
                     for p in np.flatnonzero(outside)]
    duplicated = pd.unique(ids[pd.Series(ids).duplicated().to_numpy()])
    problems += [f"node {i!r}: listed more than once" for i in duplicated]
    return problems


def _edge_problems(edges: pd.DataFrame, u: np.ndarray, v: np.ndarray,
                   length: np.ndarray) -> list[str]:
    problems = []
    for end, positions in (("u", u), ("v", v)):
        for row in np.flatnonzero(positions < 0):
            problems.append(f"edge {edges['u'].iloc[row]!r}–{edges['v'].iloc[row]!r}: "
                            f"unknown node {edges[end].iloc[row]!r}")
    if "length" in edges:
        given = edges["length"].to_numpy(dtype=object)
        missing = pd.isna(edges["length"]).to_numpy()
        bad = ~missing & ~(np.isfinite(length) & (length >= 0))
        problems += [f"edge {edges['u'].iloc[r]!r}–{edges['v'].iloc[r]!r}: "
                     f"length {_shown(given[r])} is not a number of metres ≥ 0"
                     for r in np.flatnonzero(bad)]
    return problems


def build_network(nodes: pd.DataFrame, edges: pd.DataFrame, *, crs: str = METRIC_CRS,
                  source: str = "walking network") -> WalkingNetwork:
    """A :class:`WalkingNetwork` from a frame of nodes and a frame of edges.

    Parameters
    ----------
    nodes
        ``id``, ``x``, ``y``: node coordinates in ``crs``.
    edges
        ``u``, ``v``: node ids; walking goes both ways. Optional ``length`` in metres; where it
        is missing the edge measures the straight line between its nodes in UTM 51N. Self-loops
        are dropped; of parallel edges the shortest is kept.
    crs
        CRS of the node coordinates (default UTM 51N metres; EPSG:4326 for lon/lat degrees).
    source
        What the frames were read from; starts every error message.

    Raises
    ------
    InputError
        Listing every problem: no nodes or edges, missing columns, coordinates or lengths that
        are not numbers, unknown or duplicated node ids, an unknown CRS.
    """
    raise_if_problems(
        [f"no {what!r} column in the {frame_name}" for frame_name, frame, columns in
         (("nodes", nodes, ("id", "x", "y")), ("edges", edges, ("u", "v")))
         for what in columns if what not in frame],
        context=source)
    raise_if_problems([f"no {what}" for what, frame in (("nodes", nodes), ("edges", edges))
                       if len(frame) == 0], context=source)
    try:
        geographic = CRS.from_user_input(crs).is_geographic
    except CRSError as exc:
        raise InputError(f"{source}: CRS {crs!r} is not a known coordinate reference system"
                         ) from exc
    x, y = _numbers(nodes["x"]), _numbers(nodes["y"])
    index = pd.Index(nodes["id"].to_numpy())
    u = index.get_indexer(edges["u"].to_numpy()) if index.is_unique else np.zeros(len(edges))
    v = index.get_indexer(edges["v"].to_numpy()) if index.is_unique else np.zeros(len(edges))
    length = (_numbers(edges["length"]) if "length" in edges
              else np.full(len(edges), np.nan))
    raise_if_problems(_node_problems(nodes, x, y, geographic=geographic)
                      + _edge_problems(edges, u, v, length), context=source)
    xy = to_metric(x, y, crs=crs)
    u, v = u.astype(np.int64), v.astype(np.int64)
    straight = np.hypot(*(xy[u] - xy[v]).T)
    length = np.where(np.isnan(length), straight, length)
    keep = u != v
    adjacency = _symmetric_lengths(u[keep], v[keep], length[keep], len(xy))
    return WalkingNetwork(node_ids=index.to_numpy(), xy=xy, adjacency=adjacency)


def _symmetric_lengths(u: np.ndarray, v: np.ndarray, length: np.ndarray,
                       n: int) -> sp.csr_array:
    """(n, n) CSR of ``length`` both ways, the shortest of parallel edges."""
    row = np.concatenate([u, v])
    col = np.concatenate([v, u])
    data = np.concatenate([length, length])
    order = np.lexsort([data, col, row])
    row, col, data = row[order], col[order], data[order]
    first = np.ones(len(row), dtype=bool)
    first[1:] = (row[1:] != row[:-1]) | (col[1:] != col[:-1])
    matrix = sp.csr_array((data[first], (row[first], col[first])), shape=(n, n))
    matrix.sort_indices()
    return matrix


@dataclass(frozen=True)
class Snap:
    """Points snapped to their nearest network node: the node's position in the network
    (``node``) and the straight-line distance to it in metres (``distance_m``)."""

    node: np.ndarray
    distance_m: np.ndarray


def snap_xy(network: WalkingNetwork, xy: np.ndarray) -> Snap:
    """Snap points given in metres in UTM 51N ((n, 2) ``xy``) to their nearest node; the
    distance is rounded to :data:`SNAP_DECIMALS`. Of equally near nodes the KD-tree's choice
    is kept (deterministic)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 0:
        return Snap(node=np.zeros(0, dtype=np.int64), distance_m=np.zeros(0))
    distance, node = network.tree.query(xy, k=1)
    return Snap(node=np.asarray(node, dtype=np.int64),
                distance_m=np.round(np.asarray(distance, dtype=float), SNAP_DECIMALS))


def snap_points(network: WalkingNetwork, lon: np.ndarray, lat: np.ndarray) -> Snap:
    """Snap WGS-84 points (``lon``/``lat``, degrees) to their nearest node, measured in metres
    in UTM 51N (see :func:`snap_xy`)."""
    return snap_xy(network, to_metric(lon, lat))


def _multi_source(network: WalkingNetwork, nodes: np.ndarray,
                  offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shortest distance (metres) from any source to every node, and which source.

    Source ``i`` starts at node ``nodes[i]`` with distance ``offsets[i]`` already walked.
    Returns (distance, source position); inf and -1 for nodes no source reaches.
    """
    n, k = network.n_nodes, len(nodes)
    row, col, data = network._arcs
    # One virtual node a source, joined to its snap node by an edge of its snap distance.
    graph = sp.csr_array((np.concatenate([data, offsets]),
                          (np.concatenate([row, n + np.arange(k)]), np.concatenate([col, nodes]))),
                         shape=(n + k, n + k))
    distance, _, reached_by = dijkstra(graph, directed=True, indices=n + np.arange(k),
                                       min_only=True, return_predecessors=True)
    distance = distance[:n]
    rank = np.where(reached_by[:n] >= 0, reached_by[:n] - n, -1)
    return distance, _first_of_ties(network, distance, rank, nodes, offsets)


def _first_of_ties(network: WalkingNetwork, distance: np.ndarray, rank: np.ndarray,
                   nodes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``rank`` lowered, where sources tie, to the lowest source position at that distance.

    A source reaches a node at its shortest distance exactly when a chain of tight edges
    (``distance[a] + length == distance[b]``) leads there; the lowest position is pushed along
    those chains until nothing changes.
    """
    rank = rank.copy()
    tight_source = offsets == distance[nodes]
    np.minimum.at(rank, nodes[tight_source], np.flatnonzero(tight_source))
    row, col, data = network._arcs
    tight = np.isfinite(distance[row]) & (distance[row] + data == distance[col])
    if not tight.any():
        return rank
    chains = sp.csr_array((np.ones(int(tight.sum()), dtype=np.int8), (row[tight], col[tight])),
                          shape=(len(rank), len(rank)))
    frontier = np.unique(row[tight])
    while frontier.size:
        out = chains[frontier]
        start = np.repeat(rank[frontier], np.diff(out.indptr))
        lower = start < rank[out.indices]
        if not lower.any():
            break
        np.minimum.at(rank, out.indices[lower], start[lower])
        frontier = np.unique(out.indices[lower])
    return rank


def nearest_on_network(network: WalkingNetwork, cells: Snap,
                       facility_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walking distance from each cell centre to its nearest facility, as arrays.

    The array form of :func:`network_nearest`; it returns what
    :func:`geo.engine.incremental.nearest_in_blocks` returns for the straight line.

    Parameters
    ----------
    network
        The walking network (metric CRS).
    cells
        The cell centres snapped to the network: ``snap_xy(network, cell_xy)`` with ``cell_xy``
        in metres, UTM 51N; compute it once and reuse it across categories.
    facility_xy
        (k, 2) facility points in metres, UTM 51N; all of them count.

    Returns
    -------
    (distance, position): metres (facility snap + shortest path + cell snap; inf when no
    facility is reachable from the cell's node) and the position in ``facility_xy`` of the
    nearest facility (-1 when none is reachable). A tie, to the float, goes to the lower
    position.
    """
    facility_xy = np.asarray(facility_xy, dtype=float).reshape(-1, 2)
    n = len(cells.node)
    if len(facility_xy) == 0 or n == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    at = snap_xy(network, facility_xy)
    node_distance, node_rank = _multi_source(network, at.node, at.distance_m)
    distance = node_distance[cells.node] + cells.distance_m
    position = np.where(np.isfinite(distance), node_rank[cells.node], -1)
    return distance, position.astype(np.int64)


def network_nearest(cells: pd.DataFrame, facilities: pd.DataFrame, network: WalkingNetwork, *,
                    cell_snap: Snap | None = None) -> pd.DataFrame:
    """The nearest of ``facilities`` to each cell centre, walking along ``network``.

    The same shape as :func:`geo.engine.coverage.nearest_facility`, with the walking distance
    instead of the straight line.

    Parameters
    ----------
    cells
        ``lon``/``lat`` of cell centres, WGS-84 degrees.
    facilities
        ``lon``/``lat`` (WGS-84 degrees), ``id`` and ``name``; all of them count.
    network
        The walking network (metric CRS).
    cell_snap
        The cells already snapped with :func:`snap_points` (same order as ``cells``), to reuse
        across categories; snapped here when None.

    Returns
    -------
    DataFrame on the cells' index: ``distance_m`` (metres: facility snap + shortest path + cell
    snap; inf when no facility is reachable from the cell's node, e.g. on another component),
    ``nearest_id`` and ``nearest_name`` (missing when none is reachable: None, or NaN in
    pandas' ``str`` columns, exactly as there). A tie, to the float, goes to the facility listed
    first.
    """
    if len(facilities) == 0 or len(cells) == 0:  # nothing to snap
        none = np.full(len(cells), -1, dtype=np.int64)
        return nearest_frame(cells.index, facilities, np.full(len(cells), np.inf), none)
    if cell_snap is None:
        cell_snap = snap_points(network, cells["lon"], cells["lat"])
    distance, position = nearest_on_network(network, cell_snap,
                                            to_metric(facilities["lon"], facilities["lat"]))
    return nearest_frame(cells.index, facilities, distance, position)
