"""The array engine: the exact nearest facility of every cell of a grid, per category (by blocks
of neighbouring cells, on parallel threads), the per-cell frame built from it, and the state of
one category that takes edits of one facility at a time, touching only the cells within the
radius of the facility's old and new positions.

Points are metres in the metric CRS (UTM 51N); distances are straight lines in metres, computed
as ``sqrt(dx² + dy²)`` like :class:`scipy.spatial.cKDTree` does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.spatial import cKDTree

from geo.engine.hexgrid import Grid, metric_xy
from geo.engine.network import Snap, WalkingNetwork, snap_xy
from geo.engine.walk import nearest_on_network
from geo.model.errors import InputError

__all__ = [
    "CategoryState",
    "GridNearest",
    "cell_coverage_frame",
    "grid_snap",
    "nearest_by_category",
    "nearest_in_blocks",
    "nearest_on_grid",
]

#: Most facilities a block of cells is compared with before its cells are queried one by one.
CANDIDATES = 16
#: Slack (metres) for the rounding of distances in the block test and the radius queries.
SLACK_M = 1e-6
#: Grids of at least this many cells compute their categories on parallel threads.
PARALLEL_CELLS = 100_000


def _query(tree: cKDTree, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    distance, position = tree.query(xy, k=1, workers=-1)
    return distance, np.where(np.isfinite(distance), position, -1).astype(np.int64)


def nearest_in_blocks(
    xy: np.ndarray,
    facility_xy: np.ndarray,
    *,
    blocks: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    candidates: int = CANDIDATES,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance (metres) and position of the nearest facility for each point, exactly.

    Parameters
    ----------
    xy
        (n, 2) points in metres (metric CRS).
    facility_xy
        (m, 2) facilities in metres (metric CRS).
    blocks
        Optional grouping of the points into runs of neighbours (see :attr:`Grid.blocks`):
        each run's first position, centre and radius in metres. When the ``t + 1``-th nearest
        facility of a block's centre is farther than the nearest one plus twice the block's
        radius, the nearest facility of each of its points is among the centre's ``t`` nearest,
        so the points are compared with those only (``t`` = 1, 2, 4, … up to ``candidates``).
        The points of other blocks are queried one by one in a KD-tree, as are all points
        without blocks.

    Returns
    -------
    ``distance`` (inf when there is no facility) and ``position`` in ``facility_xy`` (-1 when
    there is none). A tie goes to either facility.
    """
    n, m = len(xy), len(facility_xy)
    if m == 0 or n == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    tree = cKDTree(facility_xy)
    if blocks is None:
        return _query(tree, xy)
    starts, centres, radius = blocks
    counts = np.diff(np.r_[starts, n])
    most = min(candidates, m)
    if m <= candidates:
        near = np.broadcast_to(np.arange(m), (len(starts), m))
        tier = np.full(len(starts), m)
    else:
        distance, near = tree.query(centres, k=most + 1, workers=-1)
        enough = distance[:, 0] + 2 * radius + SLACK_M
        tier = np.zeros(len(starts), dtype=np.int64)  # 0: query the points one by one
        for t in sorted({min(2 ** i, most) for i in range(most.bit_length())}, reverse=True):
            tier[distance[:, t] > enough] = t
    out_distance, out_position = np.empty(n), np.empty(n, dtype=np.int64)
    fx, fy = facility_xy[:, 0], facility_xy[:, 1]
    for t in np.unique(tier):
        chosen_blocks = np.flatnonzero(tier == t)
        size = counts[chosen_blocks]
        block = np.repeat(chosen_blocks, size)
        # the positions of the chosen blocks' points: each block's run, one after the other
        chosen = np.arange(len(block)) + np.repeat(starts[chosen_blocks] - np.cumsum(size)
                                                   + size, size)
        if t == 0:
            out_distance[chosen], out_position[chosen] = _query(tree, xy[chosen])
            continue
        px, py = xy[chosen, 0], xy[chosen, 1]
        best, which = np.full(len(chosen), np.inf), np.zeros(len(chosen), dtype=np.int32)
        for j in range(t):
            dx = px - fx[near[:, j]][block]
            dy = py - fy[near[:, j]][block]
            squared = dx * dx + dy * dy
            which = np.where(squared < best, j, which)
            best = np.minimum(best, squared)
        out_distance[chosen] = np.sqrt(best)
        out_position[chosen] = near[block, which]
    return out_distance, out_position


