"""The result of a coverage run, and which facilities and categories a run counts.

A :class:`CoverageResult` holds the grid's cells, the per-cell distances (built on first use)
and the per-street sums; distances are metres, coordinates WGS-84 degrees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.engine.network import WalkingNetwork
from geo.engine.population import CellPopulation
from geo.model.targets import Targets

__all__ = ["CoverageResult", "Deferred", "active_facilities", "categories_present"]


def active_facilities(facilities: pd.DataFrame) -> pd.DataFrame:
    """Facilities that count for coverage: every one that is not closed."""
    return facilities[facilities["status"] != "closed"]


def categories_present(facilities: pd.DataFrame, targets: Targets) -> tuple[str, ...]:
    """The categories in ``facilities``: those with a target in the targets' order, then any
    others alphabetically."""
    present = set(facilities["category"])
    known = [c for c in targets.keys() if c in present]
    return tuple(known + sorted(present - set(known)))


class Deferred:
    """A value computed on first use (see :class:`_LazyField`)."""

    def __init__(self, compute: Callable[[], Any]) -> None:
        self.compute = compute


class _LazyField:
    """A dataclass field that may be given as a :class:`Deferred`: computed on first access,
    then kept."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        if obj is None:
            raise AttributeError(self.slot)  # no default for the dataclass field
        value = obj.__dict__[self.slot]
        if isinstance(value, Deferred):
            value = value.compute()
            obj.__dict__[self.slot] = value
        return value

    def __set__(self, obj: object, value: Any) -> None:
        obj.__dict__[self.slot] = value


@dataclass(frozen=True)
class CoverageResult:
    """Everything one coverage run computed.

    ``cells``: indexed by H3 id with ``code``, ``lon``/``lat`` (WGS-84 degrees) and
    ``population``. ``cell_coverage``: see :func:`geo.engine.coverage.cell_coverage`; the
    engine builds this frame (three rows a cell with three categories) on first access, as the
    per-street numbers do not need it. ``streets``: see
    :func:`geo.engine.sums.street_coverage`. ``network``: the walking network distances ran
    along (None: straight lines, times ``detour_factor``); :func:`geo.engine.coverage.recompute`
    keeps to it. ``population``: where the cells' residents came from and what fell on no
    cell (``cells`` then has ``elderly`` too when 60+ counts are known). ``unreachable``: per
    street code, the cells farther than the network's ``max_snap_m`` from every edge.
    """

    resolution: int
    categories: tuple[str, ...]
    boundaries: gpd.GeoDataFrame
    cells: pd.DataFrame
    cell_coverage: pd.DataFrame = _LazyField()  # type: ignore[assignment]
    streets: pd.DataFrame
    network: WalkingNetwork | None = None
    population: CellPopulation | None = None
    detour_factor: float = 1.0
    unreachable: pd.Series | None = None

    @property
    def distance(self) -> str:
        """How distances were measured: "network" or "straight"."""
        return "straight" if self.network is None else "network"

    @property
    def basis(self) -> str:
        """What the covered shares are shares of: "residents", or "area" when no population
        is known."""
        if self.population is not None:
            return self.population.basis
        return "residents" if self.cells["population"].notna().any() else "area"

    @property
    def unreachable_cells(self) -> int:
        """Cells no walk reaches: farther than ``max_snap_m`` from every edge."""
        return 0 if self.unreachable is None else int(self.unreachable.sum())

    def __getstate__(self) -> dict:
        """Pickled with every field computed and without the engine's arrays."""
        return {"_cell_coverage": self.cell_coverage,
                **{k: v for k, v in self.__dict__.items()
                   if k not in ("_cell_coverage", "_engine")}}
