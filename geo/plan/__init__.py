"""The planning questions asked of a coverage result: gaps (``gaps``), what-if scenarios
(``scenario``, ``scenario_io``, ``scenario_scope``), site suggestions (``suggest``), comparisons
(``compare``), display tables (``tables``), the seed review's figures (``seed``), the
export frames and the CLI's JSON (``export``, ``json_output``).

The top of ``geo``: may import :mod:`geo.data`, :mod:`geo.engine` and :mod:`geo.model`.

Every public name is importable from the package (``from geo.plan import ...``); it is
loaded from its module on first use.
"""

from geo._lazy import lazy_api

#: Module → the public names it defines.
_MODULES = {
    "reach": (
        "ISOCHRONE_COLUMNS",
        "isochrones",
    ),
    "wording": (
        "distance_words",
        "gain_words",
        "share_words",
    ),
    "compare": (
        "GAIN_COLUMNS",
        "changed_cells",
        "compare_streets",
        "newly_covered_total",
        "side_by_side",
        "gain_columns",
    ),
    "export": (
        "CELL_COLUMNS",
        "COVERAGE_COLUMNS",
        "cells_frame",
        "coverage_table",
        "facilities_frame",
        "gaps_frame",
    ),
    "gaps": (
        "BLOCK_COLUMNS",
        "gap_blocks",
        "gap_cells",
        "missing_categories",
        "streets_below_target",
    ),
    "json_output": (
        "coverage_to_dict",
        "json_number",
        "json_share",
        "population_block",
    ),
    "scenario": (
        "EDIT_KINDS",
        "Edit",
        "Scenario",
        "apply_scenario",
        "baseline_capacities",
        "edited_categories",
        "evaluate",
        "free_id",
        "renamed",
        "scenario_from_geojson",
        "scenario_to_geojson",
    ),
    "scenario_io": (
        "read_scenario",
        "scenario_from_json",
    ),
    "scenario_scope": (
        "DISTRICT_EDITS",
        "save_scope",
        "touched_streets",
    ),
    "seed": (
        "SEED_FIGURES",
        "SeedFigure",
        "seed_comparison",
    ),
    "suggest": (
        "MAX_SITES",
        "SITE_COLUMNS",
        "coverage_matrix",
        "sites_to_dict",
        "suggest_sites",
    ),
    "tables": (
        "category_cells",
        "district_table",
        "facility_counts",
        "street_facilities",
        "street_profile",
        "street_table",
        "streets_table",
        "targets_table",
    ),
}

__all__, __getattr__, __dir__ = lazy_api(__name__, _MODULES)
