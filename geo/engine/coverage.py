"""The coverage engine: distance from each H3 cell to the nearest facility, per category,
assembled into a :class:`~geo.engine.result.CoverageResult` with the per-street sums of
:mod:`geo.engine.sums`; recomputing only the categories whose facilities changed.

Distances are straight lines in metres, measured in the metric CRS (UTM 51N), or walks along a
network (:mod:`geo.engine.network`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.engine.hexgrid import Grid, street_grid, validate_resolution
from geo.engine.hexgrid import metric_xy as _metric_xy
from geo.engine.incremental import (
    GridNearest,
    cell_coverage_frame,
    grid_snap,
    nearest_by_category,
    nearest_in_blocks,
)
from geo.engine.nearest import nearest_frame
from geo.engine.network import WalkingNetwork, snap_points
from geo.engine.population import (
    CellPopulation,
    PopulationLayer,
    boundary_population,
    layer_population,
)
from geo.engine.result import CoverageResult, Deferred, active_facilities, categories_present
from geo.engine.sums import grid_street_coverage, street_coverage
from geo.engine.walk import network_nearest
from geo.model.errors import InputError, raise_if_problems
from geo.model.targets import Targets

__all__ = [
    "cell_coverage",
    "checked_run",
    "compute_coverage",
    "coverage_from_nearest",
    "nearest_facility",
    "recompute",
]


def nearest_facility(cells: pd.DataFrame, facilities: pd.DataFrame, *,
                     detour: float = 1.0) -> pd.DataFrame:
    """The nearest of ``facilities`` to each cell centre, by the straight line (times
    ``detour``).

    Parameters
    ----------
    cells
        ``lon``/``lat`` of cell centres, WGS-84 degrees.
    facilities
        ``lon``/``lat`` (WGS-84 degrees), ``id`` and ``name``; all of them count.

    Returns
    -------
    DataFrame on the cells' index: ``distance_m`` (straight line, metres; inf when there is no
    facility), ``nearest_id`` and ``nearest_name`` (None when there is none).
    """
    distance, position = nearest_in_blocks(
        _metric_xy(cells["lon"], cells["lat"]).reshape(-1, 2),
        _metric_xy(facilities["lon"], facilities["lat"]).reshape(-1, 2))
    return nearest_frame(cells.index, facilities, distance * detour, position)


def cell_coverage(
    cells: pd.DataFrame,
    facilities: pd.DataFrame,
    targets: Targets,
    *,
    categories: Sequence[str],
    network: WalkingNetwork | None = None,
) -> pd.DataFrame:
    """Distance to the nearest not-closed facility of each category, for every cell: a straight
    line, or a walk along ``network`` when one is given (see :mod:`geo.engine.network`).

    Returns
    -------
    DataFrame with one row per (cell, category): ``cell``, ``category``, ``distance_m``,
    ``nearest_id``, ``nearest_name``, ``radius_m`` and ``covered`` (distance ≤ radius).
    Facilities outside the streets count too.
    """
    usable = active_facilities(facilities)
    snap = snap_points(network, cells["lon"], cells["lat"]) if network is not None else None
    parts = []
    for category in categories:
        chosen = usable[usable["category"] == category]
        part = (nearest_facility(cells, chosen, detour=targets.detour_factor) if network is None
                else network_nearest(cells, chosen, network, cell_snap=snap))
        part["radius_m"] = targets[category].radius_m
        part["covered"] = part["distance_m"] <= part["radius_m"]
        parts.append(part.assign(category=category).rename_axis("cell").reset_index())
    columns = ["cell", "category", "distance_m", "nearest_id", "nearest_name", "radius_m",
               "covered"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)

def checked_run(streets: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, targets: Targets, *,
                resolution: int, categories: Sequence[str] | None) -> tuple[int, tuple[str, ...]]:
    """The resolution and the categories of a coverage run (every engine's), checked: the
    categories given, or those in ``facilities`` (see :func:`categories_present`).

    Raises
    ------
    InputError
        When a category has no target, there is no street, or the resolution is outside 7–12.
    """
    resolution = validate_resolution(resolution)
    chosen = tuple(categories) if categories is not None else categories_present(facilities,
                                                                                  targets)
    raise_if_problems([f"category {c!r} has no radius in the targets" for c in chosen
                       if c not in targets], context="coverage")
    if len(streets) == 0:
        raise InputError("coverage: no streets")
    return resolution, chosen


def compute_coverage(
    streets: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    targets: Targets,
    *,
    resolution: int,
    categories: Sequence[str] | None = None,
    network: WalkingNetwork | None = None,
    population: PopulationLayer | None = None,
) -> CoverageResult:
    """Coverage of every street by every category present in ``facilities`` (or those given).

    Parameters
    ----------
    streets
        Normalised street boundaries in EPSG:4326 (see
        :func:`geo.data.schema.normalize_boundaries`).
    facilities
        Normalised facilities in EPSG:4326 (see :func:`geo.data.schema.normalize_facilities`).
    targets
        Radius (metres), target share and weight of each category; the detour factor.
    resolution
        H3 resolution, 7–12.
    network
        A walking network (see :mod:`geo.data.network_io`): distances are walks along it (see
        :mod:`geo.engine.walk`); cells that no facility reaches are uncovered (distance inf).
        None (default): straight lines times ``targets.detour_factor``.
    population
        Where residents live (see :mod:`geo.engine.population`): each street's population
        becomes the sum of its cells'. None: the streets' populations spread over their cells.

    Raises
    ------
    InputError
        When a category has no target, or the resolution is outside 7–12.
    """
    resolution, chosen = checked_run(streets, facilities, targets, resolution=resolution,
                                     categories=categories)
    grid = street_grid(streets, resolution=resolution)
    cells, people = _grid_cells(grid, streets, population)
    streets = _with_cell_populations(streets, grid, people)
    usable = active_facilities(facilities)
    nearest = nearest_by_category(grid, usable, radii={c: targets[c].radius_m for c in chosen},
                                  weight=people.weight(), elderly=people.elderly,
                                  network=network, detour=targets.detour_factor)
    return _engine_result(streets, grid, cells, people, nearest, facilities, targets,
                          network=network)


def coverage_from_nearest(
    streets: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    targets: Targets,
    *,
    grid: Grid,
    nearest: Mapping[str, tuple[np.ndarray, np.ndarray]],
    population: PopulationLayer | None = None,
) -> CoverageResult:
    """The result :func:`compute_coverage` assembles, from nearest facilities computed
    elsewhere (e.g. :mod:`geo.engine.dask_engine`).

    Parameters
    ----------
    streets, facilities, targets
        As for :func:`compute_coverage`.
    grid
        ``street_grid(streets, resolution=...)``.
    nearest
        For each category, in output order: the distance in metres from each cell of ``grid``
        (grid order) to its nearest not-closed facility of the category (inf when none), and that
        facility's position among the category's not-closed facilities in the frame's order
        (-1 when none); straight lines, multiplied here by the detour factor.
    population
        As for :func:`compute_coverage`.
    """
    cells, people = _grid_cells(grid, streets, population)
    streets = _with_cell_populations(streets, grid, people)
    usable = active_facilities(facilities)
    detour = targets.detour_factor
    arrays = {c: GridNearest.of(grid, usable[usable["category"] == c],
                                distance=distance * detour if detour != 1 else distance,
                                position=position, radius_m=targets[c].radius_m,
                                weight=people.weight(), elderly=people.elderly)
              for c, (distance, position) in nearest.items()}
    return _engine_result(streets, grid, cells, people, arrays, facilities, targets)


def _with_cell_populations(streets: gpd.GeoDataFrame, grid: Grid, people: CellPopulation
                           ) -> gpd.GeoDataFrame:
    """``streets`` with each one's population the sum of its cells' when a layer gave them."""
    if not people.from_layer:
        return streets
    return streets.assign(population=np.bincount(grid.street, weights=people.residents,
                                                 minlength=len(streets)))


def _grid_cells(grid: Grid, streets: gpd.GeoDataFrame, layer: PopulationLayer | None
                ) -> tuple[pd.DataFrame, CellPopulation]:
    """The result's cells frame of ``grid`` with each cell's residents (and 60+ residents),
    from the population ``layer`` or else the streets' populations."""
    people = (layer_population(grid, layer) if layer is not None
              else boundary_population(grid, streets["population"].to_numpy(dtype=float)))
    cells = grid.frame.copy(deep=False)
    cells["population"] = people.residents
    if people.elderly is not None:
        cells["elderly"] = people.elderly
    return cells, people


@dataclass(frozen=True)
class _Engine:
    """The arrays behind an engine-made result, for :func:`recompute`."""

    grid: Grid
    index: pd.Index  # the result's cells.index, the grid's cells
    nearest: dict[str, GridNearest]  # categories with arrays


def _engine_result(streets: gpd.GeoDataFrame, grid: Grid, cells: pd.DataFrame,
                   people: CellPopulation, nearest: dict[str, GridNearest],
                   facilities: gpd.GeoDataFrame, targets: Targets, *,
                   network: WalkingNetwork | None = None) -> CoverageResult:
    per_street = grid_street_coverage(streets, grid, people.weight(), nearest, facilities,
                                      targets, elderly=people.elderly)
    index = cells.index
    result = CoverageResult(
        resolution=grid.resolution, categories=tuple(nearest), boundaries=streets, cells=cells,
        cell_coverage=Deferred(lambda: cell_coverage_frame(index, nearest)),
        streets=per_street, network=network, population=people,
        detour_factor=targets.detour_factor if network is None else 1.0,
        unreachable=_unreachable(grid, network))
    object.__setattr__(result, "_engine", _Engine(grid=grid, index=index, nearest=nearest))
    return result


def _unreachable(grid: Grid, network: WalkingNetwork | None) -> pd.Series | None:
    """Per street code, the cells farther than the network's ``max_snap_m`` from every edge."""
    if network is None:
        return None
    far = ~grid_snap(network, grid).reachable
    return pd.Series(np.bincount(grid.street, weights=far, minlength=len(grid.codes)).astype(int),
                     index=pd.Index(grid.codes, name="code"), name="unreachable_cells")


def recompute(result: CoverageResult, facilities: gpd.GeoDataFrame, targets: Targets, *,
              categories: Sequence[str]) -> CoverageResult:
    """``result`` with only ``categories`` recomputed for new facilities and targets; the grid
    and every other category are reused as they are.

    A category new to the result is added after the others.
    """
    if not categories:
        return result
    raise_if_problems([f"category {c!r} has no radius in the targets" for c in categories
                       if c not in targets], context="coverage")
    order = list(result.categories) + [c for c in categories if c not in result.categories]
    engine = _engine_of(result)
    if engine is not None:
        usable = active_facilities(facilities)
        weight = result.cells["population"].fillna(1.0).to_numpy(dtype=float)
        elderly = (result.cells["elderly"].to_numpy(dtype=float) if "elderly" in result.cells
                   else None)
        fresh_nearest = nearest_by_category(
            engine.grid, usable, radii={c: targets[c].radius_m for c in categories},
            weight=weight, elderly=elderly, network=result.network,
            detour=result.detour_factor)
        per_street_new = grid_street_coverage(result.boundaries, engine.grid, weight,
                                              fresh_nearest, usable, targets, elderly=elderly)
        per_street_kept = result.streets[~result.streets["category"].isin(categories)]
        per_street = _in_category_order(pd.concat([per_street_kept, per_street_new],
                                                  ignore_index=True), order, by="code")
        return _engine_result_from(result, engine, fresh_nearest, order, per_street)
    fresh = cell_coverage(result.cells, facilities, replace(targets,
                          detour_factor=result.detour_factor), categories=categories,
                          network=result.network)
    kept = result.cell_coverage[~result.cell_coverage["category"].isin(categories)]
    per_cell = _in_category_order(pd.concat([kept, fresh], ignore_index=True), order)
    usable = facilities[facilities["category"].isin(categories)]
    per_street_new = street_coverage(result.boundaries, result.cells, fresh, usable, targets)
    per_street_kept = result.streets[~result.streets["category"].isin(categories)]
    per_street = _in_category_order(pd.concat([per_street_kept, per_street_new],
                                              ignore_index=True), order, by="code")
    return replace(result, categories=tuple(order), cell_coverage=per_cell, streets=per_street)


def _engine_of(result: CoverageResult) -> _Engine | None:
    """The arrays behind ``result``: its own while its cells are the engine's, or, for a result
    without them (unpickled, e.g. from Streamlit's cache), those of the cached grid of its
    boundaries when that grid has exactly its cells. None otherwise."""
    engine = result.__dict__.get("_engine")
    if engine is not None:
        return engine if result.cells.index is engine.index else None
    try:
        grid = street_grid(result.boundaries, resolution=result.resolution)
    except (InputError, KeyError, ValueError):
        return None
    cells = result.cells
    if (len(grid) != len(cells) or "code" not in cells or not grid.frame.index.equals(cells.index)
            or not np.array_equal(grid.frame["code"].to_numpy(), cells["code"].to_numpy())):
        return None
    return _Engine(grid=grid, index=cells.index, nearest={})


def _engine_result_from(result: CoverageResult, engine: _Engine,
                        fresh: dict[str, GridNearest], order: list[str],
                        per_street: pd.DataFrame) -> CoverageResult:
    """``result`` with the ``fresh`` categories recomputed on the engine's grid."""
    index = engine.index
    nearest = {**engine.nearest, **fresh}
    if all(c in nearest for c in order):
        nearest = {c: nearest[c] for c in order}
        per_cell = Deferred(lambda: cell_coverage_frame(index, nearest))
    else:  # the kept categories have rows but no arrays
        def per_cell_frame() -> pd.DataFrame:
            kept = result.cell_coverage[~result.cell_coverage["category"].isin(list(fresh))]
            return _in_category_order(pd.concat([kept, cell_coverage_frame(index, fresh)],
                                                ignore_index=True), order)
        per_cell = Deferred(per_cell_frame)
        nearest = {c: nearest[c] for c in order if c in nearest}
    out = replace(result, categories=tuple(order), cell_coverage=per_cell, streets=per_street)
    object.__setattr__(out, "_engine", _Engine(grid=engine.grid, index=index, nearest=nearest))
    return out


def _in_category_order(frame: pd.DataFrame, order: list[str], *, by: str | None = None
                       ) -> pd.DataFrame:
    """Rows sorted by category in ``order`` (after ``by`` when given), stable otherwise."""
    rank = frame["category"].map({c: i for i, c in enumerate(order)})
    keys = [frame[by], rank] if by else [rank]
    positions = np.lexsort([k.to_numpy() for k in reversed(keys)])
    return frame.iloc[positions].reset_index(drop=True)
