"""Walks along a network, from one attachment point to another (see :mod:`geo.engine.network`).

The walk from a facility to a cell centre is the facility's attachment distance, plus the
shortest walk along the network between the two attachment points (along the partial edges and
through nodes, or directly along the edge when both attach to the same one and that is
shorter), plus the cell's attachment distance, in metres. One multi-source shortest-path run
(scipy's csgraph Dijkstra) per category finds every cell's nearest facility; a search bounded
by a radius finds what one facility reaches.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from geo.engine.nearest import nearest_frame
from geo.engine.network import Snap, WalkingNetwork, snap_points, snap_xy, to_metric

__all__ = [
    "cells_by_edge",
    "cells_reached",
    "first_of_ties",
    "nearest_on_network",
    "network_nearest",
    "node_distances",
    "seeded_distances",
    "source_arcs",
    "walk_to_cells",
    "walks_within",
]


def source_arcs(network: WalkingNetwork, sources: Snap,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From each reachable source to both ends of its edge: (source position, node, metres
    walked on arrival)."""
    position = np.flatnonzero(sources.reachable)
    edge = sources.edge[position]
    offset = sources.distance_m[position]
    src = np.concatenate([position, position])
    node = np.concatenate([network.edge_u[edge], network.edge_v[edge]])
    walked = np.concatenate([offset + sources.to_u[position], offset + sources.to_v[position]])
    return src, node, walked


