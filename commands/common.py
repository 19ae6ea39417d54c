"""What the commands share: exit codes, the input options and how they are read (the current
dataset version when no file is given), the output folder, a progress bar, warnings."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd

from geo.data.area import placement_area
from geo.data.dataset import DEMO, Dataset
from geo.data.dataset_store import DatasetStore
from geo.data.io import read_boundaries, read_facilities, read_targets
from geo.engine.network import DEFAULT_MAX_SNAP_M, WalkingNetwork
from geo.engine.population import PopulationLayer
from geo.model.access import Principal, unrestricted
from geo.model.access import shell_user as current_user
from geo.model.config import DATASET_FILE, DEFAULT_RESOLUTION
from geo.model.errors import InputError
from geo.model.targets import Targets, parse_radius_overrides
from geo.plan.scenario import apply_scenario, baseline_capacities
from geo.plan.scenario_io import read_scenario

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_BUG",
    "EXIT_STALE",
    "add_input_options",
    "add_json_format",
    "current_dataset",
    "current_user",
    "inputs",
    "labels_of",
    "output_dir",
    "population_layer",
    "progress_bar",
    "shell",
    "targets_of",
    "walking_network",
    "warn",
]

EXIT_BAD_INPUT = 2
EXIT_STALE = 3
EXIT_BUG = 70


def warn(lines: Mapping[str, int] | list[str]) -> None:
    """Warnings on stderr, one a line (``text: count`` for a mapping)."""
    items = [f"{k}: {v}" for k, v in lines.items()] if isinstance(lines, Mapping) else lines
    for line in items:
        print(f"warning: {line}", file=sys.stderr)


def add_json_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["json"], default="json", help="output format")


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """The options every computing command shares: the inputs and how to read them."""
    parser.add_argument("--boundaries", metavar="PATH",
                        help="street polygons: GeoJSON, GeoPackage or Shapefile, any defined CRS "
                             "(default: the current dataset version's)")
    parser.add_argument("--facilities", metavar="PATH", nargs="+", action="extend",
                        help="facility CSV/GeoJSON/GeoPackage files; may be repeated "
                             "(default: the current dataset version's)")
    parser.add_argument("--resolution", type=int, default=DEFAULT_RESOLUTION,
                        help=f"H3 resolution, 7–12 (default {DEFAULT_RESOLUTION})")
    parser.add_argument("--targets", metavar="PATH",
                        help="targets TOML file (default: data/targets.toml with the targets "
                             "an administrator set in the app)")
    parser.add_argument("--code-field", metavar="F", help="boundary field with the street code")
    parser.add_argument("--name-field", metavar="F", help="boundary field with the street name")
    parser.add_argument("--population-field", metavar="F",
                        help="the residents field: of the --population layer (default "
                             "'population'), else of the boundaries (optional)")
    parser.add_argument("--population", metavar="FILE",
                        help="where residents live: polygons (shared among the cells by area "
                             "of overlap) or points with residents (GeoJSON, GeoPackage, "
                             "Shapefile), or a GeoTIFF population grid; each street's "
                             "population becomes the sum of its cells'")
    parser.add_argument("--elderly-field", metavar="F",
                        help="with --population: the layer's field of residents aged 60+ "
                             "(reported as covered_elderly_share; judges the categories "
                             "whose weight is 'elderly')")
    parser.add_argument("--network", metavar="FILE",
                        help="walking network (GraphML, OSM XML, or GeoPackage/GeoJSON/"
                             "Shapefile of line edges): distances are walks along it instead "
                             "of straight lines")
    parser.add_argument("--straight", action="store_true",
                        help="straight lines (times the targets' detour_factor), even when the "
                             "dataset has a walking network")
    parser.add_argument("--max-snap", metavar="METRES", type=float,
                        help=f"with --network: a cell or facility farther than this from "
                             f"every edge is unreachable (default {DEFAULT_MAX_SNAP_M:g})")
    parser.add_argument("--radius", metavar="CATEGORY=METRES", nargs="+", action="extend",
                        help="override or add a category's radius in metres; may be repeated")
    parser.add_argument("--scenario", metavar="FILE",
                        help="scenario GeoJSON applied to the baseline before computing")


def output_dir(text: str) -> Path:
    out = Path(text)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create the directory ({exc.strerror})") from exc
    return out


def progress_bar(done: int, total: int, label: str) -> None:
    """A one-line progress bar on stderr."""
    width = 30
    filled = round(width * done / total)
    end = "\n" if done == total else ""
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<40}"
                     f"{end}")
    sys.stderr.flush()


def labels_of(targets: Targets) -> dict[str, str]:
    """Category → its Chinese label (what an unnamed facility is named after)."""
    return {k: targets[k].label("zh") for k in targets.keys()}


#: The datasets this process read: (store file, version) → dataset.
_READ: dict[tuple[str, int], Dataset] = {}


def current_dataset(targets: Targets, store: DatasetStore | None = None) -> Dataset:
    """The newest dataset version (the embedded demo when none is stored), after moving an
    earlier release's ``dataset.gpkg`` in; read once a process."""
    store = store or DatasetStore()
    store.migrate_legacy(DATASET_FILE, targets, user=current_user())
    key = (str(store.path), store.current_version())
    if key not in _READ:
        _READ[key] = store.read(targets, version=key[1])
    return _READ[key]


