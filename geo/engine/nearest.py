"""The per-cell "nearest facility" frame, whatever measured the distances (straight lines in
:mod:`geo.engine.coverage`, walks along a network in :mod:`geo.engine.network`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["nearest_frame"]


def nearest_frame(index: pd.Index, facilities: pd.DataFrame, distance: np.ndarray,
                  position: np.ndarray) -> pd.DataFrame:
    """DataFrame on ``index``: ``distance_m`` (metres, inf for none), and ``nearest_id`` and
    ``nearest_name`` of the facility at ``position`` in ``facilities`` (None where the position
    is -1: no facility)."""
    out = pd.DataFrame(index=index)
    out["distance_m"] = distance
    reached = position >= 0
    for column, field in (("nearest_id", "id"), ("nearest_name", "name")):
        picked = np.full(len(index), None, dtype=object)
        picked[reached] = facilities[field].to_numpy(dtype=object)[position[reached]]
        out[column] = picked
    return out
