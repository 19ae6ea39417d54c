"""The coverage engine: distance from each H3 cell to the nearest facility, per category, and
the per-street and district summaries against the targets.

Distances are straight lines in metres, measured in the metric CRS (UTM 51N).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import InputError, raise_if_problems
from geo.config import STORAGE_CRS
from geo.hexgrid import (
    Grid,
    cell_polygons,
    spread_over_cells,
    street_grid,
    validate_resolution,
)
from geo.hexgrid import metric_xy as _metric_xy
from geo.incremental import (
    GridNearest,
    cell_coverage_frame,
    nearest_by_category,
    nearest_in_blocks,
)
from geo.nearest import nearest_frame
from geo.network import WalkingNetwork, network_nearest, snap_points
from geo.targets import Targets

__all__ = [
    "CoverageResult",
    "active_facilities",
    "categories_present",
    "category_cells",
    "cell_coverage",
    "checked_run",
    "compute_coverage",
    "coverage_from_nearest",
    "coverage_to_dict",
    "district_summary",
    "gap_cells",
    "nearest_facility",
    "recompute",
    "street_coverage",
    "streets_below_target",
]

SHARE_TOLERANCE = 1e-12


def active_facilities(facilities: pd.DataFrame) -> pd.DataFrame:
    """Facilities that count for coverage: every one that is not closed."""
    return facilities[facilities["status"] != "closed"]


def nearest_facility(cells: pd.DataFrame, facilities: pd.DataFrame) -> pd.DataFrame:
    """The nearest of ``facilities`` to each cell centre.

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
    return nearest_frame(cells.index, facilities, distance, position)


def cell_coverage(
    cells: pd.DataFrame,
    facilities: pd.DataFrame,
    targets: Targets,
    *,
    categories: Sequence[str],
    network: WalkingNetwork | None = None,
) -> pd.DataFrame:
    """Distance to the nearest not-closed facility of each category, for every cell: a straight
    line, or a walk along ``network`` when one is given (see :mod:`geo.network`).

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
        part = (nearest_facility(cells, chosen) if network is None
                else network_nearest(cells, chosen, network, cell_snap=snap))
        part["radius_m"] = targets[category].radius_m
        part["covered"] = part["distance_m"] <= part["radius_m"]
        parts.append(part.assign(category=category).rename_axis("cell").reset_index())
    columns = ["cell", "category", "distance_m", "nearest_id", "nearest_name", "radius_m",
               "covered"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _street_category_groups(street_pos: np.ndarray, category_pos: np.ndarray,
                            n_categories: int) -> np.ndarray:
    """One group number per (street, category) pair: street-major, as the output is sorted."""
    return street_pos * n_categories + category_pos


def _facility_sums(streets: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
                   categories: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Count and total capacity of the not-closed facilities inside each street, per
    (street, category) group of :func:`_street_category_groups`."""
    size = len(streets) * len(categories)
    usable = active_facilities(facilities)
    usable = usable[usable["category"].isin(categories)]
    tree = shapely.STRtree(streets.geometry.to_numpy())
    point, street = tree.query(usable.geometry.to_numpy(), predicate="within")
    point, first = np.unique(point, return_index=True)  # a point counts in one street at most
    street = street[first]
    category = pd.Index(categories).get_indexer(usable["category"])[point]
    group = _street_category_groups(street, category, len(categories))
    capacity = usable["capacity"].fillna(0.0).to_numpy(dtype=float)[point]
    return (np.bincount(group, minlength=size),
            np.bincount(group, weights=capacity, minlength=size))


def _shares(group: np.ndarray, size: int, *, covered: np.ndarray,
            weight: np.ndarray) -> dict[str, np.ndarray]:
    """Cells, covered cells and covered shares of cells and of residents per group number.

    ``weight`` is each row's residents, 1 where unknown; a group with no cell or no weight has
    NaN shares.
    """
    cells = np.bincount(group, minlength=size)
    covered_cells = np.bincount(group, weights=covered, minlength=size)
    total = np.bincount(group, weights=weight, minlength=size)
    covered_weight = np.bincount(group, weights=weight * covered, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "cells": cells,
            "covered_cells": np.rint(covered_cells).astype(int),
            "covered_cell_share": np.where(cells > 0, covered_cells / cells, np.nan),
            "covered_population_share": np.where(total > 0, covered_weight / total, np.nan),
        }


