"""What-if scenarios: named sets of edits over the baseline facilities and targets.

An edit adds a planned facility, moves one, closes one, changes its capacity, or overrides a
category's radius (metres) or target share. Applying a scenario is pure: frames in, frames out,
every problem reported at once and nothing applied when there is one.

The exchange format is GeoJSON (the CLI's ``--scenario FILE``): a FeatureCollection with one
Point feature per added or moved facility carrying the facility fields, and
``{"action": "close", "id": ...}`` features for closures; ``name``, ``description`` and
``targets`` (per category ``radius_m`` / ``target_share``) are members of the collection.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.data.area import placement_area
from geo.data.coords import to_wgs84
from geo.data.rules import cell_text, check_facility_rows, normal_id
from geo.data.store import checked_name, text_problems
from geo.engine.coverage import recompute
from geo.engine.result import CoverageResult
from geo.model.config import INPUT_CRS, STORAGE_CRS
from geo.model.errors import raise_if_problems
from geo.model.targets import Targets

__all__ = [
    "EDIT_KINDS",
    "Edit",
    "Scenario",
    "apply_scenario",
    "baseline_capacities",
    "edited_categories",
    "evaluate",
    "free_id",
    "renamed",
    "scenario_from_geojson",
    "scenario_to_geojson",
]

EDIT_KINDS = ("add", "move", "close", "capacity", "radius", "target")
FACILITY_EDITS = ("add", "move", "close", "capacity")
FACILITY_FIELDS = ("id", "name", "category", "subtype", "capacity", "address", "crs", "status",
                   "source")
SCENARIO_SOURCE = "scenario"
#: Feature properties read as text (a number is taken as its text).
TEXT_PROPERTIES = ("id", "name", "category", "subtype", "address", "crs", "action")


@dataclass(frozen=True)
class Edit:
    """One change. ``lon``/``lat`` are WGS-84 degrees; ``value`` is the radius in metres
    (``radius``) or the target share 0–1 (``target``)."""

    kind: str
    facility_id: str = ""
    category: str = ""
    lon: float | None = None
    lat: float | None = None
    capacity: float | None = None
    name: str = ""
    subtype: str = ""
    address: str = ""
    value: float | None = None

    def describe(self) -> str:
        """A one-line account of the edit, for the edit list."""
        where = (f" → {self.lon:.5f}, {self.lat:.5f}"
                 if self.lon is not None and self.lat is not None else "")
        details = {
            "add": f"add {self.category} {self.facility_id} {self.name}{where}",
            "move": f"move {self.facility_id}{where}",
            "close": f"close {self.facility_id}",
            "capacity": f"capacity of {self.facility_id} → {self.capacity:g}"
            if self.capacity is not None else f"capacity of {self.facility_id}",
            "radius": f"radius of {self.category} → {self.value:g} m"
            if self.value is not None else f"radius of {self.category}",
            "target": f"target of {self.category} → {self.value:.0%}"
            if self.value is not None else f"target of {self.category}",
        }
        return details.get(self.kind, self.kind)


@dataclass(frozen=True)
class Scenario:
    """A named, described, ordered set of edits."""

    name: str
    description: str = ""
    edits: tuple[Edit, ...] = field(default_factory=tuple)

    def with_edit(self, edit: Edit) -> Scenario:
        """A copy with ``edit`` appended."""
        return replace(self, edits=(*self.edits, edit))

    def without_edit(self, index: int) -> Scenario:
        """A copy with the edit at ``index`` undone (removed)."""
        return replace(self, edits=self.edits[:index] + self.edits[index + 1:])


def renamed(scenario: Scenario, *, name: str, description: str) -> Scenario:
    """A copy named ``name`` (stripped) and described by ``description``.

    Raises
    ------
    InputError
        When the name is empty or longer than
        :data:`geo.data.store.MAX_NAME_LENGTH`, or either is not valid Unicode text.
    """
    return replace(scenario, name=checked_name(name, description=description),
                   description=description)


def free_id(scenario: Scenario, taken: Collection[str], *, prefix: str) -> str:
    """The first id ``{prefix}-1``, ``{prefix}-2``, … that neither ``taken`` (the baseline's
    ids) nor an edit of ``scenario`` uses."""
    used = set(taken) | {edit.facility_id for edit in scenario.edits}
    return next(f"{prefix}-{n}" for n in range(1, len(used) + 2) if f"{prefix}-{n}" not in used)


def _finite(value: float | None) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


#: The rules of :mod:`geo.data.rules` an edit of each kind goes through.
EDIT_RULES = {"add": ("coords", "range", "outside", "category", "capacity"),
              "move": ("coords", "range", "outside"), "capacity": ("capacity",)}


def _rule_problems(label: str, edit: Edit, *, targets: Targets,
                   area: shapely.Geometry) -> list[str]:
    """What the facility rows' rules say about an edit's facility fields."""
    category = edit.category if edit.kind == "add" else next(iter(targets.keys()))
    row = {"id": edit.facility_id, "name": edit.name, "category": category,
           "capacity": "" if edit.capacity is None else cell_text(edit.capacity),
           "lon": cell_text(edit.lon), "lat": cell_text(edit.lat)}
    checked = check_facility_rows(pd.DataFrame([row]), known_categories=targets.keys(),
                                  area=area)
    return checked.problems(pd.Series([label]), rules=EDIT_RULES[edit.kind])


def _edit_problems(number: int, edit: Edit, *, ids: dict[str, str], targets: Targets,
                   area: shapely.Geometry) -> list[str]:
    """Problems of one edit (``number`` counts from 1) given the ids known before it."""
    label = f"edit {number} ({edit.kind})"
    if edit.kind not in EDIT_KINDS:
        return [f"{label}: unknown kind, expected one of {', '.join(EDIT_KINDS)}"]
    problems = []
    if edit.kind == "add":
        if not normal_id(edit.facility_id):
            problems.append(f"{label}: empty id")
        elif normal_id(edit.facility_id) in ids:
            problems.append(f"{label}: duplicate id {normal_id(edit.facility_id)!r}")
    if edit.kind in ("move", "close", "capacity") and normal_id(edit.facility_id) not in ids:
        problems.append(f"{label}: no facility with id {edit.facility_id!r}")
    if edit.kind in ("radius", "target") and edit.category not in targets:
        problems.append(f"{label}: unknown category {edit.category!r} "
                        f"(known: {', '.join(targets.keys())})")
    if edit.kind in EDIT_RULES:
        problems += _rule_problems(label, edit, targets=targets, area=area)
    if edit.kind == "radius" and (not _finite(edit.value) or edit.value <= 0):
        problems.append(f"{label}: radius {edit.value!r} is not a positive number of metres")
    if edit.kind == "target" and (not _finite(edit.value) or not 0 <= edit.value <= 1):
        problems.append(f"{label}: target share {edit.value!r} is not a number from 0 to 1")
    return problems


def _validate(scenario: Scenario, facilities: pd.DataFrame, targets: Targets,
              area: shapely.Geometry) -> None:
    ids = dict(zip(facilities["id"], facilities["category"], strict=True))
    problems = []
    for number, edit in enumerate(scenario.edits, start=1):
        found = _edit_problems(number, edit, ids=ids, targets=targets, area=area)
        problems += found
        if edit.kind == "add" and not found:
            ids[normal_id(edit.facility_id)] = edit.category
    raise_if_problems(problems, context=f"scenario {scenario.name!r}")


def _added_row(edit: Edit, targets: Targets) -> dict[str, Any]:
    """The facility an "add" edit makes; unnamed, it is named as the rules name one."""
    facility_id = normal_id(edit.facility_id)
    name = edit.name.strip() or f"{targets[edit.category].label('zh')} ({facility_id})"
    return {"id": facility_id, "name": name, "category": edit.category,
            "subtype": edit.subtype, "capacity": edit.capacity if edit.capacity is not None
            else np.nan, "address": edit.address, "lon": edit.lon, "lat": edit.lat,
            "crs": "wgs84", "status": "planned", "source": SCENARIO_SOURCE}


def apply_scenario(scenario: Scenario, *, facilities: gpd.GeoDataFrame, targets: Targets,
                   area: shapely.Geometry) -> tuple[gpd.GeoDataFrame, Targets]:
    """The facilities and targets after the scenario's edits, in order.

    Parameters
    ----------
    facilities
        Normalised baseline facilities, EPSG:4326.
    area
        Where facilities may be placed (EPSG:4326), see :func:`geo.data.area.study_area`.

    Raises
    ------
    InputError
        Listing every problem (duplicate or unknown id, unknown category, coordinates outside
        the study area, bad capacity, radius or share); nothing is applied then.
    """
    _validate(scenario, facilities, targets, area)
    frame = pd.DataFrame(facilities.drop(columns="geometry")).reset_index(drop=True)
    radii, shares = {}, {}
    for edit in scenario.edits:
        at = frame["id"] == normal_id(edit.facility_id)
        if edit.kind == "add":
            frame = pd.concat([frame, pd.DataFrame([_added_row(edit, targets)])],
                              ignore_index=True)
        elif edit.kind == "move":
            frame.loc[at, ["lon", "lat"]] = [edit.lon, edit.lat]
        elif edit.kind == "close":
            frame.loc[at, "status"] = "closed"
        elif edit.kind == "capacity":
            frame.loc[at, "capacity"] = edit.capacity
        elif edit.kind == "radius":
            radii[edit.category] = edit.value
        elif edit.kind == "target":
            shares[edit.category] = edit.value
    after = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                             crs=STORAGE_CRS)
    return after, _with_targets(targets, radii=radii, shares=shares)


def _with_targets(targets: Targets, *, radii: Mapping[str, float],
                  shares: Mapping[str, float]) -> Targets:
    changed = targets.with_radii(radii) if radii else targets
    return changed.with_values(radii={}, shares=shares, source="overridden by the scenario")


def edited_categories(scenario: Scenario, facilities: pd.DataFrame) -> set[str]:
    """The categories whose coverage or street numbers the scenario can change."""
    category_of = dict(zip(facilities["id"], facilities["category"], strict=True))
    touched = set()
    for edit in scenario.edits:
        if edit.kind == "add":
            category_of[normal_id(edit.facility_id)] = edit.category
        touched.add(edit.category or category_of.get(normal_id(edit.facility_id), ""))
    return touched - {""}


# --------------------------------------------------------------------------- GeoJSON


def _number(value: Any) -> float | None:
    """A JSON value as a number: None when absent, NaN when not a number, ±inf beyond float."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except OverflowError:  # an integer with more than 308 digits
        return math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        return math.nan


