"""The coverage engine on a dask.distributed cluster: the result of
:func:`geo.engine.coverage.compute_coverage`, computed partition by partition.

The grid (:func:`geo.engine.hexgrid.street_grid`, ascending H3 ids) is cut into partitions by H3
parent cell: the children of a parent are one run of the grid. Each partition is sent with a *halo*
per category: the facilities inside the bounding box of its cell centres grown by the largest radius
(plus :data:`HALO_MARGIN_M`). A worker runs the local engine's kernel,
:func:`geo.engine.incremental.nearest_in_blocks`, on the partition's cells, their blocks and the
halo. That is exact for every cell whose nearest facility found lies within the largest radius: a
facility outside the halo is farther than that from every cell of the partition. Two kinds of cells
are computed again, by the same kernel with the same blocks against every facility of
the category, exactly as the local engine computes them:

- a cell whose nearest facility lies beyond the halo, or that has none in it;
- a cell with two facilities at the same distance: which one the kernel picks depends on the
  KD-tree and the candidates it builds from the facilities it is given.

The arrays are then put together by the local engine's own code, so cells, the per-cell frame
(distances, nearest ids, covered flags) and the per-street numbers equal
:func:`~geo.engine.coverage.compute_coverage`'s exactly.

Distances are straight lines in metres in the metric CRS (UTM 51N). The functions take any
``distributed.Client``; :func:`dask_client` (at the end, the only code that connects to a
cluster) opens one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import h3ronpy
import numpy as np
import shapely
from scipy.spatial import cKDTree

from geo.engine.coverage import checked_run, coverage_from_nearest
from geo.engine.hexgrid import BLOCK_LEVELS, Grid, metric_xy, street_grid
from geo.engine.incremental import nearest_in_blocks
from geo.engine.population import PopulationLayer
from geo.engine.result import CoverageResult, active_facilities
from geo.model.errors import InputError
from geo.model.targets import Targets

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "HALO_MARGIN_M",
    "Partition",
    "choose_parent_resolution",
    "compute_coverage_dask",
    "dask_client",
    "plan_partitions",
]

#: Added to the halo's width (metres) so that rounding can never leave out a facility within
#: the largest radius of a cell.
HALO_MARGIN_M = 1.0
#: Two facilities whose distances to a cell differ by at most this (metres) count as a tie.
TIE_TOLERANCE_M = 1e-6
#: Partitions per worker thread when the caller does not choose the parent resolution.
PARTITIONS_PER_THREAD = 4
#: At most this many cells per task of the second pass.
RECHECK_CHUNK = 100_000

Blocks = tuple[np.ndarray, np.ndarray, np.ndarray]


# --- partitions (pure) -------------------------------------------------------------------------

def _parent_keys(ids: np.ndarray, *, parent_resolution: int) -> np.ndarray:
    """A number per cell that is the same exactly for the cells of one parent."""
    # the 3-bit digit of resolution r sits at bit 3 * (15 - r)
    return np.asarray(ids, dtype=np.uint64) >> np.uint64(3 * (15 - parent_resolution))


def choose_parent_resolution(grid: Grid, *, partitions: int) -> int:
    """The finest parent resolution, at least ``BLOCK_LEVELS`` coarser than the grid's (so
    that the kernel's blocks of cells stay whole), whose parents number at most
    ``partitions``."""
    ids = np.asarray(grid.ids, dtype=np.uint64)
    for parent in range(max(grid.resolution - BLOCK_LEVELS, 0), 0, -1):
        keys = _parent_keys(ids, parent_resolution=parent)
        if len(keys) == 0 or 1 + np.count_nonzero(keys[1:] != keys[:-1]) <= partitions:
            return parent
    return 0


@dataclass(frozen=True)
class Partition:
    """The cells of one H3 parent cell and, per category, the facilities of its halo.

    ``start``/``stop``: the run of the grid (positions) holding the parent's cells. ``halo``:
    per category, positions in that category's facilities, ascending.
    """

    parent: int
    start: int
    stop: int
    halo: dict[str, np.ndarray]


def plan_partitions(grid: Grid, facility_xy: dict[str, np.ndarray], *, parent_resolution: int,
                    halo_m: float) -> list[Partition]:
    """Partitions of ``grid`` by H3 parent, each with the facilities of every category within
    ``halo_m`` metres (plus :data:`HALO_MARGIN_M`) of the bounding box of its cell centres.

    Parameters
    ----------
    grid
        The cells, in ascending H3 id order.
    facility_xy
        Per category, (m, 2) facility positions in metres (metric CRS).
    parent_resolution
        H3 resolution of the partitions' parent cells, coarser than the grid's.
    halo_m
        Metres: every facility within this distance of a partition's cells is in its halo.
    """
    if len(grid) == 0:
        return []
    ids = np.asarray(grid.ids, dtype=np.uint64)
    keys = _parent_keys(ids, parent_resolution=parent_resolution)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    stops = np.r_[starts[1:], len(keys)]
    parents = h3ronpy.change_resolution(ids[starts], parent_resolution).to_numpy()
    lower = np.minimum.reduceat(grid.xy, starts)
    upper = np.maximum.reduceat(grid.xy, starts)
    grow = halo_m + HALO_MARGIN_M
    boxes = shapely.box(lower[:, 0] - grow, lower[:, 1] - grow, upper[:, 0] + grow,
                        upper[:, 1] + grow)
    halos: dict[str, list[np.ndarray]] = {}
    for category, xy in facility_xy.items():
        box_of, point_of = shapely.STRtree(shapely.points(xy.reshape(-1, 2))).query(
            boxes, predicate="intersects")
        order = np.lexsort((point_of, box_of))
        box_of, point_of = box_of[order], point_of[order]
        bounds = np.searchsorted(box_of, np.arange(len(starts) + 1))
        halos[category] = np.split(point_of, bounds[1:-1])
    return [Partition(parent=int(parents[i]), start=int(starts[i]), stop=int(stops[i]),
                      halo={c: halos[c][i] for c in facility_xy})
            for i in range(len(starts))]


def _sub_blocks(blocks: Blocks, positions: np.ndarray) -> Blocks:
    """The kernel's blocks of the cells at ``positions`` (ascending): each cell keeps its
    block's centre and radius, so the kernel treats it as it does in the whole grid."""
    starts, centres, radius = blocks
    block = np.searchsorted(starts, positions, side="right") - 1
    first = np.flatnonzero(np.r_[True, block[1:] != block[:-1]]) if len(block) else block
    return first, centres[block[first]], radius[block[first]]


