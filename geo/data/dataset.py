"""The app's working dataset: which streets and facilities the pages show, and where each part
came from (the embedded demo, or a file a user imported).

Pure: frames in, frames out. Reading and writing the stored dataset is in
:mod:`geo.data.dataset_io`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import geopandas as gpd
import pandas as pd

from geo.data.rules import normal_id
from geo.engine.network import WalkingNetwork
from geo.engine.population import PopulationLayer
from geo.model.errors import InputError

__all__ = [
    "DEMO",
    "FACILITY_MODES",
    "Dataset",
    "change_summary",
    "demo_dataset",
    "merge_facilities",
    "prefix_ids",
    "with_boundaries",
    "with_facilities",
    "with_network",
    "with_population",
]

#: The origin of a part that is the embedded demo data.
DEMO = "demo"
#: How imported facilities join the dataset: replace the facilities of the categories the file
#: holds, add to them, or replace every facility.
FACILITY_MODES = ("replace_categories", "append", "replace_all")
CLASHES_SHOWN = 10


@dataclass(frozen=True)
class Dataset:
    """Streets and facilities in the data model (EPSG:4326), where residents live and the
    walking network (None: the streets' populations, straight lines), and the origin of each
    part.

    ``boundaries_origin`` is :data:`DEMO` or a description of the imported file;
    ``facility_origins`` maps each category to the origins of its facilities;
    ``population_origin`` and ``network_origin`` likewise ("" when there is none).
    """

    streets: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    boundaries_origin: str = DEMO
    facility_origins: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    population: PopulationLayer | None = None
    network: WalkingNetwork | None = None
    population_origin: str = ""
    network_origin: str = ""

    @property
    def demo_parts(self) -> list[str]:
        """The parts still holding demo data: ``"boundaries"``, ``"population"``,
        ``"network"`` and/or category keys."""
        parts = [name for name, origin in (("boundaries", self.boundaries_origin),
                                           ("population", self.population_origin),
                                           ("network", self.network_origin))
                 if origin == DEMO]
        return parts + [c for c, origins in self.facility_origins.items() if DEMO in origins]

    @property
    def all_demo(self) -> bool:
        """True while nothing has been imported: every part is the embedded demo."""
        return self.boundaries_origin == DEMO and all(
            origins == (DEMO,) for origins in self.facility_origins.values()) and all(
            origin in (DEMO, "") for origin in (self.population_origin, self.network_origin))

    @property
    def is_demo(self) -> bool:
        """True while any part is the embedded demo data."""
        return bool(self.demo_parts)


def demo_dataset(streets: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *,
                 population: PopulationLayer | None = None,
                 network: WalkingNetwork | None = None) -> Dataset:
    """The embedded demo data as a dataset: every part's origin is :data:`DEMO`."""
    origins = {c: (DEMO,) for c in pd.unique(facilities["category"])}
    return Dataset(streets, facilities, DEMO, origins, population=population, network=network,
                   population_origin=DEMO if population is not None else "",
                   network_origin=DEMO if network is not None else "")


def prefix_ids(facilities: gpd.GeoDataFrame, prefix: str) -> gpd.GeoDataFrame:
    """``facilities`` with ``prefix`` put before every id (ids of one department's list often
    repeat another's: 1, 2, 3 …), normalised as the rules store ids (see
    :func:`geo.data.rules.normal_id`), so clashes are seen before saving, not at the next
    load."""
    if not prefix:
        return facilities
    return facilities.assign(id=(prefix + facilities["id"].astype(str)).map(normal_id))


def _id_clashes(kept: pd.DataFrame, imported: pd.DataFrame) -> list[str]:
    return sorted(set(kept["id"].astype(str)) & set(imported["id"].astype(str)))


def merge_facilities(current: gpd.GeoDataFrame, imported: gpd.GeoDataFrame, *,
                     mode: str) -> gpd.GeoDataFrame:
    """The facilities after importing ``imported`` into ``current`` in ``mode``.

    Raises
    ------
    InputError
        When the mode is unknown, nothing was imported, or imported ids clash with facilities
        that stay (ids must be unique: scenarios refer to facilities by id); nothing is merged.
    """
    if mode not in FACILITY_MODES:
        raise InputError(f"import mode {mode!r}: expected one of {', '.join(FACILITY_MODES)}")
    if len(imported) == 0:
        raise InputError("no accepted rows: there is nothing to import")
    if mode == "replace_all":
        kept = current.iloc[0:0]
    elif mode == "replace_categories":
        kept = current[~current["category"].isin(set(imported["category"]))]
    else:
        kept = current
    clashes = _id_clashes(kept, imported)
    if clashes:
        shown = ", ".join(clashes[:CLASHES_SHOWN]) + (" …" if len(clashes) > CLASHES_SHOWN else "")
        raise InputError(f"{len(clashes)} imported id(s) are already used by facilities that stay"
                         f" ({shown}); give the import an id prefix")
    merged = pd.concat([kept, imported[kept.columns.intersection(imported.columns)]],
                       ignore_index=True)
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=current.crs)