def _unicode(text: str) -> bool:
    """Whether ``text`` is valid Unicode (JSON can carry lone surrogates such as ``\\ud800``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _feature_problems(number: int, feature: Any) -> list[str]:
    """What makes feature ``number`` unreadable: not an object, properties or geometry of the
    wrong JSON type, a text property that is an object or a list, coordinates not a list."""
    label = f"feature {number}"
    if not isinstance(feature, Mapping):
        return [f"{label}: not a GeoJSON Feature object"]
    props, geometry = feature.get("properties"), feature.get("geometry")
    if props is not None and not isinstance(props, Mapping):
        return [f"{label}: properties must be an object, not {type(props).__name__}"]
    if geometry is not None and not isinstance(geometry, Mapping):
        return [f"{label}: geometry must be an object or null, not {type(geometry).__name__}"]
    problems = []
    for key, value in (props or {}).items():
        if key in TEXT_PROPERTIES and value is not None and (
                isinstance(value, bool) or not isinstance(value, str | int | float)):
            problems.append(f"{label}: {key} must be text or a number, "
                            f"not {type(value).__name__}")
        elif (isinstance(value, str) and not _unicode(value)) or not _unicode(str(key)):
            problems.append(f"{label}: {key!r} is not valid Unicode text")
    if geometry and geometry.get("type") == "Point" \
            and not isinstance(geometry.get("coordinates"), list):
        problems.append(f"{label}: coordinates must be a list [lon, lat]")
    return problems


def _target_edits(targets: Any, problems: list[str]) -> list[Edit]:
    """The radius and target edits of the collection's ``targets``; problems appended."""
    if targets is None:
        return []
    if not isinstance(targets, Mapping):
        problems.append(f"targets must be an object, not {type(targets).__name__}")
        return []
    edits = []
    for key, table in targets.items():
        if not isinstance(table, Mapping) or not _unicode(str(key)):
            problems.append(f"targets: {key!r} must be valid text mapped to an object with "
                            "radius_m / target_share")
            continue
        if "radius_m" in table:
            edits.append(Edit(kind="radius", category=str(key), value=_number(table["radius_m"])))
        if "target_share" in table:
            edits.append(Edit(kind="target", category=str(key),
                              value=_number(table["target_share"])))
    return edits


