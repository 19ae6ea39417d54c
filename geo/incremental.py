"""The array engine of one facility category on one grid: the exact nearest facility of every
cell, the covered cells and per-street sums, and edits of one facility at a time that touch only
the cells within the radius of the facility's old and new positions.

Points are metres in the metric CRS (UTM 51N); distances are straight lines in metres, computed
as ``sqrt(dx² + dy²)`` like :class:`scipy.spatial.cKDTree` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo._errors import InputError
from geo.hexgrid import Grid, metric_xy

__all__ = ["CategoryState", "nearest_in_blocks"]

#: Most facilities a block of cells is compared with before its cells are queried one by one.
CANDIDATES = 16
#: Slack (metres) for the rounding of distances in the block test and the radius queries.
SLACK_M = 1e-6


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
        best, which = np.full(len(chosen), np.inf), np.zeros(len(chosen), dtype=np.int8)
        for j in range(t):
            dx = px - fx[near[:, j]][block]
            dy = py - fy[near[:, j]][block]
            squared = dx * dx + dy * dy
            which = np.where(squared < best, j, which)
            best = np.minimum(best, squared)
        out_distance[chosen] = np.sqrt(best)
        out_position[chosen] = near[block, which]
    return out_distance, out_position


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
        The cells (see :func:`geo.hexgrid.street_grid`).
    weight
        Residents of each cell in the grid's order; 1 where unknown.
    ids
        Facility ids, unique.
    lon, lat
        Facility positions, WGS-84 degrees.
    radius_m
        The category's radius in metres.
    """

    def __init__(self, grid: Grid, *, weight: np.ndarray, ids: Sequence[str], lon: np.ndarray,
                 lat: np.ndarray, radius_m: float) -> None:
        if len(weight) != len(grid):
            raise InputError(f"weight has {len(weight)} values for {len(grid)} cells")
        self.grid = grid
        self.radius_m = float(radius_m)
        self.weight = np.asarray(weight, dtype=float)
        self.ids = [str(i) for i in ids]
        if len(set(self.ids)) != len(self.ids):
            raise InputError("facility ids must be unique")
        self.slot = {fid: i for i, fid in enumerate(self.ids)}
        self.xy = metric_xy(lon, lat).reshape(-1, 2)
        self.active = np.ones(len(self.ids), dtype=bool)
        self.distance, self.position = nearest_in_blocks(grid.xy, self.xy, blocks=grid.blocks)
        self.covered = self.distance <= self.radius_m
        streets = len(grid.codes)
        self.cells = np.bincount(grid.street, minlength=streets)
        self.total = np.bincount(grid.street, weights=self.weight, minlength=streets)
        self.covered_cells = np.bincount(grid.street, weights=self.covered,
                                         minlength=streets).astype(np.int64)
        self.covered_weight = np.bincount(grid.street, weights=self.weight * self.covered,
                                          minlength=streets)
        self._tree: cKDTree | None = None
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

    def _near(self, point: np.ndarray) -> np.ndarray:
        """Cells within the radius of ``point`` (metres), with a little slack."""
        reach = self.radius_m * (1 + 1e-9) + SLACK_M
        return np.asarray(self.grid.tree.query_ball_point(point, reach), dtype=np.int64)

    def _place(self, facility_id: str, point: np.ndarray) -> None:
        slot = len(self.ids)
        self.ids.append(facility_id)
        self.slot[facility_id] = slot
        self.xy = np.vstack([self.xy, point[None, :]])
        self.active = np.append(self.active, True)
        self._tree = None
        self._stale = True  # uncovered cells farther away may now be nearest to it
        cells = self._near(point)
        if len(cells) == 0:
            return
        dx = self.grid.xy[cells, 0] - point[0]
        dy = self.grid.xy[cells, 1] - point[1]
        distance = np.sqrt(dx * dx + dy * dy)
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
            self.distance[cells], self.position[cells] = distance, slots[position]
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
                self.distance[far], self.position[far] = distance, slots[position]
            self._stale = False
        return self.distance, self.position

    def open_facilities(self) -> list[str]:
        """Ids of the facilities that are open now."""
        return [self.ids[i] for i in np.flatnonzero(self.active)]