def _facility_origins(dataset: Dataset, imported: gpd.GeoDataFrame, *, mode: str,
                      origin: str) -> dict[str, tuple[str, ...]]:
    categories = list(pd.unique(imported["category"]))
    origins = {} if mode == "replace_all" else dict(dataset.facility_origins)
    for category in categories:
        before = origins.get(category, ()) if mode == "append" else ()
        origins[category] = tuple(dict.fromkeys([*before, origin]))
    return origins


def with_facilities(dataset: Dataset, imported: gpd.GeoDataFrame, *, mode: str,
                    origin: str) -> Dataset:
    """``dataset`` with ``imported`` facilities merged in ``mode`` (see
    :func:`merge_facilities`), the categories' origins updated to ``origin``."""
    facilities = merge_facilities(dataset.facilities, imported, mode=mode)
    return replace(dataset, facilities=facilities,
                   facility_origins=_facility_origins(dataset, imported, mode=mode,
                                                      origin=origin))


def with_boundaries(dataset: Dataset, streets: gpd.GeoDataFrame, *, origin: str) -> Dataset:
    """``dataset`` with its streets replaced by ``streets`` (normalised boundaries); the demo's
    residential areas go with the demo streets (the new boundaries' populations count then),
    an imported population layer stays."""
    if len(streets) == 0:
        raise InputError("no streets: there is nothing to import")
    new = replace(dataset, streets=streets, boundaries_origin=origin)
    return with_population(new, None, origin="") if dataset.population_origin == DEMO else new


def with_population(dataset: Dataset, layer: PopulationLayer | None, *, origin: str) -> Dataset:
    """``dataset`` with where residents live replaced by ``layer`` (None: the streets'
    populations again)."""
    return replace(dataset, population=layer,
                   population_origin=origin if layer is not None else "")


def with_network(dataset: Dataset, network: WalkingNetwork | None, *, origin: str) -> Dataset:
    """``dataset`` with its walking network replaced by ``network`` (None: straight lines)."""
    return replace(dataset, network=network, network_origin=origin if network is not None else "")


def change_summary(before: Dataset, after: Dataset, *, action: str, detail: str = "") -> dict:
    """What ``after`` changed against ``before``: the action, a detail (e.g. the file), the
    boundaries' count before and after, and per category whose facilities changed the count
    before and after and the ids added and removed."""
    def ids(frame: pd.DataFrame, category: str) -> set[str]:
        return set(frame.loc[frame["category"] == category, "id"].astype(str))

    categories = sorted(set(before.facilities["category"]) | set(after.facilities["category"]))
    changes = {}
    for category in categories:
        old, new = ids(before.facilities, category), ids(after.facilities, category)
        moved = _changed_rows(before.facilities, after.facilities, category)
        if old != new or moved:
            changes[category] = {"before": len(old), "after": len(new),
                                 "added": len(new - old), "removed": len(old - new),
                                 "changed": moved}
    streets_changed = (len(before.streets) != len(after.streets)
                       or before.boundaries_origin != after.boundaries_origin)
    summary = {"action": action, "detail": detail, "categories": changes}
    if streets_changed:
        summary["boundaries"] = {"before": len(before.streets), "after": len(after.streets)}
    for part, size in (("population", _residents), ("network", _edges)):
        old, new = getattr(before, part), getattr(after, part)
        if (old is None) != (new is None) or (getattr(before, f"{part}_origin")
                                              != getattr(after, f"{part}_origin")):
            summary[part] = {"before": size(old), "after": size(new)}
    return summary


def _residents(layer: object) -> float | None:
    return None if layer is None else round(layer.total(), 1)


def _edges(network: object) -> int | None:
    return None if network is None else network.n_edges


def _changed_rows(before: pd.DataFrame, after: pd.DataFrame, category: str) -> int:
    """How many facilities of ``category`` kept their id but changed a field."""
    columns = ["id", "name", "subtype", "capacity", "address", "lon", "lat", "status"]
    old = pd.DataFrame(before.loc[before["category"] == category, columns]).set_index("id")
    new = pd.DataFrame(after.loc[after["category"] == category, columns]).set_index("id")
    common = old.index.intersection(new.index)
    if not len(common):
        return 0
    old, new = old.loc[common].astype(str), new.loc[common, old.columns].astype(str)
    return int((old != new).any(axis=1).sum())
