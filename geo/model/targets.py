"""Coverage targets per category: service radius (metres) and target share of residents."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from geo.model.errors import raise_if_problems

__all__ = [
    "WEIGHTS",
    "CategoryTarget",
    "Targets",
    "parse_radius_overrides",
    "targets_from_mapping",
]

#: What a category's target share is a share of: all residents, or those aged 60 and over.
WEIGHTS = ("residents", "elderly")


@dataclass(frozen=True)
class CategoryTarget:
    """The target for one facility category.

    ``radius_m`` is a walk in metres (along the network, or a straight line times the detour
    factor); ``target_share`` a share (0–1) of the residents ``weight`` names: "residents" (all)
    or "elderly" (aged 60+, where a population layer gives them; all residents otherwise).
    """

    key: str
    radius_m: float
    target_share: float
    label_zh: str = ""
    label_en: str = ""
    radius_source: str = ""
    target_share_source: str = ""
    weight: str = "residents"

    def label(self, lang: str = "zh") -> str:
        """The category's label in ``lang`` ("zh" or "en"), falling back to its key."""
        text = self.label_zh if lang == "zh" else self.label_en
        return text or self.key

    def bilingual(self) -> str:
        """Chinese and English labels together, e.g. "菜市场 Market"."""
        return " ".join(dict.fromkeys([self.label("zh"), self.label("en")]))


@dataclass(frozen=True)
class Targets:
    """Targets of every known category, plus the default share for categories added later."""

    categories: Mapping[str, CategoryTarget]
    default_share: float = 0.9
    default_share_source: str = ""
    detour_factor: float = 1.0

    def __contains__(self, key: object) -> bool:
        return key in self.categories

    def __getitem__(self, key: str) -> CategoryTarget:
        return self.categories[key]

    def keys(self) -> list[str]:
        """Category keys in file order."""
        return list(self.categories)

    def with_radii(self, radii: Mapping[str, float]) -> Targets:
        """A copy whose radii (metres) are replaced; an unknown category is added with the
        default target share."""
        merged = dict(self.categories)
        for key, radius in radii.items():
            if key in merged:
                merged[key] = replace(merged[key], radius_m=float(radius),
                                      radius_source="overridden by the user")
            else:
                merged[key] = CategoryTarget(
                    key=key, radius_m=float(radius), target_share=self.default_share,
                    radius_source="given by the user",
                    target_share_source=self.default_share_source,
                )
        return replace(self, categories=merged)

    def with_values(self, *, radii: Mapping[str, float], shares: Mapping[str, float],
                    source: str) -> Targets:
        """A copy whose radii (metres) and target shares (0–1) of known categories are
        replaced, their sources set to ``source``."""
        merged = dict(self.categories)
        for key, radius in radii.items():
            merged[key] = replace(merged[key], radius_m=float(radius), radius_source=source)
        for key, share in shares.items():
            merged[key] = replace(merged[key], target_share=float(share),
                                  target_share_source=source)
        return replace(self, categories=merged)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _category_problems(key: str, table: Any, *, default_share: Any) -> list[str]:
    if not isinstance(table, Mapping):
        return [f"[categories.{key}] must be a table"]
    problems = []
    radius = table.get("radius_m")
    if not _is_number(radius) or radius <= 0:
        problems.append(f"[categories.{key}] radius_m must be a positive number of metres, "
                        f"got {radius!r}")
    share = table.get("target_share", default_share)
    if not _is_number(share) or not 0 <= share <= 1:
        problems.append(f"[categories.{key}] target_share must be a number from 0 to 1, "
                        f"got {share!r}")
    weight = table.get("weight", "residents")
    if weight not in WEIGHTS:
        known = ", ".join(map(repr, WEIGHTS))
        problems.append(f"[categories.{key}] weight must be one of {known}, got {weight!r}")
    return problems


def _detour_factor(data: Mapping[str, Any], defaults: Mapping[str, Any]) -> tuple[Any, list[str]]:
    """The straight-line detour factor (top level or ``[defaults]``, default 1.0)."""
    factor = data.get("detour_factor", defaults.get("detour_factor", 1.0))
    if not _is_number(factor) or not 1 <= factor <= 5:
        return 1.0, [f"detour_factor must be a number from 1 to 5 (walk ÷ straight line), "
                     f"got {factor!r}"]
    return factor, []


def targets_from_mapping(data: Mapping[str, Any], *, source: str = "targets") -> Targets:
    """Build :class:`Targets` from the parsed TOML mapping; every problem is listed at once.

    Raises
    ------
    InputError
        When a radius is not a positive number of metres, a share is outside 0–1, or no category
        is defined.
    """
    defaults = data.get("defaults", {}) or {}
    default_share = defaults.get("target_share", 0.9)
    categories = data.get("categories", {})
    problems = []
    if not _is_number(default_share) or not 0 <= default_share <= 1:
        problems.append(f"[defaults] target_share must be a number from 0 to 1, "
                        f"got {default_share!r}")
    if not isinstance(categories, Mapping) or not categories:
        problems.append("no [categories.<name>] table defined")
        categories = {}
    for key, table in categories.items():
        problems += _category_problems(key, table, default_share=default_share)
    detour_factor, detour_problems = _detour_factor(data, defaults)
    raise_if_problems(problems + detour_problems, context=source)
    parsed = {
        key: CategoryTarget(
            key=key,
            radius_m=float(table["radius_m"]),
            target_share=float(table.get("target_share", default_share)),
            label_zh=str(table.get("label_zh", "")),
            label_en=str(table.get("label_en", "")),
            radius_source=str(table.get("radius_source", "")),
            target_share_source=str(
                table.get("target_share_source", defaults.get("target_share_source", ""))),
            weight=str(table.get("weight", "residents")),
        )
        for key, table in categories.items()
    }
    return Targets(categories=parsed, default_share=float(default_share),
                   default_share_source=str(defaults.get("target_share_source", "")),
                   detour_factor=float(detour_factor))


def parse_radius_overrides(items: list[str] | None) -> dict[str, float]:
    """Parse ``CATEGORY=METRES`` strings into a mapping of category to radius in metres.

    Raises
    ------
    InputError
        Naming every item that is not ``CATEGORY=METRES`` with a positive number.
    """
    radii: dict[str, float] = {}
    problems = []
    for item in items or []:
        key, sep, value = item.partition("=")
        try:
            metres = float(value)
        except ValueError:
            metres = math.nan
        if not sep or not key.strip() or not math.isfinite(metres) or metres <= 0:
            problems.append(f"{item!r} is not CATEGORY=METRES with a positive number of metres")
            continue
        radii[key.strip()] = metres
    raise_if_problems(problems, context="--radius")
    return radii