def _point_edit(props: Mapping[str, Any], geometry: Mapping[str, Any] | None,
                baseline: Collection[str]) -> Edit:
    """The add, move or capacity edit of a Point feature (coordinates in its ``crs``)."""
    coordinates = (geometry or {}).get("coordinates") or [None, None]
    lon, lat = (_number(coordinates[0]), _number(coordinates[1])) if len(coordinates) >= 2 \
        else (None, None)
    crs = str(props.get("crs") or "wgs84").lower()
    if crs in INPUT_CRS and crs != "wgs84" and _finite(lon) and _finite(lat):
        converted = to_wgs84(np.array([lon]), np.array([lat]), crs)
        lon, lat = float(converted[0][0]), float(converted[1][0])
    facility_id = str(props.get("id", "")).strip()
    kind = str(props.get("action") or ("move" if facility_id in baseline else "add"))
    return Edit(kind=kind, facility_id=facility_id, category=str(props.get("category") or ""),
                lon=lon, lat=lat, capacity=_number(props.get("capacity")),
                name=str(props.get("name") or ""), subtype=str(props.get("subtype") or ""),
                address=str(props.get("address") or ""))


def baseline_capacities(facilities: pd.DataFrame) -> dict[str, float]:
    """Facility id → capacity: what :func:`scenario_from_geojson` tells moves from additions
    and capacity changes with."""
    return dict(zip(facilities["id"], facilities["capacity"], strict=True))