@dataclass(frozen=True)
class GridNearest:
    """One category's nearest facility for every cell of a grid, in the grid's order
    (``position`` in ``ids``/``names``, -1 for none), and its covered cells, residents and
    60+ residents (None without them) per street."""

    distance: np.ndarray
    position: np.ndarray
    ids: np.ndarray
    names: np.ndarray
    radius_m: float
    covered_cells: np.ndarray  # per street, float
    covered_weight: np.ndarray  # per street
    covered_elderly: np.ndarray | None = None  # per street

    @classmethod
    def of(cls, grid: Grid, facilities: pd.DataFrame, *, distance: np.ndarray,
           position: np.ndarray, radius_m: float, weight: np.ndarray,
           elderly: np.ndarray | None = None) -> GridNearest:
        """From each cell's distance (metres) and position in ``facilities`` (``id``,
        ``name``) of its nearest facility, with the per-street sums for ``radius_m`` metres,
        ``weight`` residents and ``elderly`` 60+ residents a cell."""
        within = distance <= radius_m
        size = len(grid.codes)
        return cls(distance=distance, position=position,
                   ids=facilities["id"].to_numpy(dtype=object),
                   names=facilities["name"].to_numpy(dtype=object), radius_m=float(radius_m),
                   covered_cells=np.bincount(grid.street, weights=within, minlength=size),
                   covered_weight=np.bincount(grid.street, weights=weight * within,
                                              minlength=size),
                   covered_elderly=None if elderly is None else np.bincount(
                       grid.street, weights=elderly * within, minlength=size))


@lru_cache(maxsize=4)
def grid_snap(network: WalkingNetwork, grid: Grid) -> Snap:
    """The grid's cell centres attached to ``network`` (kept for the last few pairs)."""
    return snap_xy(network, grid.xy)


def nearest_on_grid(grid: Grid, facilities: pd.DataFrame, *, radius_m: float,
                    weight: np.ndarray, network: WalkingNetwork | None = None,
                    elderly: np.ndarray | None = None, detour: float = 1.0) -> GridNearest:
    """The nearest of ``facilities`` (``lon``/``lat`` in WGS-84 degrees, ``id``, ``name``; all
    of them count) to each cell of ``grid``, and per street the cells within ``radius_m``
    metres, their residents (``weight``, one value a cell) and 60+ residents (``elderly``).

    Distances are walks along ``network`` when one is given
    (:func:`geo.engine.walk.nearest_on_network`), else straight lines times ``detour``.
    """
    facility_xy = metric_xy(facilities["lon"], facilities["lat"]).reshape(-1, 2)
    if network is None:
        distance, position = nearest_in_blocks(grid.xy, facility_xy, blocks=grid.blocks)
        distance = distance * detour if detour != 1 else distance
    else:
        distance, position = nearest_on_network(network, grid_snap(network, grid), facility_xy)
    return GridNearest.of(grid, facilities, distance=distance, position=position,
                          radius_m=radius_m, weight=weight, elderly=elderly)


