"""The CLI's JSON output of a coverage result, and the number formatting its JSON shapes share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.engine.result import CoverageResult

__all__ = ["coverage_to_dict", "json_number", "json_share", "population_block"]


def json_number(value: object, digits: int = 6) -> float | int | None:
    """An integral number as int, another as a float rounded to ``digits``; None for missing."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2**53 else round(number, digits)


def json_share(value: object) -> float | None:
    """A share (0–1) as a float rounded to 6 digits; None for missing."""
    number = json_number(value)
    return None if number is None else float(number)


def coverage_to_dict(result: CoverageResult) -> dict:
    """The CLI's JSON shape: ``{"resolution", "distance", "detour_factor",
    "unreachable_cells", "population": {"basis", "input", "assigned", "outside"}, ["elderly":
    {"input", "assigned", "outside"}], "streets": [{"code", "name", "cells", "population",
    "unreachable_cells", "coverage": {category: {...}}}]}``; unknown numbers are None. Each
    category's ``covered_elderly_share`` is there when 60+ counts are known."""
    elderly = result.population is not None and result.population.elderly is not None
    unreachable = result.unreachable
    streets = []
    for code, rows in result.streets.groupby("code", sort=True):
        first = rows.iloc[0]
        streets.append({
            "code": code,
            "name": first["name"],
            "cells": int(first["cells"]),
            "population": json_number(first["population"]),
            "unreachable_cells": 0 if unreachable is None else int(unreachable.get(code, 0)),
            "coverage": {row["category"]: _category(row, elderly=elderly)
                         for _, row in rows.iterrows()},
        })
    out = {"resolution": result.resolution, "distance": result.distance,
           "detour_factor": json_number(result.detour_factor) if result.network is None
           else None,
           "unreachable_cells": result.unreachable_cells,
           "population": population_block(result)}
    if elderly:
        people = result.population
        out["elderly"] = {"input": json_number(people.elderly_input),
                          "assigned": json_number(people.elderly_assigned),
                          "outside": json_number(people.elderly_outside)}
    out["streets"] = streets
    return out


def population_block(result: CoverageResult) -> dict:
    """``{"basis": "residents"|"area", "input", "assigned", "outside"}``: the residents given,
    those on the grid's cells and those on none (None for basis "area")."""
    people = result.population
    basis = result.basis
    if people is None or basis == "area":
        return {"basis": basis, "input": None, "assigned": None, "outside": None}
    return {"basis": basis, "input": json_number(people.input),
            "assigned": json_number(people.assigned), "outside": json_number(people.outside)}


def _category(row: pd.Series, *, elderly: bool) -> dict:
    out = {
        "radius_m": json_number(row["radius_m"]),
        "facilities": int(row["facilities"]),
        "covered_cells": int(row["covered_cells"]),
        "covered_cell_share": json_share(row["covered_cell_share"]),
        "covered_population_share": json_share(row["covered_population_share"]),
    }
    if elderly:
        out["covered_elderly_share"] = json_share(row["covered_elderly_share"])
    out.update({
        "target_share": json_share(row["target_share"]),
        "judged_on": row["judged_on"],
        "meets_target": None if row["meets_target"] is pd.NA else bool(row["meets_target"]),
    })
    return out
