"""Reading scenario files: the GeoJSON exchange format of :mod:`geo.plan.scenario`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geo.data.io import existing_file
from geo.model.errors import InputError
from geo.plan.scenario import Scenario, scenario_from_geojson

__all__ = ["read_scenario", "scenario_from_json"]


def _no_constant(name: str) -> Any:
    """``json.loads``' hook for ``NaN``, ``Infinity`` and ``-Infinity``, which JSON lacks."""
    raise ValueError(f"{name} is not a JSON number")


def scenario_from_json(data: bytes | str, *, baseline: Mapping[str, float],
                       source: str) -> Scenario:
    """A scenario from the text of a GeoJSON exchange file (bytes in UTF-8, BOM allowed); see
    :func:`geo.plan.scenario.scenario_from_geojson` for ``baseline``.

    Raises
    ------
    InputError
        Naming ``source``: not UTF-8, not JSON (also ``NaN``/``Infinity``, integers of more than
        4300 digits, nesting too deep for the parser), or not the scenario format.
    """
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        document = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:  # UnicodeDecodeError and json.JSONDecodeError are ValueErrors
        raise InputError(f"{source}: not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise InputError(f"{source}: not valid JSON (nested too deeply)") from exc
    return scenario_from_geojson(document, baseline=baseline, source=source)


def read_scenario(path: str | Path, *, baseline: Mapping[str, float]) -> Scenario:
    """Read a scenario GeoJSON file (see :mod:`geo.plan.scenario`); ``baseline`` maps the baseline
    facility ids to their capacities, to tell moves from additions.

    Raises
    ------
    InputError
        Naming the file: missing, unreadable, not JSON, or not the scenario format.
    """
    what = "scenario file"
    path = existing_file(path, what=what)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot be read ({exc.strerror or exc})") from exc
    return scenario_from_json(data, baseline=baseline, source=f"{what} {path}")