# --- tasks (run on the workers) ----------------------------------------------------------------

def _ties(xy: np.ndarray, facility_xy: np.ndarray, distance: np.ndarray, *,
          within_m: float) -> np.ndarray:
    """Whether each point (metres) whose nearest ``distance`` is at most ``within_m`` has a
    second facility within :data:`TIE_TOLERANCE_M` of it."""
    ties = np.zeros(len(xy), dtype=bool)
    near = distance <= within_m
    if len(facility_xy) < 2 or not near.any():
        return ties
    # the search stops past within_m: a farther cell is computed again anyway
    second, _ = cKDTree(facility_xy).query(xy[near], k=[2],
                                           distance_upper_bound=within_m + HALO_MARGIN_M)
    ties[near] = second[:, 0] - distance[near] <= TIE_TOLERANCE_M
    return ties


def _partition_task(xy: np.ndarray, blocks: Blocks, halos: dict[str, tuple[np.ndarray,
                    np.ndarray]], exact_within_m: float) -> dict[str, tuple[np.ndarray, ...]]:
    """The kernel on one partition; per category the distance (metres), the position of the
    nearest facility among all of the category (-1 for none) and which cells to compute
    again."""
    out = {}
    for category, (positions, facility_xy) in halos.items():
        distance, nearest = nearest_in_blocks(xy, facility_xy, blocks=blocks)
        again = (distance > exact_within_m) | _ties(xy, facility_xy, distance,
                                                     within_m=exact_within_m)
        found = nearest >= 0
        nearest[found] = positions[nearest[found]]
        out[category] = (distance, nearest, again)
    return out


