"""A walking network and how points attach to it.

A point (a cell centre or a facility) attaches to the nearest point on any edge: the straight
line in the metric CRS (UTM 51N) to the edge's own polyline, or to the segment between its nodes
when it has none. A point farther than the network's ``max_snap_m`` from every edge is
unreachable. Walks along the network (from attachment point to attachment point) are in
:mod:`geo.engine.walk`; reading network files is in :mod:`geo.data.network_io`. Pure
computation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache, cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from scipy.spatial import cKDTree

from geo.model.config import METRIC_CRS, STORAGE_CRS
from geo.model.errors import InputError, raise_if_problems

__all__ = [
    "DEFAULT_MAX_SNAP_M",
    "SNAP_DECIMALS",
    "Segments",
    "Snap",
    "WalkingNetwork",
    "build_network",
    "snap_points",
    "snap_xy",
    "to_metric",
]


#: Snap distances and positions along edges are rounded to this many decimals of a metre (a
#: micrometre): below what the coordinates can tell, and it lets equally far facilities tie.
SNAP_DECIMALS = 6
#: A point farther than this from every edge (metres) is unreachable, by default.
DEFAULT_MAX_SNAP_M = 250.0
#: Pieces are probed every this many metres at most: a point's nearest piece is among the
#: pieces of its nearest probes once the farthest of those is over half this farther than it.
PROBE_M = 20.0
#: Probes asked for first (then four times as many, until that holds).
PROBES_NEAR = 16
#: Points attached at once (bounds the memory of the candidate pairs).
SNAP_CHUNK = 131_072


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
class Segments:
    """The straight pieces of every edge's line, metres in UTM 51N: piece ``i`` runs from
    ``a[i]`` to ``b[i]`` on edge ``edge[i]``, starting ``start[i]`` metres along the edge's line
    (measured from its ``u`` node); ``line_length``: each edge's line length."""

    a: np.ndarray
    b: np.ndarray
    edge: np.ndarray
    start: np.ndarray
    line_length: np.ndarray

    @cached_property
    def probes(self) -> tuple[cKDTree, np.ndarray]:
        """KD-tree of points along the pieces, at most :data:`PROBE_M` apart (the middles of
        equal parts of each piece), and the piece of each."""
        length = np.hypot(*(self.b - self.a).T)
        parts = np.maximum(1, np.ceil(length / PROBE_M)).astype(np.int64)
        owner = np.repeat(np.arange(len(parts)), parts)
        step = np.arange(len(owner)) - np.repeat(np.cumsum(parts) - parts, parts)
        share = ((step + 0.5) / parts[owner])[:, None]
        return cKDTree(self.a[owner] + share * (self.b - self.a)[owner]), owner


@dataclass(frozen=True, eq=False)
class WalkingNetwork:
    """An undirected walking network in the metric CRS.

    Attributes
    ----------
    node_ids
        (n,) the nodes' ids as the source file names them.
    xy
        (n, 2) node coordinates, metres in UTM 51N (EPSG:32651).
    edge_u, edge_v
        (e,) each edge's end nodes (positions in ``node_ids``); walkable both ways.
    edge_length
        (e,) each edge's length in metres (its ``length`` attribute, else its line's length).
    segments
        The edges' lines cut into straight pieces, for attaching points.
    max_snap_m
        A point farther than this from every edge (metres) is unreachable.
    """

    node_ids: np.ndarray
    xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    segments: Segments
    max_snap_m: float = DEFAULT_MAX_SNAP_M

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges between two different nodes, parallel ones counted once."""
        return self.adjacency.nnz // 2

    def with_max_snap(self, metres: float) -> WalkingNetwork:
        """The same network with another ``max_snap_m`` (metres, > 0).

        Raises
        ------
        InputError
            When ``metres`` is not a positive number.
        """
        if (isinstance(metres, bool) or not isinstance(metres, int | float | np.number)
                or not np.isfinite(metres) or metres <= 0):
            raise InputError(f"--max-snap must be a positive number of metres, got {metres!r}")
        return replace(self, max_snap_m=float(metres))

    @cached_property
    def adjacency(self) -> sp.csr_array:
        """(n, n) symmetric CSR matrix of edge lengths in metres, one entry per pair of
        connected nodes (the shortest of parallel edges; self-loops left out)."""
        keep = self.edge_u != self.edge_v
        return _symmetric_lengths(self.edge_u[keep], self.edge_v[keep], self.edge_length[keep],
                                  self.n_nodes)

    @cached_property
    def arcs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Both directions of every edge of :attr:`adjacency`: (from, to, length in metres),
        sorted by ``from``."""
        coo = self.adjacency.tocoo()
        order = np.lexsort([coo.col, coo.row])
        return (coo.row[order].astype(np.int64), coo.col[order].astype(np.int64),
                coo.data[order])


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


