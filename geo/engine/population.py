"""Residents where they live: each H3 cell's residents (and 60+ residents) from a population
layer or from the streets' populations, and what fell on no cell.

- Polygons (居委, 小区, census units): each polygon's value is shared among the hexagons of the
  grid by area of overlap, measured in UTM 51N: areal interpolation of an extensive variable,
  as :func:`tobler.area_weighted.area_interpolate` does it with ``allocate_total=False`` (the
  tests hold the two equal; importing tobler would cost every command over a second, for
  statsmodels); the share of a polygon that no hexagon covers falls outside.
- Points (residential compounds, raster pixel centres): each point's value goes to the cell
  that contains it; a point in no cell of the grid falls outside.
- Without a layer: each street's population spread evenly over its cells (a street without a
  population, or without a cell, leaves its cells unknown, or its residents outside).

Without any population the coverage shares are shares of area (``basis`` "area").
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.engine.hexgrid import Grid, cell_polygons, cells_of_points, spread_over_cells
from geo.model.config import METRIC_CRS

__all__ = [
    "BASIS_AREA",
    "BASIS_RESIDENTS",
    "CellPopulation",
    "PopulationLayer",
    "boundary_population",
    "layer_population",
]

BASIS_RESIDENTS = "residents"
BASIS_AREA = "area"


@dataclass(frozen=True, eq=False)
class PopulationLayer:
    """A population layer as read from a file (see :mod:`geo.data.population_io`).

    ``polygons``: EPSG:4326 (Multi)Polygons with ``residents`` and ``elderly`` (float; elderly
    NaN when the layer has none); ``points``: ``lon``/``lat`` (WGS-84 degrees), ``residents``,
    ``elderly``; ``has_elderly``: whether a 60+ count was given; ``source``: what it was read
    from; ``ignored``: reason → how many rows or pixels were left out.
    """

    polygons: gpd.GeoDataFrame
    points: pd.DataFrame
    has_elderly: bool
    source: str
    ignored: dict[str, int]

    def total(self, column: str = "residents") -> float:
        """The layer's total of ``column`` (residents or elderly)."""
        return float(self.polygons[column].sum() + self.points[column].sum())


@dataclass(frozen=True, eq=False)
class CellPopulation:
    """Each cell's residents (and 60+ residents) in the grid's order, and the totals.

    ``residents``: NaN where unknown; ``elderly``: None without a 60+ count; ``basis``:
    "residents", or "area" when no population is known at all; ``input``/``assigned``: the
    residents given and those that fell on a cell (None for basis "area"); likewise
    ``elderly_input``/``elderly_assigned``; ``from_layer``: whether a layer gave them.
    """

    residents: np.ndarray
    elderly: np.ndarray | None
    basis: str
    input: float | None
    assigned: float | None
    elderly_input: float | None = None
    elderly_assigned: float | None = None
    from_layer: bool = False

    @property
    def outside(self) -> float | None:
        """Residents given that fell on no cell."""
        return None if self.input is None else self.input - self.assigned

    @property
    def elderly_outside(self) -> float | None:
        """60+ residents given that fell on no cell."""
        return None if self.elderly_input is None else self.elderly_input - self.elderly_assigned

    def weight(self) -> np.ndarray:
        """Residents as weights of the coverage shares: 1 a cell where unknown (a share of
        area)."""
        return np.where(np.isnan(self.residents), 1.0, self.residents)


def boundary_population(grid: Grid, population: np.ndarray) -> CellPopulation:
    """Each street's ``population`` (in the boundaries' order; NaN where unknown) spread evenly
    over its cells."""
    population = np.asarray(population, dtype=float)
    residents = spread_over_cells(grid.street, population)
    known = np.isfinite(population)
    if not known.any():
        return CellPopulation(residents=residents, elderly=None, basis=BASIS_AREA, input=None,
                              assigned=None)
    assigned = float(np.nansum(residents))
    return CellPopulation(residents=residents, elderly=None, basis=BASIS_RESIDENTS,
                          input=float(population[known].sum()), assigned=assigned)


def layer_population(grid: Grid, layer: PopulationLayer) -> CellPopulation:
    """The cells' residents (and 60+ residents) from ``layer``: polygons shared by area of
    overlap with the hexagons, points to the cell containing them."""
    columns = ["residents", "elderly"] if layer.has_elderly else ["residents"]
    sums = {c: np.zeros(len(grid)) for c in columns}
    _add_points(grid, layer.points, sums)
    _add_polygons(grid, layer.polygons, sums)
    elderly = sums.get("elderly")
    return CellPopulation(
        residents=sums["residents"], elderly=elderly, basis=BASIS_RESIDENTS,
        input=layer.total("residents"), assigned=float(sums["residents"].sum()),
        elderly_input=layer.total("elderly") if layer.has_elderly else None,
        elderly_assigned=float(elderly.sum()) if elderly is not None else None,
        from_layer=True)


def _add_points(grid: Grid, points: pd.DataFrame, sums: dict[str, np.ndarray]) -> None:
    if len(points) == 0 or len(grid) == 0:
        return
    cells = cells_of_points(points["lon"].to_numpy(dtype=float),
                            points["lat"].to_numpy(dtype=float), resolution=grid.resolution)
    position = np.searchsorted(grid.ids, cells).clip(0, len(grid) - 1)
    inside = grid.ids[position] == cells
    for column, total in sums.items():
        values = points[column].to_numpy(dtype=float)[inside]
        total += np.bincount(position[inside], weights=values, minlength=len(grid))


def _add_polygons(grid: Grid, polygons: gpd.GeoDataFrame, sums: dict[str, np.ndarray]) -> None:
    if len(polygons) == 0 or len(grid) == 0:
        return
    hexagons = cell_polygons(grid.frame.index).to_crs(METRIC_CRS).to_numpy()
    source = polygons.geometry.to_crs(METRIC_CRS).to_numpy()
    area = shapely.area(source)
    polygon, cell = shapely.STRtree(hexagons).query(source, predicate="intersects")
    overlap = shapely.area(shapely.intersection(source[polygon], hexagons[cell]))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area[polygon] > 0, overlap / area[polygon], 0.0)
    for column, total in sums.items():
        values = polygons[column].fillna(0.0).to_numpy(dtype=float)
        total += np.bincount(cell, weights=values[polygon] * share, minlength=len(grid))
