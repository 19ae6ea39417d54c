"""Colours and labels shared by the map layers."""

from __future__ import annotations

__all__ = [
    "CATEGORY_COLOURS",
    "CHANGE_COLOURS",
    "COVERED_COLOUR",
    "DISTANCE_BANDS",
    "GAP_COLOUR",
    "STATUS_STYLE",
    "category_colour",
    "distance_colour",
]

CATEGORY_COLOURS = {
    "charger": "#1b9e77",
    "market": "#d95f02",
    "sports": "#7570b3",
    "canteen": "#e7298a",
    "parking": "#4a6fa5",
}
DEFAULT_COLOUR = "#555555"
COVERED_COLOUR = "#2c7fb8"
GAP_COLOUR = "#e31a1c"
#: Cells whose coverage a scenario changed.
CHANGE_COLOURS = {"gained": "#1a9850", "lost": "#67001f"}
#: Marker look by facility status: fill opacity and dash of the outline.
STATUS_STYLE = {
    "existing": {"fill_opacity": 0.9, "dash_array": None},
    "planned": {"fill_opacity": 0.25, "dash_array": "4 3"},
    "closed": {"fill_opacity": 0.0, "dash_array": "1 3"},
}
#: Distance bands as multiples of the radius, from near (blue) to far (red).
DISTANCE_BANDS = ((0.5, "#0868ac"), (1.0, "#43a2ca"), (1.5, "#fdae61"), (2.0, "#f46d43"),
                  (float("inf"), "#d73027"))


def category_colour(category: str) -> str:
    """The marker colour of a facility category."""
    return CATEGORY_COLOURS.get(category, DEFAULT_COLOUR)


def distance_colour(distance_m: float, radius_m: float) -> str:
    """Fill colour of a cell by its distance to the nearest facility, relative to the radius."""
    ratio = distance_m / radius_m
    return next(colour for limit, colour in DISTANCE_BANDS if ratio <= limit)


