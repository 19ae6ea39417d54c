"""The domain model every other part of ``geo`` shares: paths and defaults (``config``),
the one error type (``errors``), the coverage targets (``targets``) and who may do what
(``access``).

It imports nothing else of ``geo``: ``engine``, ``data`` and ``plan`` build on it.

Every public name is importable from the package (``from geo.model import ...``); it is
loaded from its module on first use.
"""

from geo._lazy import lazy_api

#: Module → the public names it defines.
_MODULES = {
    "access": (
        "ROLES",
        "Action",
        "Principal",
        "Refused",
        "parse_role",
        "refusal",
        "require",
        "shell_user",
        "unrestricted",
    ),
    "config": (
        "BOUNDARIES_DIR",
        "CATEGORIES",
        "CHANGNING_MAX_COLUMNS",
        "CHANGNING_MAX_ROWS",
        "CHANGNING_MAX_UNPACKED_MB",
        "CHANGNING_MAX_UPLOAD_MB",
        "DATASET_DB",
        "DATASET_FILE",
        "DATASET_VERSIONS_KEPT",
        "DATA_DIR",
        "DEFAULT_RESOLUTION",
        "DEMO_BOUNDARIES",
        "DEMO_NETWORK",
        "DEMO_POPULATION",
        "DEMO_FACILITY_FILES",
        "FACILITIES_DIR",
        "FACILITY_STATUSES",
        "INPUT_CRS",
        "MAX_RESOLUTION",
        "METRIC_CRS",
        "MIN_RESOLUTION",
        "REPORT_FORMATS",
        "ROOT",
        "SCENARIO_DB",
        "SESSION_MINUTES",
        "SIGNIN_LOCK_MINUTES",
        "SIGNIN_MAX_FAILURES",
        "STATE_DB",
        "STATE_DIR",
        "STORAGE_CRS",
        "TARGETS_FILE",
        "TEMP_DIR",
    ),
    "errors": (
        "InputError",
        "raise_if_problems",
    ),
    "targets": (
        "WEIGHTS",
        "CategoryTarget",
        "Targets",
        "parse_radius_overrides",
        "targets_from_mapping",
    ),
}

__all__, __getattr__, __dir__ = lazy_api(__name__, _MODULES)