def _edge_name(edges: pd.DataFrame, row: int) -> str:
    return f"edge {edges['u'].iloc[row]!r}–{edges['v'].iloc[row]!r}"


def _edge_problems(edges: pd.DataFrame, u: np.ndarray, v: np.ndarray,
                   length: np.ndarray) -> list[str]:
    problems = []
    for end, positions in (("u", u), ("v", v)):
        for row in np.flatnonzero(positions < 0):
            problems.append(f"{_edge_name(edges, row)}: unknown node {edges[end].iloc[row]!r}")
    if "length" in edges:
        given = edges["length"].to_numpy(dtype=object)
        missing = pd.isna(edges["length"]).to_numpy()
        bad = ~missing & ~(np.isfinite(length) & (length >= 0))
        problems += [f"{_edge_name(edges, r)}: length {_shown(given[r])} is not a number of "
                     "metres ≥ 0" for r in np.flatnonzero(bad)]
    if "geometry" in edges:
        shapes = edges["geometry"].to_numpy(dtype=object)
        for row in np.flatnonzero(pd.notna(edges["geometry"]).to_numpy()):
            shape = shapes[row]
            kind = getattr(shape, "geom_type", type(shape).__name__)
            if kind not in ("LineString", "MultiLineString"):
                problems.append(f"{_edge_name(edges, row)}: geometry is a {kind}, not a line")
    return problems


def build_network(nodes: pd.DataFrame, edges: pd.DataFrame, *, crs: str = METRIC_CRS,
                  source: str = "walking network",
                  max_snap_m: float = DEFAULT_MAX_SNAP_M) -> WalkingNetwork:
    """A :class:`WalkingNetwork` from a frame of nodes and a frame of edges.

    Parameters
    ----------
    nodes
        ``id``, ``x``, ``y``: node coordinates in ``crs``.
    edges
        ``u``, ``v``: node ids; walking goes both ways. Optional ``geometry``: the edge's line
        (shapely, in ``crs``; None for the straight segment between its nodes), in either
        direction. Optional ``length`` in metres; where it is missing the edge measures its
        line in UTM 51N. Parallel edges and self-loops are kept for attaching points; walks
        take the shortest of parallel edges.
    crs
        CRS of the node coordinates and lines (default UTM 51N metres; EPSG:4326 for lon/lat).
    source
        What the frames were read from; starts every error message.
    max_snap_m
        A point farther than this from every edge (metres) is unreachable.

    Raises
    ------
    InputError
        Listing every problem: no nodes or edges, missing columns, coordinates or lengths that
        are not numbers, lines that are not lines, unknown or duplicated node ids, an unknown
        CRS.
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
    lines = (_metric_lines(edges["geometry"].to_numpy(dtype=object), crs=crs)
             if "geometry" in edges else np.full(len(edges), None, dtype=object))
    segments = _segments(xy, u, v, lines)
    length = np.where(np.isnan(length), segments.line_length, length)
    return WalkingNetwork(node_ids=index.to_numpy(), xy=xy, edge_u=u, edge_v=v,
                          edge_length=length, segments=segments, max_snap_m=float(max_snap_m))


def _metric_lines(shapes: np.ndarray, *, crs: str) -> np.ndarray:
    """The edges' lines in UTM 51N (None where an edge has none)."""
    shapes = np.where(pd.isna(shapes), None, shapes)
    has = np.array([s is not None and not s.is_empty for s in shapes], dtype=bool)
    out = np.full(len(shapes), None, dtype=object)
    if has.any():
        lines = shapely.transform(shapes[has],
                                  lambda coords: to_metric(coords[:, 0], coords[:, 1], crs=crs))
        lines = shapely.line_merge(lines)
        parted = shapely.get_type_id(lines) != shapely.GeometryType.LINESTRING
        if parted.any():  # parts that do not join: one line through their points in order
            coords, owner = shapely.get_coordinates(lines[parted], return_index=True)
            lines[parted] = shapely.linestrings(coords, indices=owner)
        out[has] = lines
    return out