def _capacity_changed(new: float | None, old: float | None) -> bool:
    if new is None:
        return False
    if old is None or (isinstance(old, float) and math.isnan(old)):
        return True
    return not math.isclose(new, float(old))


def scenario_from_geojson(data: Mapping[str, Any], *, baseline: Mapping[str, float],
                          source: str = "scenario") -> Scenario:
    """Read the scenario exchange format (see the module docstring).

    ``baseline`` maps each baseline facility id to its capacity (NaN when unknown). A Point
    feature whose ``id`` is there moves that facility (its ``capacity``, when given and
    different, becomes a capacity edit too); any other Point feature adds a planned facility.
    ``action`` may say so explicitly ("add", "move", "capacity", "close").

    Raises
    ------
    InputError
        When the document is not such a FeatureCollection, naming the feature; when a member
        has the wrong JSON type; when the name is empty or too long for the store
        (:func:`geo.data.store.text_problems`); when text is not valid Unicode.
    """
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection" \
            or not isinstance(data.get("features"), list):
        raise_if_problems(["not a GeoJSON FeatureCollection"], context=source)
    name = data.get("name")
    name = "scenario" if name is None or name == "" else name
    description = data.get("description")
    description = "" if description is None else description
    problems, edits = text_problems(name, description), []
    for number, feature in enumerate(data["features"], start=1):
        found = _feature_problems(number, feature)
        if found:
            problems += found
            continue
        props, geometry = feature.get("properties") or {}, feature.get("geometry")
        action = str(props.get("action") or "")
        if action == "close":
            edits.append(Edit(kind="close", facility_id=str(props.get("id", "")).strip()))
        elif geometry and geometry.get("type") == "Point":
            edit = _point_edit(props, geometry, baseline)
            edits.append(replace(edit, capacity=None) if edit.kind == "move" else edit)
            if edit.kind == "move" and _capacity_changed(edit.capacity,
                                                         baseline.get(edit.facility_id)):
                edits.append(Edit(kind="capacity", facility_id=edit.facility_id,
                                  capacity=edit.capacity))
        else:
            problems.append(f"feature {number}: neither a Point feature nor an "
                            f'{{"action": "close", "id": ...}} feature')
    edits += _target_edits(data.get("targets"), problems)
    raise_if_problems(problems, context=source)
    return Scenario(name=name.strip(), description=description, edits=tuple(edits))


