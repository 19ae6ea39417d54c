"""How a result was measured, in words a report can print: walks along the network or straight
lines (times the detour factor), and shares of residents or of area. Chinese and English."""

from __future__ import annotations

from geo.engine.result import CoverageResult

__all__ = ["distance_words", "gain_words", "share_words"]


def distance_words(result: CoverageResult) -> tuple[str, str]:
    """(zh, en) of how distances were measured."""
    if result.network is not None:
        return "沿路网步行距离", "walk along the street network"
    if result.detour_factor != 1:
        factor = f"{result.detour_factor:g}"
        return f"直线距离 × 绕行系数 {factor}", f"straight line × detour factor {factor}"
    return "直线距离", "straight line"


def share_words(result: CoverageResult) -> tuple[str, str]:
    """(zh, en) of what the covered shares are shares of."""
    if result.basis == "area":
        return "覆盖面积（无人口数据）", "covered area (no population data)"
    return "覆盖人口", "covered residents"


def gain_words(result: CoverageResult) -> tuple[str, str]:
    """(zh, en) of what a scenario's gains count: residents, or km² without population."""
    if result.basis == "area":
        return "新增覆盖面积 km²", "newly covered area km²"
    return "新增覆盖人口", "newly covered residents"
