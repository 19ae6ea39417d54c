"""The grid and the distances: the H3 grid of the streets (``hexgrid``), the exact nearest
facility of every cell by blocks of cells or along a walking network (``incremental``,
``network``, ``nearest``), the coverage run and its result (``coverage``, ``result``), the
per-street sums (``sums``); the same run on a dask cluster (``dask_engine``).

Imports only :mod:`geo.model`.

Every public name is importable from the package (``from geo.engine import ...``); it is
loaded from its module on first use.
"""

from geo._lazy import lazy_api

#: Module → the public names it defines.
_MODULES = {
    "coverage": (
        "cell_coverage",
        "checked_run",
        "compute_coverage",
        "coverage_from_nearest",
        "nearest_facility",
        "recompute",
    ),
    "dask_engine": (
        "HALO_MARGIN_M",
        "Partition",
        "choose_parent_resolution",
        "compute_coverage_dask",
        "dask_client",
        "plan_partitions",
    ),
    "hexgrid": (
        "Grid",
        "cell_area_km2",
        "cell_areas_km2",
        "cell_polygons",
        "cells_area_km2",
        "cells_of_points",
        "cells_outline",
        "metric_xy",
        "spread_over_cells",
        "spread_population",
        "street_cells",
        "street_grid",
        "validate_resolution",
    ),
    "incremental": (
        "CategoryState",
        "GridNearest",
        "grid_snap",
        "cell_coverage_frame",
        "nearest_by_category",
        "nearest_in_blocks",
        "nearest_on_grid",
    ),
    "nearest": (
        "nearest_frame",
    ),
    "network": (
        "DEFAULT_MAX_SNAP_M",
        "SNAP_DECIMALS",
        "Segments",
        "Snap",
        "WalkingNetwork",
        "build_network",
        "snap_points",
        "snap_xy",
        "to_metric",
    ),
    "population": (
        "BASIS_AREA",
        "BASIS_RESIDENTS",
        "CellPopulation",
        "PopulationLayer",
        "boundary_population",
        "layer_population",
    ),
    "result": (
        "CoverageResult",
        "Deferred",
        "active_facilities",
        "categories_present",
    ),
    "walk": (
        "cells_by_edge",
        "cells_reached",
        "first_of_ties",
        "nearest_on_network",
        "network_nearest",
        "node_distances",
        "seeded_distances",
        "source_arcs",
        "walk_to_cells",
        "walks_within",
    ),
    "walk_edits": (
        "WalkCategoryState",
        "category_state",
    ),
    "sums": (
        "SHARE_TOLERANCE",
        "district_summary",
        "grid_street_coverage",
        "street_coverage",
    ),
}

__all__, __getattr__, __dir__ = lazy_api(__name__, _MODULES)