def _row_weights(cells: pd.DataFrame, coverage: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each coverage row: the position of its cell in ``cells``, and the cell's residents
    (1 where unknown)."""
    position = cells.index.get_indexer(coverage["cell"])
    return position, cells["population"].fillna(1.0).to_numpy(dtype=float)[position]


def street_coverage(
    streets: gpd.GeoDataFrame,
    cells: pd.DataFrame,
    coverage: pd.DataFrame,
    facilities: gpd.GeoDataFrame,
    targets: Targets,
) -> pd.DataFrame:
    """Per street and category: cells, covered cells and shares, facilities inside, target.

    Returns
    -------
    DataFrame with one row per (street, category), streets in the frame's order and categories
    in the coverage frame's order: ``code``, ``name``, ``category``, ``population``, ``cells``,
    ``covered_cells``, ``covered_cell_share``, ``covered_population_share``, ``facilities``,
    ``capacity``, ``radius_m``, ``target_share`` and ``meets_target`` (NA for a street with no
    cell). A share weighs cells by ``cells["population"]``, or equally where it is unknown.
    """
    categories = list(pd.unique(coverage["category"]))
    position, weight = _row_weights(cells, coverage)
    street_of_cell = pd.Index(streets["code"].to_numpy()).get_indexer(cells["code"])
    group = _street_category_groups(street_of_cell[position],
                                    pd.Index(categories).get_indexer(coverage["category"]),
                                    len(categories))
    shares = _shares(group, len(streets) * len(categories),
                     covered=coverage["covered"].to_numpy(dtype=float), weight=weight)
    return _street_table(streets, categories, shares, facilities=facilities, targets=targets)


def _street_table(streets: gpd.GeoDataFrame, categories: list[str],
                  shares: dict[str, np.ndarray], *, facilities: gpd.GeoDataFrame,
                  targets: Targets) -> pd.DataFrame:
    """:func:`street_coverage` from the :func:`_shares` of each (street, category) group (see
    :func:`_street_category_groups`)."""
    codes = streets["code"].to_numpy()
    stats = pd.DataFrame(shares)
    stats.insert(0, "category", np.tile(np.array(categories, dtype=object), len(codes)))
    stats.insert(0, "code", np.repeat(codes, len(categories)))
    stats["facilities"], stats["capacity"] = _facility_sums(streets, facilities, categories)
    street_info = streets.set_index("code")[["name", "population"]]
    stats = stats.join(street_info, on="code")
    radius = {c: targets[c].radius_m for c in categories}
    share = {c: targets[c].target_share for c in categories}
    stats["radius_m"] = stats["category"].map(radius).astype(float)
    stats["target_share"] = stats["category"].map(share).astype(float)
    meets = stats["covered_population_share"] + SHARE_TOLERANCE >= stats["target_share"]
    stats["meets_target"] = meets.astype("boolean").mask(stats["covered_population_share"].isna())
    columns = ["code", "name", "category", "population", "cells", "covered_cells",
               "covered_cell_share", "covered_population_share", "facilities", "capacity",
               "radius_m", "target_share", "meets_target"]
    return stats[columns]


def _grid_streets(streets: gpd.GeoDataFrame, grid: Grid, weight: np.ndarray,
                  nearest: dict[str, GridNearest], facilities: gpd.GeoDataFrame,
                  targets: Targets) -> pd.DataFrame:
    """:func:`street_coverage` of the categories in ``nearest``, from the grid's arrays."""
    size = len(streets)
    cells = np.bincount(grid.street, minlength=size)
    total = np.bincount(grid.street, weights=weight, minlength=size)
    covered = np.zeros((size, len(nearest)))
    covered_weight = np.zeros((size, len(nearest)))
    for j, near in enumerate(nearest.values()):
        covered[:, j], covered_weight[:, j] = near.covered_cells, near.covered_weight
    cells, total = cells[:, None], total[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = {  # street-major, as _street_category_groups numbers them
            "cells": np.repeat(cells, len(nearest), axis=1).ravel(),
            "covered_cells": np.rint(covered).astype(int).ravel(),
            "covered_cell_share": np.where(cells > 0, covered / cells, np.nan).ravel(),
            "covered_population_share": np.where(total > 0, covered_weight / total,
                                                 np.nan).ravel(),
        }
    return _street_table(streets, list(nearest), shares, facilities=facilities,
                         targets=targets)


class _Deferred:
    """A value computed on first use (see :class:`_LazyField`)."""

    def __init__(self, compute: Callable[[], Any]) -> None:
        self.compute = compute


class _LazyField:
    """A dataclass field that may be given as a :class:`_Deferred`: computed on first access,
    then kept."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        if obj is None:
            raise AttributeError(self.slot)  # no default for the dataclass field
        value = obj.__dict__[self.slot]
        if isinstance(value, _Deferred):
            value = value.compute()
            obj.__dict__[self.slot] = value
        return value

    def __set__(self, obj: object, value: Any) -> None:
        obj.__dict__[self.slot] = value


@dataclass(frozen=True)
class CoverageResult:
    """Everything one coverage run computed.

    ``cells``: indexed by H3 id with ``code``, ``lon``/``lat`` (WGS-84 degrees) and
    ``population``. ``cell_coverage``: see :func:`cell_coverage`; the engine builds this
    frame (three rows a cell with three categories) on first access, as the per-street
    numbers do not need it. ``streets``: see :func:`street_coverage`. ``network``: the walking
    network distances ran along (None: straight lines); :func:`recompute` keeps to it.
    """

    resolution: int
    categories: tuple[str, ...]
    boundaries: gpd.GeoDataFrame
    cells: pd.DataFrame
    cell_coverage: pd.DataFrame = _LazyField()  # type: ignore[assignment]
    streets: pd.DataFrame
    network: WalkingNetwork | None = None

    def __getstate__(self) -> dict:
        """Pickled with every field computed and without the engine's arrays."""
        return {"_cell_coverage": self.cell_coverage,
                **{k: v for k, v in self.__dict__.items()
                   if k not in ("_cell_coverage", "_engine")}}


def categories_present(facilities: pd.DataFrame, targets: Targets) -> tuple[str, ...]:
    """The categories in ``facilities``: those with a target in the targets' order, then any
    others alphabetically."""
    present = set(facilities["category"])
    known = [c for c in targets.keys() if c in present]
    return tuple(known + sorted(present - set(known)))


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
) -> CoverageResult:
    """Coverage of every street by every category present in ``facilities`` (or those given).

    Parameters
    ----------
    streets
        Normalised street boundaries in EPSG:4326 (see :func:`geo.schema.normalize_boundaries`).
    facilities
        Normalised facilities in EPSG:4326 (see :func:`geo.schema.normalize_facilities`).
    targets
        Radius (metres) and target share of each category.
    resolution
        H3 resolution, 7–12.
    network
        A walking network (see :mod:`geo.network_io`): distances run along it, from each
        facility's nearest node to each cell centre's, plus both snap distances; cells that no
        facility reaches are uncovered (distance inf). None (default): straight lines.

    Raises
    ------
    InputError
        When a category has no target, or the resolution is outside 7–12.
    """
    resolution, chosen = checked_run(streets, facilities, targets, resolution=resolution,
                                     categories=categories)
    grid = street_grid(streets, resolution=resolution)
    cells, weight = _grid_cells(grid, streets)
    usable = active_facilities(facilities)
    nearest = nearest_by_category(grid, usable, radii={c: targets[c].radius_m for c in chosen},
                                  weight=weight, network=network)
    return _engine_result(streets, grid, cells, weight, nearest, facilities, targets,
                          network=network)


def coverage_from_nearest(
    streets: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    targets: Targets,
    *,
    grid: Grid,
    nearest: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> CoverageResult:
    """The result :func:`compute_coverage` assembles, from nearest facilities computed
    elsewhere (e.g. :mod:`geo.dask_engine`).

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
        (-1 when none).
    """
    cells, weight = _grid_cells(grid, streets)
    usable = active_facilities(facilities)
    arrays = {c: GridNearest.of(grid, usable[usable["category"] == c], distance=distance,
                                position=position, radius_m=targets[c].radius_m, weight=weight)
              for c, (distance, position) in nearest.items()}
    return _engine_result(streets, grid, cells, weight, arrays, facilities, targets)


def _grid_cells(grid: Grid, streets: gpd.GeoDataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The result's cells frame of ``grid`` with each cell's residents, and those residents as
    weights (1 where unknown)."""
    cells = grid.frame.copy(deep=False)
    cells["population"] = spread_over_cells(grid.street,
                                            streets["population"].to_numpy(dtype=float))
    return cells, cells["population"].fillna(1.0).to_numpy(dtype=float)


@dataclass(frozen=True)
class _Engine:
    """The arrays behind an engine-made result, for :func:`recompute`."""

    grid: Grid
    index: pd.Index  # the result's cells.index, the grid's cells
    nearest: dict[str, GridNearest]  # categories with arrays


def _engine_result(streets: gpd.GeoDataFrame, grid: Grid, cells: pd.DataFrame,
                   weight: np.ndarray, nearest: dict[str, GridNearest],
                   facilities: gpd.GeoDataFrame, targets: Targets, *,
                   network: WalkingNetwork | None = None) -> CoverageResult:
    per_street = _grid_streets(streets, grid, weight, nearest, facilities, targets)
    index = cells.index
    result = CoverageResult(
        resolution=grid.resolution, categories=tuple(nearest), boundaries=streets, cells=cells,
        cell_coverage=_Deferred(lambda: cell_coverage_frame(index, nearest)),
        streets=per_street, network=network)
    object.__setattr__(result, "_engine", _Engine(grid=grid, index=index, nearest=nearest))
    return result


def district_summary(result: CoverageResult) -> pd.DataFrame:
    """Per category over the whole district: cells, covered share of cells and of residents,
    facilities, and the number of streets below target. Indexed by category."""
    categories = list(result.categories)
    coverage = result.cell_coverage
    _, weight = _row_weights(result.cells, coverage)
    group = pd.Index(categories).get_indexer(coverage["category"])
    summary = pd.DataFrame(_shares(group, len(categories),
                                   covered=coverage["covered"].to_numpy(dtype=float),
                                   weight=weight), index=pd.Index(categories, name="category"))
    by_category = result.streets.groupby("category", sort=False)
    summary["facilities"] = by_category["facilities"].sum()
    summary["streets_below_target"] = by_category["meets_target"].agg(
        lambda meets: int((meets == False).sum()))  # noqa: E712
    summary["target_share"] = by_category["target_share"].first()
    return summary


def streets_below_target(result: CoverageResult, category: str) -> pd.DataFrame:
    """The streets whose covered population share is below the category's target, lowest
    share first."""
    rows = result.streets[(result.streets["category"] == category)
                          & (result.streets["meets_target"] == False)]  # noqa: E712
    return rows.sort_values(["covered_population_share", "code"]).reset_index(drop=True)


def gap_cells(result: CoverageResult, category: str) -> pd.DataFrame:
    """Uncovered cells of a category, with their street, residents, the distance (metres) to the
    nearest facility and its name; farthest first."""
    rows = result.cell_coverage[(result.cell_coverage["category"] == category)
                                & ~result.cell_coverage["covered"]]
    rows = rows.merge(result.cells, left_on="cell", right_index=True)
    return rows.sort_values(["distance_m", "cell"], ascending=[False, True]).reset_index(drop=True)


def _json_number(value: object, digits: int = 6) -> float | int | None:
    """An integral number as int, another as a float rounded to ``digits``; None for missing."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2**53 else round(number, digits)


def _json_share(value: object) -> float | None:
    """A share (0–1) as a float rounded to 6 digits; None for missing."""
    number = _json_number(value)
    return None if number is None else float(number)


def coverage_to_dict(result: CoverageResult) -> dict:
    """The CLI's JSON shape: ``{"resolution", "streets": [{"code", "name", "cells",
    "population", "coverage": {category: {...}}}]}``; unknown numbers are None."""
    streets = []
    for code, rows in result.streets.groupby("code", sort=True):
        first = rows.iloc[0]
        streets.append({
            "code": code,
            "name": first["name"],
            "cells": int(first["cells"]),
            "population": _json_number(first["population"]),
            "coverage": {
                row["category"]: {
                    "radius_m": _json_number(row["radius_m"]),
                    "facilities": int(row["facilities"]),
                    "covered_cells": int(row["covered_cells"]),
                    "covered_cell_share": _json_share(row["covered_cell_share"]),
                    "covered_population_share": _json_share(row["covered_population_share"]),
                    "target_share": _json_share(row["target_share"]),
                    "meets_target": None if row["meets_target"] is pd.NA
                    else bool(row["meets_target"]),
                }
                for _, row in rows.iterrows()
            },
        })
    return {"resolution": result.resolution, "streets": streets}


def category_cells(result: CoverageResult, category: str) -> gpd.GeoDataFrame:
    """Cells of one category with their hexagon polygons (EPSG:4326), street code and name,
    residents, distance (metres) to the nearest facility, its name, and whether covered."""
    rows = result.cell_coverage[result.cell_coverage["category"] == category]
    rows = rows.merge(result.cells, left_on="cell", right_index=True)
    rows = rows.join(result.boundaries.set_index("code")["name"].rename("street"), on="code")
    polygons = cell_polygons(rows["cell"])
    return gpd.GeoDataFrame(rows.reset_index(drop=True), geometry=polygons.to_numpy(),
                            crs=STORAGE_CRS)


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
        fresh_nearest = nearest_by_category(
            engine.grid, usable, radii={c: targets[c].radius_m for c in categories},
            weight=weight, network=result.network)
        per_street_new = _grid_streets(result.boundaries, engine.grid, weight,
                                       fresh_nearest, usable, targets)
        per_street_kept = result.streets[~result.streets["category"].isin(categories)]
        per_street = _in_category_order(pd.concat([per_street_kept, per_street_new],
                                                  ignore_index=True), order, by="code")
        return _engine_result_from(result, engine, fresh_nearest, order, per_street)
    fresh = cell_coverage(result.cells, facilities, targets, categories=categories,
                          network=result.network)
    kept = result.cell_coverage[~result.cell_coverage["category"].isin(categories)]
    per_cell = _in_category_order(pd.concat([kept, fresh], ignore_index=True), order)
    usable = facilities[facilities["category"].isin(categories)]
    per_street_new = street_coverage(result.boundaries, result.cells, fresh, usable, targets)
    per_street_kept = result.streets[~result.streets["category"].isin(categories)]
    per_street = _in_category_order(pd.concat([per_street_kept, per_street_new],
                                              ignore_index=True), order, by="code")
    return CoverageResult(resolution=result.resolution, categories=tuple(order),
                          boundaries=result.boundaries, cells=result.cells,
                          cell_coverage=per_cell, streets=per_street, network=result.network)


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
        per_cell = _Deferred(lambda: cell_coverage_frame(index, nearest))
    else:  # the kept categories have rows but no arrays
        def per_cell_frame() -> pd.DataFrame:
            kept = result.cell_coverage[~result.cell_coverage["category"].isin(list(fresh))]
            return _in_category_order(pd.concat([kept, cell_coverage_frame(index, fresh)],
                                                ignore_index=True), order)
        per_cell = _Deferred(per_cell_frame)
        nearest = {c: nearest[c] for c in order if c in nearest}
    out = CoverageResult(
        resolution=result.resolution, categories=tuple(order), boundaries=result.boundaries,
        cells=result.cells, cell_coverage=per_cell, streets=per_street,
        network=result.network)
    object.__setattr__(out, "_engine", _Engine(grid=engine.grid, index=index, nearest=nearest))
    return out


def _in_category_order(frame: pd.DataFrame, order: list[str], *, by: str | None = None
                       ) -> pd.DataFrame:
    """Rows sorted by category in ``order`` (after ``by`` when given), stable otherwise."""
    rank = frame["category"].map({c: i for i, c in enumerate(order)})
    keys = [frame[by], rank] if by else [rank]
    positions = np.lexsort([k.to_numpy() for k in reversed(keys)])
    return frame.iloc[positions].reset_index(drop=True)
