"""The targets an administrator sets in the app: a radius and a target share per category,
kept in the state database over the targets file's values (``data/targets.toml`` stays the
reviewed default, with its sources); changing or clearing one requires ``targets.edit`` and is
audited."""

from __future__ import annotations

import math
from pathlib import Path

from geo.data.audit import StateTables, checked, utc_now
from geo.data.io import read_targets
from geo.data.sqlite import write_transaction
from geo.model.access import Action, Principal
from geo.model.config import TARGETS_FILE
from geo.model.errors import InputError, raise_if_problems
from geo.model.targets import Targets

__all__ = ["MAX_RADIUS_M", "MIN_RADIUS_M", "TargetStore", "current_targets", "with_overrides"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS target_overrides (
        category TEXT PRIMARY KEY,
        radius_m REAL NOT NULL,
        target_share REAL NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    )""",
)
#: The radii an administrator may set, in metres.
MIN_RADIUS_M, MAX_RADIUS_M = 50.0, 5000.0


class TargetStore(StateTables):
    """The targets set in the app, in the state database at ``path`` (default
    :data:`geo.model.config.STATE_DB`)."""

    SCHEMA = _SCHEMA

    def overrides(self) -> dict[str, tuple[float, float, str]]:
        """Category → (radius in metres, target share 0–1, "who at when")."""
        with self._connect() as conn:
            rows = conn.execute("SELECT category, radius_m, target_share, updated_by, "
                                "updated_at FROM target_overrides ORDER BY category").fetchall()
        return {r[0]: (float(r[1]), float(r[2]), f"{r[3]} at {r[4]}") for r in rows}

    def applied(self, targets: Targets) -> Targets:
        """``targets`` with the values set in the app (see :func:`with_overrides`)."""
        return with_overrides(targets, self.overrides())

    def set(self, who: Principal, category: str, *, radius_m: float, target_share: float,
            known: Targets) -> None:
        """Set the radius (metres, 50–5000) and target share (0–1) of ``category``.

        Raises
        ------
        Refused
            When ``who`` may not edit targets; nothing is changed, an audit line says why.
        InputError
            When the category is not one of ``known`` or a value is out of range.
        """
        checked(self.audit, who, Action.TARGETS, object=f"target {category!s:.100}")
        problems = []
        if category not in known:
            problems.append(f"category {category!r} is not one of {', '.join(known.keys())}")
        if not (math.isfinite(radius_m) and MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M):
            problems.append(f"radius {radius_m!r} m: from {MIN_RADIUS_M:g} to {MAX_RADIUS_M:g}")
        if not (math.isfinite(target_share) and 0 <= target_share <= 1):
            problems.append(f"target share {target_share!r}: from 0 to 1")
        raise_if_problems(problems, context="target")
        with self._connect() as conn, write_transaction(conn):
            conn.execute("INSERT INTO target_overrides VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT(category) DO UPDATE SET radius_m = excluded.radius_m, "
                         "target_share = excluded.target_share, "
                         "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                         (category, float(radius_m), float(target_share), utc_now(), who.name))
            before = known[category]
            self.audit.append(who, Action.TARGETS.value, object=f"target {category}",
                              summary=f"radius {before.radius_m:g} → {radius_m:g} m, share "
                                      f"{before.target_share:.0%} → {target_share:.0%}",
                              conn=conn)

    def clear(self, who: Principal, category: str) -> None:
        """Go back to the targets file's values for ``category``."""
        checked(self.audit, who, Action.TARGETS, object=f"target {category!s:.100}")
        with self._connect() as conn, write_transaction(conn):
            cursor = conn.execute("DELETE FROM target_overrides WHERE category = ?",
                                  (category,))
            if cursor.rowcount != 1:
                raise InputError(f"target {category!r}: not set in the app")
            self.audit.append(who, Action.TARGETS.value, object=f"target {category}",
                              summary="back to the targets file", conn=conn)


def with_overrides(targets: Targets, overrides: dict[str, tuple[float, float, str]]
                   ) -> Targets:
    """``targets`` with ``overrides`` (category → radius in metres, share, "who at when";
    see :meth:`TargetStore.overrides`) applied, each changed source saying who set it and
    when; categories no longer in ``targets`` are left out."""
    result = targets
    for category, (radius, share, stamp) in overrides.items():
        if category in targets:
            result = result.with_values(radii={category: radius}, shares={category: share},
                                        source=f"set in the app by {stamp}")
    return result


def current_targets(path: str | Path = TARGETS_FILE, *, state: str | Path | None = None
                    ) -> Targets:
    """The targets file's targets with the values an administrator set in the app."""
    return TargetStore(state).applied(read_targets(path))
