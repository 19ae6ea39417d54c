"""The headline figures of Changning's 2023 mid-term review, next to what the loaded data holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

__all__ = ["SEED_FIGURES", "SeedFigure", "seed_comparison"]


def _of(category: str, subtype: str | None = None) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def select(facilities: pd.DataFrame) -> pd.DataFrame:
        rows = facilities[(facilities["category"] == category)
                          & (facilities["status"] != "closed")]
        return rows if subtype is None else rows[rows["subtype"] == subtype]
    return select


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame[column].astype(str).str.strip().str.lower().isin(["true", "1", "yes", "是"])


@dataclass(frozen=True)
class SeedFigure:
    """One figure the review reports, and how to count it in a facilities frame."""

    key: str
    label_zh: str
    label_en: str
    value: int
    count: Callable[[pd.DataFrame], float]


SEED_FIGURES = (
    SeedFigure("charging_piles", "充电桩（个）", "Charging piles", 932,
               lambda f: _of("charger")(f)["capacity"].sum()),
    SeedFigure("fast_piles", "其中快充桩（个）", "of which fast piles", 104,
               lambda f: _of("charger", "fast")(f)["capacity"].sum()),
    SeedFigure("smart_markets", "智慧菜场（家）", "Smart markets", 4,
               lambda f: len(_of("market", "smart")(f))),
    SeedFigure("smart_sports", "智慧化改造体育场馆和市民球场（家）",
               "Smart-renovated sports venues and courts", 10,
               lambda f: len(_of("sports", "smart_venue")(f))),
    SeedFigure("elder_sport_homes", "长者运动健康之家（家）", "Elder sport-health homes", 6,
               lambda f: len(_of("sports", "elder_sport_home")(f))),
    SeedFigure("networked_parking", "联网公共停车场（个）", "Networked public car parks", 120,
               lambda f: int(_flag(_of("parking")(f), "networked").sum())),
    SeedFigure("ai_canteens", "社区AI长者食堂（家）", "Community AI elderly canteens", 1,
               lambda f: len(_of("canteen", "ai_canteen")(f))),
)


def seed_comparison(facilities: pd.DataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """One row per headline figure of the review: ``figure`` (label in ``lang``), ``seed`` (the
    review's number, mid-2023) and ``loaded`` (the same count in ``facilities``, closed ones
    excluded)."""
    return pd.DataFrame([{
        "figure": fig.label_en if lang == "en" else fig.label_zh,
        "seed": fig.value,
        "loaded": float(fig.count(facilities)),
    } for fig in SEED_FIGURES])