def _facility_feature(row: Mapping[str, Any], action: str) -> dict[str, Any]:
    props = {key: row.get(key) for key in FACILITY_FIELDS}
    capacity = props.get("capacity")
    props["capacity"] = None if capacity is None or pd.isna(capacity) else float(capacity)
    props["crs"] = "wgs84"
    props["action"] = action
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": [round(float(row["lon"]), 8),
                                                          round(float(row["lat"]), 8)]}}


def scenario_to_geojson(scenario: Scenario, *, facilities_after: pd.DataFrame) -> dict:
    """The scenario in the exchange format; facility fields come from ``facilities_after``
    (the result of :func:`apply_scenario`), so an added or moved facility is written as it ends
    up. Radius and target overrides go to ``targets``."""
    rows = facilities_after.set_index("id", drop=False)
    features, targets, done = [], {}, set()
    for edit in scenario.edits:
        if edit.kind == "close":
            features.append({"type": "Feature", "geometry": None,
                             "properties": {"action": "close", "id": edit.facility_id}})
        elif edit.kind in ("add", "move", "capacity") and edit.facility_id not in done:
            done.add(edit.facility_id)
            kinds = {e.kind for e in scenario.edits if e.facility_id == edit.facility_id}
            action = "add" if "add" in kinds else "move" if "move" in kinds else "capacity"
            # a moved facility's changed capacity rides along in its fields
            features.append(_facility_feature(rows.loc[edit.facility_id].to_dict(), action))
        elif edit.kind == "radius":
            targets.setdefault(edit.category, {})["radius_m"] = edit.value
        elif edit.kind == "target":
            targets.setdefault(edit.category, {})["target_share"] = edit.value
    document = {"type": "FeatureCollection", "name": scenario.name,
                "description": scenario.description, "features": features}
    if targets:
        document["targets"] = targets
    return document


def evaluate(scenario: Scenario, *, baseline: CoverageResult, facilities: gpd.GeoDataFrame,
             targets: Targets, area: shapely.Geometry | None = None,
             ) -> tuple[CoverageResult, gpd.GeoDataFrame, Targets]:
    """The scenario's coverage, facilities and targets: only the categories it edits are
    recomputed from ``baseline`` (computed from ``facilities`` and ``targets``).

    ``area`` is where facilities may be placed (EPSG:4326); by default
    :func:`geo.data.area.placement_area` of the baseline's streets, which callers may compute once.

    Raises
    ------
    InputError
        When an edit is invalid (see :func:`apply_scenario`).
    """
    if area is None:
        area = placement_area(baseline.boundaries, targets)
    after, new_targets = apply_scenario(scenario, facilities=facilities, targets=targets,
                                        area=area)
    edited = edited_categories(scenario, facilities)
    touched = [c for c in baseline.categories if c in edited] + sorted(
        edited - set(baseline.categories))
    result = recompute(baseline, after, new_targets, categories=touched)
    return result, after, new_targets
