"""Edits of one facility at a time along a walking network: adding, moving or closing one
facility searches the network only within the radius of the edited point and updates only the
cells it can reach, so the covered cells and the per-street numbers stay exact (tested equal to
a full recomputation).

Every node keeps its walk to the nearest open facility. After an edit the nodes whose walk can
change within the radius (those the edited point reaches within it) are walked again, seeded
from the nodes around them and the facilities on their edges; a node's walk is then exact
whenever it is within the radius, and beyond it otherwise, which is all the covered flags need.
Walks beyond the radius (shown for gaps) are brought up to date by :meth:`nearest`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from geo.engine.hexgrid import Grid
from geo.engine.incremental import SLACK_M, CategoryState, grid_snap
from geo.engine.network import Snap, WalkingNetwork, snap_xy
from geo.engine.walk import (
    cells_by_edge,
    node_distances,
    seeded_distances,
    source_arcs,
    walk_to_cells,
)

__all__ = ["WalkCategoryState", "category_state"]


def category_state(grid: Grid, *, weight: np.ndarray, ids: Sequence[str], lon: np.ndarray,
                   lat: np.ndarray, radius_m: float, network: WalkingNetwork | None = None,
                   detour: float = 1.0) -> CategoryState:
    """The edit state of one category: walking along ``network`` when one is given, else by
    straight lines times ``detour`` (see :class:`~geo.engine.incremental.CategoryState`)."""
    if network is None:
        return CategoryState(grid, weight=weight, ids=ids, lon=lon, lat=lat, radius_m=radius_m,
                             detour=detour)
    return WalkCategoryState(grid, network, weight=weight, ids=ids, lon=lon, lat=lat,
                             radius_m=radius_m)


def _joined(first: Snap, second: Snap) -> Snap:
    return Snap(*(np.concatenate([getattr(first, f), getattr(second, f)])
                  for f in ("edge", "to_u", "to_v", "distance_m")))


class WalkCategoryState(CategoryState):
    """:class:`~geo.engine.incremental.CategoryState` walking along ``network`` (metres, see
    :mod:`geo.engine.walk`)."""

    def __init__(self, grid: Grid, network: WalkingNetwork, *, weight: np.ndarray,
                 ids: Sequence[str], lon: np.ndarray, lat: np.ndarray,
                 radius_m: float) -> None:
        self.network = network
        self.cell_snap = grid_snap(network, grid)
        self.by_edge = cells_by_edge(network, self.cell_snap)
        edges = len(network.edge_u)
        ends = np.concatenate([network.edge_u, network.edge_v])
        self.node_edges = sp.csr_array(
            (np.ones(2 * edges, dtype=np.int8), (ends, np.tile(np.arange(edges), 2))),
            shape=(network.n_nodes, edges))
        super().__init__(grid, weight=weight, ids=ids, lon=lon, lat=lat, radius_m=radius_m)

    # -- the walks ------------------------------------------------------------------------

    def _sources(self) -> Snap:
        """The facilities' attachments, closed ones unreachable."""
        s = self._snaps
        return Snap(edge=np.where(self.active, s.edge, -1), to_u=s.to_u, to_v=s.to_v,
                    distance_m=s.distance_m)

    def _all_nearest(self) -> tuple[np.ndarray, np.ndarray]:
        self._snaps = snap_xy(self.network, self.xy)
        sources = self._sources()
        self.node_distance, self.node_rank = node_distances(self.network, sources)
        return walk_to_cells(self.network, self.cell_snap, sources, self.node_distance,
                             self.node_rank)

    def _reach(self, at: Snap) -> np.ndarray:
        """The nodes a walk from the single attachment ``at`` reaches within the radius."""
        e = at.edge[0]
        ends = [self.network.edge_u[e], self.network.edge_v[e]]
        start = at.distance_m[0] + np.array([at.to_u[0], at.to_v[0]])
        reach = self.radius_m + SLACK_M
        walked = dijkstra(self.network.adjacency, directed=True, indices=ends,
                          limit=reach) + start[:, None]
        return np.flatnonzero(walked.min(axis=0) <= reach)

    def _place(self, facility_id: str, point: np.ndarray) -> None:
        self._new_slot(facility_id, point)
        at = snap_xy(self.network, point[None, :])
        self._snaps = _joined(self._snaps, at)
        if at.reachable[0]:
            self._walk_again(self._reach(at), edges=at.edge)

    def _remove(self, slot: int) -> None:
        self.active[slot] = False
        self._tree = None
        self._stale = True
        edge = self._snaps.edge[slot]
        if edge < 0:
            return
        region = np.flatnonzero((self.node_rank == slot)
                                & (self.node_distance <= self.radius_m + SLACK_M))
        self._walk_again(region, edges=np.array([edge]))

    def _walk_again(self, region: np.ndarray, *, edges: np.ndarray) -> None:
        """Walk the ``region``'s nodes again from the nodes around them and the facilities on
        their edges; update the cells on the edges touching them and on ``edges``."""
        network = self.network
        if len(region):
            local = np.full(network.n_nodes, -1, dtype=np.int64)
            local[region] = np.arange(len(region))
            rows = network.adjacency[region]
            frm = np.repeat(np.arange(len(region)), np.diff(rows.indptr))
            to, length = rows.indices.astype(np.int64), rows.data
            inside = local[to] >= 0
            seed_from = to[~inside]
            reached = np.isfinite(self.node_distance[seed_from])
            src, node, walked = source_arcs(network, self._sources())
            touching = local[node] >= 0
            distance, rank = seeded_distances(
                (frm[inside], local[to[inside]], length[inside]), len(region),
                np.concatenate([self.node_rank[seed_from][reached], src[touching]]),
                np.concatenate([frm[~inside][reached], local[node[touching]]]),
                np.concatenate([self.node_distance[seed_from][reached]
                                + length[~inside][reached], walked[touching]]))
            self.node_distance[region], self.node_rank[region] = distance, rank
        touched = np.union1d(self.node_edges[region].indices, edges)
        cells = np.unique(self.by_edge[touched].indices)
        if len(cells) == 0:
            return
        distance, position = walk_to_cells(network, self.cell_snap.take(cells), self._sources(),
                                           self.node_distance, self.node_rank)
        self.distance[cells], self.position[cells] = distance, position
        self._set_covered(cells)

    def nearest(self) -> tuple[np.ndarray, np.ndarray]:
        """Every cell's nearest open facility along the network: the walk in metres (inf when
        none) and the slot in :attr:`ids` (-1 when none), exact after any edits."""
        if self._stale:
            self.distance, self.position = self._all_nearest()
            self._stale = False
        return self.distance, self.position