def _segments(xy: np.ndarray, u: np.ndarray, v: np.ndarray, lines: np.ndarray) -> Segments:
    """Every edge's line (its own, turned to run from ``u`` to ``v``, else the straight segment
    between its nodes) cut into straight pieces."""
    has = np.flatnonzero(pd.notna(lines))
    own = lines[has]
    if len(has):
        start = shapely.get_coordinates(shapely.get_point(own, 0))
        end = shapely.get_coordinates(shapely.get_point(own, -1))
        same = np.hypot(*(start - xy[u[has]]).T) + np.hypot(*(end - xy[v[has]]).T)
        turned = np.hypot(*(start - xy[v[has]]).T) + np.hypot(*(end - xy[u[has]]).T)
        own = np.where(turned < same, shapely.reverse(own), own)
    coords, owner = shapely.get_coordinates(own, return_index=True)
    plain = np.setdiff1d(np.arange(len(u)), has)
    points = np.concatenate([coords, xy[u[plain]], xy[v[plain]]])
    edge = np.concatenate([has[owner], plain, plain])
    step = np.concatenate([np.arange(len(coords)), np.zeros(len(plain)), np.ones(len(plain))])
    order = np.lexsort([step, edge])  # a line's points in order, edge after edge
    points, edge = points[order], edge[order]
    piece = np.flatnonzero(edge[1:] == edge[:-1])
    a, b, edge = points[piece], points[piece + 1], edge[piece]
    piece_length = np.hypot(*(b - a).T)
    before = np.concatenate([[0.0], np.cumsum(piece_length)])
    first = np.searchsorted(edge, edge, side="left")
    return Segments(a=a, b=b, edge=edge, start=before[:-1] - before[first],
                    line_length=np.bincount(edge, weights=piece_length, minlength=len(u)))


@dataclass(frozen=True)
class Snap:
    """Points attached to a network: the ``edge`` each attaches to (-1: farther than the
    network's ``max_snap_m`` from every edge, unreachable), the walk in metres from the
    attachment point along the edge to its ``u`` node (``to_u``) and to its ``v`` node
    (``to_v``), and the straight line from the point to the attachment point (``distance_m``,
    inf when unreachable)."""

    edge: np.ndarray
    to_u: np.ndarray
    to_v: np.ndarray
    distance_m: np.ndarray

    @property
    def reachable(self) -> np.ndarray:
        """Which points attach to an edge."""
        return self.edge >= 0

    def take(self, positions: np.ndarray) -> Snap:
        """The attachments of the points at ``positions``."""
        return Snap(edge=self.edge[positions], to_u=self.to_u[positions],
                    to_v=self.to_v[positions], distance_m=self.distance_m[positions])