def nearest_by_category(grid: Grid, facilities: pd.DataFrame, *, radii: Mapping[str, float],
                        weight: np.ndarray, network: WalkingNetwork | None = None,
                        elderly: np.ndarray | None = None, detour: float = 1.0
                        ) -> dict[str, GridNearest]:
    """:func:`nearest_on_grid` of each category in ``radii`` (metres), from the ``facilities``
    of that ``category`` (all of them count), on as many threads as there are cores (the
    KD-tree, scipy's Dijkstra and numpy release the GIL). With a walking ``network`` the cells
    are attached to it once for every category."""
    categories = list(radii)
    grid.blocks  # noqa: B018  (computed once, before the threads)
    if network is not None:
        grid_snap(network, grid)

    def one(category: str) -> GridNearest:
        return nearest_on_grid(grid, facilities[facilities["category"] == category],
                               radius_m=radii[category], weight=weight, network=network,
                               elderly=elderly, detour=detour)

    threads = min(len(categories), os.cpu_count() or 1)
    if threads < 2 or len(grid) < PARALLEL_CELLS:
        return {c: one(c) for c in categories}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return dict(zip(categories, pool.map(one, categories), strict=True))


def cell_coverage_frame(index: pd.Index, nearest: dict[str, GridNearest]) -> pd.DataFrame:
    """The per-cell frame of :func:`geo.engine.coverage.cell_coverage` from per-category arrays on
    the cells of ``index`` (hex H3 ids in the grid's order)."""
    columns = ["cell", "category", "distance_m", "nearest_id", "nearest_name", "radius_m",
               "covered"]
    if not nearest:
        return pd.DataFrame(columns=columns)
    n, k = len(index), len(nearest)
    offsets = np.cumsum([0] + [len(v.ids) for v in nearest.values()])
    position = np.concatenate([np.where(v.position >= 0, v.position + offset, -1)
                               for v, offset in zip(nearest.values(), offsets, strict=False)])
    ids = pd.array(np.concatenate([v.ids for v in nearest.values()]), dtype="str")
    names = pd.array(np.concatenate([v.names for v in nearest.values()]), dtype="str")
    distance = np.concatenate([v.distance for v in nearest.values()])
    radius = np.repeat([v.radius_m for v in nearest.values()], n)
    return pd.DataFrame({
        "cell": _repeated(index.array, k),
        "category": _repeated(pd.array(list(nearest), dtype="str"), n, each=True),
        "distance_m": distance,
        "nearest_id": ids.take(position, allow_fill=True),
        "nearest_name": names.take(position, allow_fill=True),
        "radius_m": radius,
        "covered": distance <= radius,
    }, columns=columns)


def _repeated(strings: pd.api.extensions.ExtensionArray, times: int, *, each: bool = False
              ) -> pd.api.extensions.ExtensionArray:
    """``strings`` repeated ``times`` over (each element ``times`` in a row with ``each``);
    Arrow-backed strings are repeated without copying them one by one."""
    data = getattr(strings, "_pa_array", None)
    if data is None or not isinstance(strings, pd.arrays.ArrowStringArray):
        n = len(strings)
        return strings.take(np.repeat(np.arange(n), times) if each
                            else np.tile(np.arange(n), times))
    if each:
        chunks = [pa.repeat(pa.scalar(value, type=data.type), times)
                  for value in data.to_pylist()]
        data = pa.chunked_array(chunks, type=data.type)
    else:
        data = pa.chunked_array(list(data.chunks) * times, type=data.type)
    return pd.arrays.ArrowStringArray(data, dtype=strings.dtype)