def _shortest_seeds(src: np.ndarray, node: np.ndarray, walked: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of seeds from one source to one node, the shortest."""
    order = np.lexsort([walked, node, src])
    src, node, walked = src[order], node[order], walked[order]
    first = np.r_[True, (src[1:] != src[:-1]) | (node[1:] != node[:-1])][:len(src)]
    return src[first], node[first], walked[first]


def node_distances(network: WalkingNetwork, sources: Snap, *, limit: float = np.inf
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The shortest walk (metres) from any source's point to every node, and which source.

    A source's walk starts with its attachment distance and goes along its edge to either end.
    Returns (distance, source position): inf and -1 for nodes no source reaches (or only
    farther than ``limit`` metres). Of sources tying at a node, to the float, the lowest
    position.
    """
    src, node, walked = source_arcs(network, sources)
    return seeded_distances(network.arcs, network.n_nodes, src, node, walked, limit=limit,
                            indptr=network.adjacency.indptr)


def seeded_distances(arcs: tuple[np.ndarray, np.ndarray, np.ndarray], n: int,
                     src: np.ndarray, node: np.ndarray, walked: np.ndarray, *,
                     limit: float = np.inf, indptr: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Shortest walks over ``n`` nodes joined by ``arcs`` (from, to, metres; both directions
    listed, sorted by ``from``; ``indptr``: where each node's arcs start, when known) from
    seeds: seed ``i`` arrives at ``node[i]`` having walked ``walked[i]`` metres on behalf of
    source ``src[i]``. Returns (distance, source) per node, inf and -1 where no seed reaches
    within ``limit``; ties to the lowest source."""
    if len(src) == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    src, node, walked = _shortest_seeds(src, node, walked)
    virtual, src_of = np.unique(src, return_inverse=True)
    k = len(virtual)
    row, col, data = arcs
    if indptr is None:
        indptr = np.searchsorted(row, np.arange(n + 1))
    # one virtual node a source, after the nodes: the arcs' CSR rows, then the seeds' (sorted
    # by source), with no sorting of the arcs
    seeds_end = len(row) + np.searchsorted(src_of, np.arange(k), side="right")
    graph = sp.csr_array((np.concatenate([data, walked]), np.concatenate([col, node]),
                          np.concatenate([indptr, seeds_end])), shape=(n + k, n + k))
    distance, _, reached_by = dijkstra(graph, directed=True, indices=n + np.arange(k),
                                       min_only=True, return_predecessors=True, limit=limit)
    distance = distance[:n]
    rank = np.where(reached_by[:n] >= 0, virtual[np.maximum(reached_by[:n] - n, 0)], -1)
    return distance, first_of_ties(arcs, distance, rank, src, node, walked)


def first_of_ties(arcs: tuple[np.ndarray, np.ndarray, np.ndarray], distance: np.ndarray,
                  rank: np.ndarray, src: np.ndarray, node: np.ndarray,
                  walked: np.ndarray) -> np.ndarray:
    """``rank`` lowered, where sources tie, to the lowest source position at that distance.

    A source reaches a node at its shortest distance exactly when a chain of tight arcs
    (``distance[a] + length == distance[b]``) leads there from one of its own arcs; the lowest
    position is pushed along those chains until nothing changes.
    """
    rank = rank.copy()
    tight_source = walked == distance[node]
    np.minimum.at(rank, node[tight_source], src[tight_source])
    row, col, data = arcs
    tight = np.isfinite(distance[row]) & (distance[row] + data == distance[col])
    tails, heads = row[tight], col[tight]
    start = rank[tails]
    lower = start < rank[heads]  # the first push, along every tight arc at once
    if not lower.any():
        return rank
    np.minimum.at(rank, heads[lower], start[lower])
    chains = sp.csr_array((np.ones(len(tails), dtype=np.int8), (tails, heads)),
                          shape=(len(rank), len(rank)))
    frontier = np.unique(heads[lower])
    while frontier.size:
        out = chains[frontier]
        start = np.repeat(rank[frontier], np.diff(out.indptr))
        lower = start < rank[out.indices]
        if not lower.any():
            break
        np.minimum.at(rank, out.indices[lower], start[lower])
        frontier = np.unique(out.indices[lower])
    return rank


def walk_to_cells(network: WalkingNetwork, cells: Snap, sources: Snap,
                  node_distance: np.ndarray, node_rank: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's walk to its nearest source, from :func:`node_distances` of ``sources``.

    Returns (distance in metres, source position): through either end of the cell's edge, or
    directly along it from a source on the same edge; plus the cell's attachment distance. inf
    and -1 where no source is reached (or the cell is unreachable). Ties, to the float, go to
    the lowest position.
    """
    n = len(cells.edge)
    best, which = np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    on = np.flatnonzero(cells.reachable)
    edge = cells.edge[on]
    for end, along in ((network.edge_u, cells.to_u), (network.edge_v, cells.to_v)):
        candidate = node_distance[end[edge]] + along[on]
        rank = node_rank[end[edge]]
        better = (candidate < best[on]) | ((candidate == best[on]) & (rank >= 0)
                                            & ((which[on] < 0) | (rank < which[on])))
        best[on[better]], which[on[better]] = candidate[better], rank[better]
    _same_edge(cells, sources, on, best, which)
    distance = np.where(which >= 0, best + cells.distance_m, np.inf)
    return distance, np.where(np.isfinite(distance), which, -1)


def _same_edge(cells: Snap, sources: Snap, on: np.ndarray, best: np.ndarray,
               which: np.ndarray) -> None:
    """Lower ``best``/``which`` (in place) where a source on a cell's own edge is nearer
    directly along the edge."""
    placed = np.flatnonzero(sources.reachable)
    shared = on[np.isin(cells.edge[on], sources.edge[placed])]
    if len(shared) == 0:
        return
    pairs = pd.DataFrame({"edge": cells.edge[shared], "cell": shared}).merge(
        pd.DataFrame({"edge": sources.edge[placed], "source": placed}), on="edge")
    cell, source = pairs["cell"].to_numpy(), pairs["source"].to_numpy()
    direct = sources.distance_m[source] + np.abs(sources.to_u[source] - cells.to_u[cell])
    order = np.lexsort([source, direct, cell])
    first = order[np.r_[True, cell[order][1:] != cell[order][:-1]]]
    cell, source, direct = cell[first], source[first], direct[first]
    better = (direct < best[cell]) | ((direct == best[cell]) & ((which[cell] < 0)
                                                                  | (source < which[cell])))
    best[cell[better]], which[cell[better]] = direct[better], source[better]


def cells_by_edge(network: WalkingNetwork, cells: Snap) -> sp.csr_array:
    """(edges, cells) incidence: row ``e`` lists the cells attached to edge ``e``."""
    on = np.flatnonzero(cells.reachable)
    edges = len(network.edge_u)
    return sp.csr_array((np.ones(len(on), dtype=np.int8), (cells.edge[on], on)),
                        shape=(edges, len(cells.edge)))


def cells_reached(network: WalkingNetwork, by_edge: sp.csr_array, nodes: np.ndarray,
                  edges: np.ndarray) -> np.ndarray:
    """The cells attached to an edge with an end among ``nodes``, or to one of ``edges``
    (positions, ascending): those a walk that reaches only these nodes and edges can reach."""
    touched = np.isin(network.edge_u, nodes) | np.isin(network.edge_v, nodes)
    touched[np.asarray(edges, dtype=np.int64)[np.asarray(edges) >= 0]] = True
    return np.unique(by_edge[np.flatnonzero(touched)].indices)


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
        The cell centres attached to the network: ``snap_xy(network, cell_xy)`` with
        ``cell_xy`` in metres, UTM 51N; compute it once and reuse it across categories.
    facility_xy
        (k, 2) facility points in metres, UTM 51N; all of them count (those farther than the
        network's ``max_snap_m`` from every edge reach no one).

    Returns
    -------
    (distance, position): metres (see the module) or inf when no facility is reachable, and
    the position in ``facility_xy`` of the nearest facility (-1 when none). A tie, to the
    float, goes to the lower position.
    """
    facility_xy = np.asarray(facility_xy, dtype=float).reshape(-1, 2)
    n = len(cells.edge)
    if len(facility_xy) == 0 or n == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    sources = snap_xy(network, facility_xy)
    node_distance, node_rank = node_distances(network, sources)
    return walk_to_cells(network, cells, sources, node_distance, node_rank)


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
        The cells already attached with :func:`~geo.engine.network.snap_points` (same order as
        ``cells``), to reuse across categories; attached here when None.

    Returns
    -------
    DataFrame on the cells' index: ``distance_m`` (metres, see the module; inf when no
    facility is reachable, e.g. on another component or beyond ``max_snap_m``), ``nearest_id``
    and ``nearest_name`` (missing when none is reachable). A tie, to the float, goes to the
    facility listed first.
    """
    if len(facilities) == 0 or len(cells) == 0:  # nothing to attach
        none = np.full(len(cells), -1, dtype=np.int64)
        return nearest_frame(cells.index, facilities, np.full(len(cells), np.inf), none)
    if cell_snap is None:
        cell_snap = snap_points(network, cells["lon"], cells["lat"])
    distance, position = nearest_on_network(network, cell_snap,
                                            to_metric(facilities["lon"], facilities["lat"]))
    return nearest_frame(cells.index, facilities, distance, position)


def walks_within(network: WalkingNetwork, sources: Snap, targets: Snap, *,
                 radius_m: float) -> sp.csr_array:
    """Which ``targets`` each of ``sources`` reaches on foot within ``radius_m`` metres: a
    boolean (sources, targets) matrix (attachment distances included, see the module)."""
    shape = (len(sources.edge), len(targets.edge))
    on = np.flatnonzero(sources.reachable)
    if 0 in shape or len(on) == 0:
        return sp.csr_array(shape, dtype=bool)
    n = network.n_nodes
    by_edge = cells_by_edge(network, targets)
    chunk = max(1, int(1e7 // max(n, 1)) // 2)  # two rows of n walks a source: ~80 MB
    rows, cols = [], []
    for start in range(0, len(on), chunk):
        part = on[start:start + chunk]
        edge = sources.edge[part]
        ends = np.concatenate([network.edge_u[edge], network.edge_v[edge]])
        walked = dijkstra(network.adjacency, directed=True, indices=ends, limit=radius_m)
        for i, s in enumerate(part):
            one = sources.take(np.array([s]))
            node_distance = np.minimum(walked[i] + sources.to_u[s],
                                       walked[len(part) + i] + sources.to_v[s])
            node_distance = node_distance + sources.distance_m[s]
            near = node_distance <= radius_m
            node_distance = np.where(near, node_distance, np.inf)
            touched = near[network.edge_u] | near[network.edge_v]
            touched[sources.edge[s]] = True
            candidates = np.unique(by_edge[np.flatnonzero(touched)].indices)
            distance, _ = walk_to_cells(network, targets.take(candidates), one,
                                        node_distance, np.where(near, 0, -1))
            hit = candidates[distance <= radius_m]
            rows.append(np.full(len(hit), s))
            cols.append(hit)
    row, col = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_array((np.ones(len(row), dtype=bool), (row, col)), shape=shape)
