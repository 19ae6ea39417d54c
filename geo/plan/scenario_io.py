"""Reading scenario files: the GeoJSON exchange format of :mod:`geo.plan.scenario`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from geo.data.io import existing_file
from geo.model.errors import InputError
from geo.plan.scenario import Scenario, scenario_from_geojson

__all__ = ["read_scenario"]


def read_scenario(path: str | Path, *, baseline: Mapping[str, float]) -> Scenario:
    """Read a scenario GeoJSON file (see :mod:`geo.plan.scenario`); ``baseline`` maps the baseline
    facility ids to their capacities, to tell moves from additions.

    Raises
    ------
    InputError
        Naming the file: missing, not JSON, or not the scenario format.
    """
    what = "scenario file"
    path = existing_file(path, what=what)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {path}: not valid JSON ({exc})") from exc
    return scenario_from_geojson(data, baseline=baseline, source=f"{what} {path}")