class CategoryState:
    """One category on one grid, ready for edits of one facility at a time.

    Holds every cell's nearest facility (distance in metres and position), whether it is
    covered (distance ≤ ``radius_m``), and per street the cells, covered cells, residents and
    covered residents. :meth:`add`, :meth:`move` and :meth:`close` touch only the cells within
    the radius of the facility's old and new positions, so the covered cells and the per-street
    numbers stay exact. The nearest distance of an uncovered cell (shown for gaps) is brought
    up to date by :meth:`nearest`, which re-queries those cells after an edit.

    Parameters
    ----------
    grid
        The cells (see :func:`geo.engine.hexgrid.street_grid`).
    weight
        Residents of each cell in the grid's order; 1 where unknown.
    ids
        Facility ids, unique.
    lon, lat
        Facility positions, WGS-84 degrees.
    radius_m
        The category's radius in metres.
    detour
        Straight lines count this many times their length (the detour factor).
    """

    def __init__(self, grid: Grid, *, weight: np.ndarray, ids: Sequence[str], lon: np.ndarray,
                 lat: np.ndarray, radius_m: float, detour: float = 1.0) -> None:
        if len(weight) != len(grid):
            raise InputError(f"weight has {len(weight)} values for {len(grid)} cells")
        self.grid = grid
        self.radius_m = float(radius_m)
        self.detour = float(detour)
        self.weight = np.asarray(weight, dtype=float)
        self.ids = [str(i) for i in ids]
        if len(set(self.ids)) != len(self.ids):
            raise InputError("facility ids must be unique")
        self.slot = {fid: i for i, fid in enumerate(self.ids)}
        self.xy = metric_xy(lon, lat).reshape(-1, 2)
        self.active = np.ones(len(self.ids), dtype=bool)
        self._tree: cKDTree | None = None
        self.distance, self.position = self._all_nearest()
        self.covered = self.distance <= self.radius_m
        streets = len(grid.codes)
        self.cells = np.bincount(grid.street, minlength=streets)
        self.total = np.bincount(grid.street, weights=self.weight, minlength=streets)
        self.covered_cells = np.bincount(grid.street, weights=self.covered,
                                         minlength=streets).astype(np.int64)
        self.covered_weight = np.bincount(grid.street, weights=self.weight * self.covered,
                                          minlength=streets)
        self._stale = False
        grid.tree, grid.by_street  # noqa: B018  (built once per grid, before any edit)

    # -- edits ----------------------------------------------------------------------------

    def add(self, facility_id: str, lon: float, lat: float) -> pd.DataFrame:
        """A new facility at (``lon``, ``lat``) WGS-84 degrees; the per-street numbers after.

        Raises
        ------
        InputError
            When the id is already taken by a facility that is not closed.
        """
        facility_id = str(facility_id)
        if facility_id in self.slot and self.active[self.slot[facility_id]]:
            raise InputError(f"facility {facility_id!r} already exists")
        self._place(facility_id, metric_xy([lon], [lat])[0])
        return self.street_numbers()

    def close(self, facility_id: str) -> pd.DataFrame:
        """Close a facility; the per-street numbers after.

        Raises
        ------
        InputError
            When there is no such facility (or it is already closed).
        """
        self._remove(self._slot_of(facility_id))
        return self.street_numbers()

    def move(self, facility_id: str, lon: float, lat: float) -> pd.DataFrame:
        """Move a facility to (``lon``, ``lat``) WGS-84 degrees; the per-street numbers after.

        Raises
        ------
        InputError
            When there is no such facility (or it is closed).
        """
        self._remove(self._slot_of(facility_id))
        self._place(str(facility_id), metric_xy([lon], [lat])[0])
        return self.street_numbers()

    def _slot_of(self, facility_id: str) -> int:
        slot = self.slot.get(str(facility_id))
        if slot is None or not self.active[slot]:
            raise InputError(f"no open facility {facility_id!r}")
        return slot

    def _all_nearest(self) -> tuple[np.ndarray, np.ndarray]:
        """Every cell's nearest open facility, computed afresh: distance in metres (inf when
        none) and slot (-1 when none)."""
        tree, slots = self._active_tree()
        if tree is None:
            return np.full(len(self.grid), np.inf), np.full(len(self.grid), -1, dtype=np.int64)
        distance, position = nearest_in_blocks(self.grid.xy, self.xy[slots],
                                               blocks=self.grid.blocks)
        return distance * self.detour, np.where(position >= 0, slots[position], -1)

    def _near(self, point: np.ndarray) -> np.ndarray:
        """Cells within the radius of ``point`` (metres), with a little slack."""
        reach = self.radius_m / self.detour * (1 + 1e-9) + SLACK_M
        return np.asarray(self.grid.tree.query_ball_point(point, reach), dtype=np.int64)

    def _new_slot(self, facility_id: str, point: np.ndarray) -> int:
        """Book a new open facility at ``point`` (metres); its slot."""
        slot = len(self.ids)
        self.ids.append(facility_id)
        self.slot[facility_id] = slot
        self.xy = np.vstack([self.xy, point[None, :]])
        self.active = np.append(self.active, True)
        self._tree = None
        self._stale = True  # uncovered cells farther away may now be nearest to it
        return slot

    def _place(self, facility_id: str, point: np.ndarray) -> None:
        slot = self._new_slot(facility_id, point)
        cells = self._near(point)
        if len(cells) == 0:
            return
        dx = self.grid.xy[cells, 0] - point[0]
        dy = self.grid.xy[cells, 1] - point[1]
        distance = np.sqrt(dx * dx + dy * dy) * self.detour
        closer = distance < self.distance[cells]
        cells, distance = cells[closer], distance[closer]
        self.distance[cells] = distance
        self.position[cells] = slot
        self._set_covered(cells)

    def _remove(self, slot: int) -> None:
        self.active[slot] = False
        self._tree = None
        self._stale = True  # uncovered cells farther away may have been nearest to it
        cells = self._near(self.xy[slot])
        cells = cells[self.position[cells] == slot]
        if len(cells) == 0:
            return
        tree, slots = self._active_tree()
        if tree is None:
            self.distance[cells], self.position[cells] = np.inf, -1
        else:
            distance, position = _query(tree, self.grid.xy[cells])
            self.distance[cells], self.position[cells] = distance * self.detour, slots[position]
        self._set_covered(cells)

    def _set_covered(self, cells: np.ndarray) -> None:
        """Update the covered flags and per-street sums of ``cells`` after their distance
        changed."""
        now = self.distance[cells] <= self.radius_m
        changed = now != self.covered[cells]
        cells, now = cells[changed], now[changed]
        if len(cells) == 0:
            return
        self.covered[cells] = now
        street = self.grid.street[cells]
        np.add.at(self.covered_cells, street, np.where(now, 1, -1))
        order, bounds = self.grid.by_street
        for s in np.unique(street):  # summed again in cell order, as a full run sums
            run = order[bounds[s]:bounds[s + 1]]
            self.covered_weight[s] = np.bincount(np.zeros(len(run), dtype=np.intp),
                                                 weights=self.weight[run] * self.covered[run],
                                                 minlength=1)[0]

    def _active_tree(self) -> tuple[cKDTree | None, np.ndarray]:
        slots = np.flatnonzero(self.active)
        if self._tree is None and len(slots):
            self._tree = cKDTree(self.xy[slots])
        return self._tree, slots

    # -- results --------------------------------------------------------------------------

    def street_numbers(self) -> pd.DataFrame:
        """Per street, in the grid's street order: ``code``, ``cells``, ``covered_cells``,
        ``covered_cell_share`` and ``covered_population_share`` (NaN for a street with no cell
        or no residents)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return pd.DataFrame({
                "code": self.grid.codes,
                "cells": self.cells,
                "covered_cells": self.covered_cells,
                "covered_cell_share": np.where(self.cells > 0,
                                               self.covered_cells / self.cells, np.nan),
                "covered_population_share": np.where(self.total > 0,
                                                     self.covered_weight / self.total, np.nan),
            })

    def nearest(self) -> tuple[np.ndarray, np.ndarray]:
        """Every cell's nearest open facility: distance in metres (inf when none) and id
        position in :attr:`ids` (-1 when none), exact after any edits."""
        if self._stale:
            far = np.flatnonzero(~self.covered)
            tree, slots = self._active_tree()
            if tree is None:
                self.distance[far], self.position[far] = np.inf, -1
            elif len(far):
                distance, position = _query(tree, self.grid.xy[far])
                self.distance[far], self.position[far] = distance * self.detour, slots[position]
            self._stale = False
        return self.distance, self.position

    def open_facilities(self) -> list[str]:
        """Ids of the facilities that are open now."""
        return [self.ids[i] for i in np.flatnonzero(self.active)]
