"""Everything that reads, checks, converts and stores: files (``io``, ``export_io``,
``network_io``), the importer and its checks (``importer``, ``schema``, ``area``), coordinate
systems (``coords``, ``shift``), geocoding and OpenStreetMap (``geocode`` with
``geocode_providers``, ``osm``, ``osm_fetch`` with ``osm_fetch_http``), the working dataset
and the scenario store (``dataset``, ``dataset_io``, ``store``).

Imports :mod:`geo.engine` and :mod:`geo.model` only.

Every public name is importable from the package (``from geo.data import ...``); it is
loaded from its module on first use.
"""

from geo._lazy import lazy_api

#: Module → the public names it defines.
_MODULES = {
    "area": (
        "placement_area",
        "study_area",
    ),
    "coords": (
        "CRS_NAMES",
        "bd09_to_gcj02",
        "bd09_to_wgs84",
        "gcj02_to_bd09",
        "gcj02_to_wgs84",
        "out_of_china",
        "to_wgs84",
        "wgs84_to_bd09",
        "wgs84_to_gcj02",
    ),
    "dataset": (
        "DEMO",
        "FACILITY_MODES",
        "Dataset",
        "demo_dataset",
        "merge_facilities",
        "prefix_ids",
        "with_boundaries",
        "with_facilities",
    ),
    "dataset_io": (
        "dataset_version",
        "read_dataset",
        "reset_dataset",
        "write_dataset",
    ),
    "export_io": (
        "write_csv",
        "write_geojson",
        "write_gpkg",
        "write_xlsx",
    ),
    "geocode": (
        "AMAP_RATE_LIMIT_CODES",
        "GEOCODE_CACHE",
        "GEOCODE_URL_VARIABLE",
        "GEOCODE_USER_AGENT",
        "KEY_VARIABLES",
        "MIN_INTERVAL_S",
        "PROVIDER_NAMES",
        "STATUSES",
        "GeocodeCache",
        "GeocodeResult",
        "Geocoder",
        "geocoder_for",
        "normalise_address",
        "provider_from_name",
    ),
    "geocode_providers": (
        "PROVIDERS",
        "TIANDITU_NOT_FOUND",
        "AMapProvider",
        "NominatimProvider",
        "Provider",
        "ProviderError",
        "RateLimited",
        "TiandituProvider",
        "server_options",
    ),
    "importer": (
        "CATEGORY_ALIASES",
        "FIELD_ALIASES",
        "GEOCODED_SOURCE",
        "REASONS",
        "ImportReport",
        "boundary_problems",
        "import_facilities",
        "parse_crs",
        "parse_mapping",
        "suggest_mapping",
    ),
    "io": (
        "BOUNDARY_FIELD_ALIASES",
        "boundary_field_defaults",
        "existing_file",
        "read_boundaries",
        "read_demo",
        "read_facilities",
        "read_facility_file",
        "read_table",
        "read_targets",
        "read_vector_file",
        "write_import",
    ),
    "network_io": (
        "ENDPOINT_DECIMALS",
        "GRAPHML_SUFFIXES",
        "VECTOR_SUFFIXES",
        "network_from_graph",
        "read_edges_file",
        "read_graphml",
        "read_network",
    ),
    "osm": (
        "OSM_CLASS_CATEGORIES",
        "osm_facilities",
    ),
    "osm_fetch": (
        "BOUNDARIES_FILE",
        "CHANGNING_RELATIONS",
        "FACILITIES_FILE",
        "OSM_SOURCE",
        "OVERPASS_URL",
        "POI_TAGS",
        "OsmUnit",
        "boundaries_from_overpass",
        "fetch_osm",
        "overpass_query_boundaries",
        "overpass_query_pois",
        "pois_from_overpass",
    ),
    "osm_fetch_http": (
        "OVERPASS_USER_AGENT",
        "RETRY_STATUSES",
        "FetchError",
        "fetch_overpass",
    ),
    "schema": (
        "BOUNDARY_COLUMNS",
        "FACILITY_COLUMNS",
        "normalize_boundaries",
        "normalize_facilities",
    ),
    "shift": (
        "shift_bounds_to_gcj02",
        "shift_geometries_to_gcj02",
    ),
    "store": (
        "BUSY_TIMEOUT_S",
        "MAX_NAME_LENGTH",
        "ScenarioStore",
        "StoreError",
        "StoredScenario",
        "checked_name",
        "prepare_folder",
        "sqlite_connection",
        "text_problems",
    ),
}

__all__, __getattr__, __dir__ = lazy_api(__name__, _MODULES)