def _uses_dataset(args: argparse.Namespace) -> bool:
    """Whether the command reads the current dataset (not both boundaries and facilities
    given as files)."""
    return not (args.boundaries and args.facilities)


def inputs(args: argparse.Namespace, *, with_scenario: bool = True
           ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Targets, bool]:
    """Streets, facilities and targets named by ``args`` (each from the current dataset
    version when not given), with the scenario applied unless ``with_scenario`` is False,
    and whether any of it is demo data. Warnings about the facility files go to stderr."""
    targets = targets_of(args).with_radii(parse_radius_overrides(args.radius))
    dataset = (current_dataset(targets) if not (args.boundaries and args.facilities)
               else None)
    if args.boundaries:
        streets = read_boundaries(args.boundaries, code_field=args.code_field,
                                  name_field=args.name_field,
                                  population_field=None if args.population
                                  else args.population_field)
    else:
        streets = dataset.streets
    if args.facilities:
        facilities = read_facilities(args.facilities, known_categories=targets.keys(),
                                     labels=labels_of(targets))
        warn(facilities.attrs.get("warnings", {}))
    else:
        facilities = dataset.facilities
    demo = dataset is not None and (
        (not args.boundaries and dataset.boundaries_origin == DEMO)
        or (not args.facilities and any(DEMO in o for o in dataset.facility_origins.values())))
    if args.scenario and with_scenario:
        scenario = read_scenario(args.scenario, baseline=baseline_capacities(facilities))
        facilities, targets = apply_scenario(scenario, facilities=facilities, targets=targets,
                                             area=placement_area(streets, targets))
    return streets, facilities, targets, demo


def walking_network(args: argparse.Namespace) -> WalkingNetwork | None:
    """The walking network ``--network`` names, else the current dataset's (with
    ``--max-snap``), or None: straight lines."""
    if args.straight:
        if args.network or args.max_snap is not None:
            raise InputError("--straight measures straight lines: it takes no --network or "
                             "--max-snap")
        return None
    if args.network:
        from geo.data.network_io import read_network  # networkx loads only when one is given

        network = read_network(args.network)
    else:
        network = current_dataset(targets_of(args)).network if _uses_dataset(args) else None
    if args.max_snap is not None and network is None:
        raise InputError("--max-snap needs a walking network (--network, or one in the "
                         "dataset)")
    return network.with_max_snap(args.max_snap) if args.max_snap is not None else network


def population_layer(args: argparse.Namespace) -> PopulationLayer | None:
    """The population layer ``--population`` names (warning about the rows it ignored), else
    the current dataset's, or None: the boundaries' populations."""
    if args.elderly_field and not args.population:
        raise InputError("--elderly-field needs --population (a layer with residents aged "
                         "60+)")
    if not args.population:
        if args.population_field and args.boundaries:
            return None  # the boundaries' own field, as it always was
        return current_dataset(targets_of(args)).population if _uses_dataset(args) else None
    from geo.data.population_io import read_population  # tobler/rasterio load only when given

    layer = read_population(args.population, field=args.population_field,
                            elderly_field=args.elderly_field)
    warn({f"{args.population}: {reason} (ignored)": count
          for reason, count in layer.ignored.items()})
    return layer


def targets_of(args: argparse.Namespace) -> Targets:
    """The targets file ``--targets`` names, exactly; without it, the project's file with the
    targets an administrator set in the app (as the pages use them)."""
    path = getattr(args, "targets", None)
    if path:
        return read_targets(path)
    from geo.data.target_store import current_targets

    return current_targets()


def shell() -> Principal:
    """Who the command acts for: the person at the server's shell, with an administrator's
    rights (they can read and write the state files anyway); their changes are audited under
    their login name (``CHANGNING_USER`` overrides it)."""
    return unrestricted("shell")