def snap_xy(network: WalkingNetwork, xy: np.ndarray) -> Snap:
    """Attach points given in metres in UTM 51N ((n, 2) ``xy``) to their nearest edge.

    The attachment point is the nearest point of the edge's line; of equally near edges the one
    listed first is taken. Distances are rounded to :data:`SNAP_DECIMALS`; a point farther than
    ``network.max_snap_m`` from every edge is unreachable (edge -1, distance inf).
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    pieces = network.segments
    piece, distance, along = np.full(n, -1, dtype=np.int64), np.full(n, np.inf), np.zeros(n)
    if len(pieces.a):
        for start in range(0, n, SNAP_CHUNK):
            part = slice(start, start + SNAP_CHUNK)
            piece[part], distance[part], along[part] = _nearest_pieces(
                pieces, xy[part], reach=network.max_snap_m)
    chosen = np.flatnonzero(piece >= 0)
    at = piece[chosen]
    edge = np.full(n, -1, dtype=np.int64)
    edge[chosen] = pieces.edge[at]
    line = pieces.line_length[edge[chosen]]
    share = np.where(line > 0, (pieces.start[at] + along[chosen]) / np.where(line > 0, line, 1),
                     0.0).clip(0.0, 1.0)
    length = network.edge_length[edge[chosen]]
    to_u, to_v = np.full(n, np.nan), np.full(n, np.nan)
    to_u[chosen] = np.round(share * length, SNAP_DECIMALS)
    to_v[chosen] = np.round(length - share * length, SNAP_DECIMALS)
    return Snap(edge=edge, to_u=to_u, to_v=to_v, distance_m=distance)


def _nearest_pieces(pieces: Segments, xy: np.ndarray, *, reach: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each point's nearest piece (-1 when none is within ``reach`` metres), the distance to
    it (rounded to :data:`SNAP_DECIMALS`; ties to the first listed) and how far along it the
    nearest point lies.

    Exact: the pieces of a point's nearest probes are compared, and more probes are asked for
    until the farthest of them is over half :data:`PROBE_M` farther than the nearest piece
    found (every other piece is then farther: each of its points lies within half ``PROBE_M``
    of one of its probes), or the nearest probe is too far for any piece to be in reach.
    """
    tree, owner = pieces.probes
    n, total, half = len(xy), len(owner), PROBE_M / 2
    piece, distance, along = np.full(n, -1, dtype=np.int64), np.full(n, np.inf), np.zeros(n)
    todo, k = np.arange(n), min(PROBES_NEAR, total)
    while len(todo):
        near, index = tree.query(xy[todo], k=k)
        near, candidate = near.reshape(len(todo), k), owner[index.reshape(len(todo), k)]
        walked, gap = _project(np.repeat(xy[todo], k, axis=0), pieces.a[candidate.ravel()],
                               pieces.b[candidate.ravel()])
        walked, gap = walked.reshape(-1, k), np.round(gap, SNAP_DECIMALS).reshape(-1, k)
        low = gap.min(axis=1)
        column = np.where(gap == low[:, None], candidate, np.iinfo(np.int64).max).argmin(axis=1)
        out_of_reach = near[:, 0] - half > reach
        sure = (k >= total) | (near[:, -1] - half > low + 1e-6) | out_of_reach
        found = np.flatnonzero(sure & ~out_of_reach & (low <= reach))
        rows = todo[found]
        piece[rows] = candidate[found, column[found]]
        distance[rows] = low[found]
        along[rows] = walked[found, column[found]]
        todo, k = todo[~sure], min(4 * k, total)
    return piece, distance, along


def _project(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For points ``p`` and segments ``a``–``b`` (metres): how far along each segment the
    nearest point lies, and how far ``p`` is from it."""
    d = b - a
    squared = (d * d).sum(axis=1)
    t = np.where(squared > 0, ((p - a) * d).sum(axis=1) / np.where(squared > 0, squared, 1.0),
                 0.0).clip(0.0, 1.0)
    nearest = a + t[:, None] * d
    return t * np.sqrt(squared), np.hypot(*(p - nearest).T)


def snap_points(network: WalkingNetwork, lon: np.ndarray, lat: np.ndarray) -> Snap:
    """Attach WGS-84 points (``lon``/``lat``, degrees) to their nearest edge, measured in
    metres in UTM 51N (see :func:`snap_xy`)."""
    return snap_xy(network, to_metric(lon, lat))
