"""The CLI's JSON output of a coverage result, and the number formatting its JSON shapes share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.engine.result import CoverageResult

__all__ = ["coverage_to_dict", "json_number", "json_share"]


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
    """The CLI's JSON shape: ``{"resolution", "streets": [{"code", "name", "cells",
    "population", "coverage": {category: {...}}}]}``; unknown numbers are None."""
    streets = []
    for code, rows in result.streets.groupby("code", sort=True):
        first = rows.iloc[0]
        streets.append({
            "code": code,
            "name": first["name"],
            "cells": int(first["cells"]),
            "population": json_number(first["population"]),
            "coverage": {
                row["category"]: {
                    "radius_m": json_number(row["radius_m"]),
                    "facilities": int(row["facilities"]),
                    "covered_cells": int(row["covered_cells"]),
                    "covered_cell_share": json_share(row["covered_cell_share"]),
                    "covered_population_share": json_share(row["covered_population_share"]),
                    "target_share": json_share(row["target_share"]),
                    "meets_target": None if row["meets_target"] is pd.NA
                    else bool(row["meets_target"]),
                }
                for _, row in rows.iterrows()
            },
        })
    return {"resolution": result.resolution, "streets": streets}