def _recheck_task(xy: np.ndarray, blocks: Blocks, facility_xy: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The kernel against every facility of a category, as the local engine runs it."""
    return nearest_in_blocks(xy, facility_xy, blocks=blocks)


# --- the engine --------------------------------------------------------------------------------

def compute_coverage_dask(
    streets: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    targets: Targets,
    *,
    resolution: int,
    client: Client,
    categories: Sequence[str] | None = None,
    parent_resolution: int | None = None,
    population: PopulationLayer | None = None,
) -> CoverageResult:
    """:func:`geo.engine.coverage.compute_coverage` on a dask.distributed cluster: the same result.

    Parameters
    ----------
    streets, facilities, targets, resolution, categories, population
        As for :func:`geo.engine.coverage.compute_coverage` (EPSG:4326; radii in metres);
        distances are straight lines times the detour factor (no walking network).
    client
        A connected ``distributed.Client`` (see :func:`dask_client`).
    parent_resolution
        H3 resolution of the partitions' parent cells, coarser than ``resolution``; by default
        the finest that gives at most 4 partitions per worker thread.

    Raises
    ------
    InputError
        As :func:`geo.engine.coverage.compute_coverage` does, and for a parent resolution not
        coarser than ``resolution``.
    """
    resolution, chosen = checked_run(streets, facilities, targets, resolution=resolution,
                                     categories=categories)
    if parent_resolution is not None and not 0 <= parent_resolution < resolution:
        raise InputError(f"parent resolution must be from 0 to {resolution - 1}, "
                         f"got {parent_resolution!r}")
    grid = street_grid(streets, resolution=resolution)
    usable = active_facilities(facilities)
    per_category = {c: usable[usable["category"] == c] for c in chosen}
    xy = {c: metric_xy(f["lon"], f["lat"]).reshape(-1, 2) for c, f in per_category.items()}
    if parent_resolution is None:
        threads = sum(client.nthreads().values()) or 1
        parent_resolution = choose_parent_resolution(
            grid, partitions=PARTITIONS_PER_THREAD * threads)
    arrays = _nearest_dask(grid, xy, client=client, parent_resolution=parent_resolution,
                           halo_m=max((float(targets[c].radius_m) for c in chosen), default=0.0))
    return coverage_from_nearest(streets, facilities, targets, grid=grid, nearest=arrays,
                                 population=population)


def _nearest_dask(grid: Grid, facility_xy: dict[str, np.ndarray], *, client: Client,
                  parent_resolution: int, halo_m: float
                  ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per category, the distance (metres) and facility position (-1 for none) of every cell's
    nearest facility, as the local engine computes them."""
    n = len(grid)
    distance = {c: np.full(n, np.inf) for c in facility_xy}
    position = {c: np.full(n, -1, dtype=np.int64) for c in facility_xy}
    if n == 0 or not facility_xy:
        return {c: (distance[c], position[c]) for c in facility_xy}
    blocks = grid.blocks
    plan = plan_partitions(grid, facility_xy, parent_resolution=parent_resolution,
                           halo_m=halo_m)
    pieces = client.scatter(
        [(grid.xy[p.start:p.stop], _sub_blocks(blocks, np.arange(p.start, p.stop)),
          {c: (p.halo[c], facility_xy[c][p.halo[c]]) for c in facility_xy}) for p in plan],
        hash=False)
    futures = client.map(_run_partition, pieces, exact_within_m=halo_m, pure=False)
    again: dict[str, list[np.ndarray]] = {c: [] for c in facility_xy}
    for part, done in zip(plan, client.gather(futures), strict=True):
        for category, (dist, pos, redo) in done.items():
            distance[category][part.start:part.stop] = dist
            position[category][part.start:part.stop] = pos
            again[category].append(part.start + np.flatnonzero(redo))
    rechecks = []
    for category in facility_xy:
        cells = np.concatenate(again[category])
        if len(cells) == 0 or len(facility_xy[category]) == 0:
            continue  # no facility at all: inf and -1 already
        everyone = client.scatter(facility_xy[category], broadcast=True, hash=False)
        for start in range(0, len(cells), RECHECK_CHUNK):
            chunk = cells[start:start + RECHECK_CHUNK]
            future = client.submit(_recheck_task, grid.xy[chunk], _sub_blocks(blocks, chunk),
                                   everyone, pure=False)
            rechecks.append((category, chunk, future))
    for (category, chunk, _), (dist, pos) in zip(
            rechecks, client.gather([f for _, _, f in rechecks]), strict=True):
        distance[category][chunk] = dist
        position[category][chunk] = pos
    return {c: (distance[c], position[c]) for c in facility_xy}


def _run_partition(piece: tuple, *, exact_within_m: float) -> dict[str, tuple[np.ndarray, ...]]:
    xy, blocks, halos = piece
    return _partition_task(xy, blocks, halos, exact_within_m)


# --- the cluster (the only code that connects) -------------------------------------------------

@contextmanager
def dask_client(scheduler: str | None = None, *, n_workers: int = 2,
                processes: bool = False, timeout_s: float | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler at ``scheduler`` (e.g. ``tcp://host:8786``), or
    of a LocalCluster of ``n_workers`` one-thread workers when it is None; closed on exit.

    The LocalCluster's workers are threads of this process unless ``processes``: the KD-tree
    queries release the GIL, and nothing has to be sent between processes. The workers of a
    remote scheduler need this project's code and requirements importable.

    Raises
    ------
    InputError
        When the scheduler cannot be reached within ``timeout_s`` seconds (by default dask's
        ``distributed.comm.timeouts.connect``, 30 s, e.g. from the environment variable
        ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT``).
    """
    import dask.config
    from dask.utils import parse_timedelta
    from distributed import Client, LocalCluster

    if scheduler is None:
        with (LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=processes,
                           dashboard_address=":0") as cluster,
              Client(cluster) as client):
            yield client
        return
    if timeout_s is None:
        timeout_s = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s")
    try:
        # a Client that fails to connect complains again when it is garbage-collected: reach
        # the scheduler first
        # (on a thread of its own: the caller may be running an event loop)
        with ThreadPoolExecutor(max_workers=1) as probe:
            probe.submit(asyncio.run, _reach(scheduler, timeout_s=timeout_s)).result()
        client = Client(scheduler, timeout=f"{timeout_s}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"dask scheduler {scheduler!r}: cannot connect ({reason})") from exc
    with client:
        yield client


async def _reach(address: str, *, timeout_s: float) -> None:
    """Open and close a connection to the dask scheduler at ``address``."""
    from distributed.comm import connect

    comm = await connect(address, timeout=timeout_s)
    await comm.close()
