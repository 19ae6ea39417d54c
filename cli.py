"""Command line of the Changning coverage map.

    python cli.py coverage [--boundaries PATH] [--facilities PATH ...] [--resolution 10]
                           [--targets PATH] [--code-field F] [--name-field F]
                           [--population-field F] [--radius CATEGORY=METRES ...]
                           [--scenario FILE] [--engine local|dask [--scheduler ADDRESS]]
                           [--network FILE] --format json
    python cli.py suggest --category C --k K [--street CODE] [--resolution R]
                          [the input options of coverage] --format json
    python cli.py report (--street CODE | --all) [--scenario FILE]
                         [--format pdf,png,html,xlsx,csv,geojson,gpkg] --out DIR
    python cli.py import --facilities FILE [--crs wgs84|gcj02|bd09|EPSG:n]
                         [--category C | --category-field F] [--mapping name=COL,...]
                         [--geocode amap|tianditu|nominatim] --out DIR
    python cli.py fetch-osm --out DIR

Bad input exits with code 2 and one message naming the file, row or field.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from geo.data.area import placement_area
from geo.data.importer import import_facilities, parse_crs, parse_mapping
from geo.data.io import read_boundaries, read_facilities, read_table, read_targets, write_import
from geo.engine.coverage import compute_coverage
from geo.model.config import (
    DEFAULT_RESOLUTION,
    DEMO_BOUNDARIES,
    DEMO_FACILITY_FILES,
    REPORT_FORMATS,
    TARGETS_FILE,
)
from geo.model.errors import InputError
from geo.model.targets import parse_radius_overrides
from geo.plan.json_output import coverage_to_dict
from geo.plan.scenario import apply_scenario, baseline_capacities
from geo.plan.scenario_io import read_scenario
from geo.plan.suggest import sites_to_dict, suggest_sites

if TYPE_CHECKING:
    from geo.data.geocode import Geocoder

EXIT_BAD_INPUT = 2


def _input_options() -> argparse.ArgumentParser:
    """The options every computing command shares: the inputs and how to read them."""
    inputs = argparse.ArgumentParser(add_help=False)
    inputs.add_argument("--boundaries", metavar="PATH",
                        help="street polygons: GeoJSON, GeoPackage or Shapefile, any defined CRS")
    inputs.add_argument("--facilities", metavar="PATH", nargs="+", action="extend",
                        help="facility CSV/GeoJSON/GeoPackage files; may be repeated")
    inputs.add_argument("--resolution", type=int, default=DEFAULT_RESOLUTION,
                        help=f"H3 resolution, 7–12 (default {DEFAULT_RESOLUTION})")
    inputs.add_argument("--targets", metavar="PATH", default=str(TARGETS_FILE),
                        help="targets TOML file (default data/targets.toml)")
    inputs.add_argument("--code-field", metavar="F", help="boundary field with the street code")
    inputs.add_argument("--name-field", metavar="F", help="boundary field with the street name")
    inputs.add_argument("--population-field", metavar="F",
                        help="boundary field with the resident population (optional)")
    inputs.add_argument("--radius", metavar="CATEGORY=METRES", nargs="+", action="extend",
                        help="override or add a category's radius in metres; may be repeated")
    inputs.add_argument("--scenario", metavar="FILE",
                        help="scenario GeoJSON applied to the baseline before computing")
    return inputs


def _json_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["json"], default="json", help="output format")


def _formats(text: str) -> list[str]:
    """``pdf,png,…`` → the list of formats; argparse reports a bad one and exits 2."""
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(
            f"unknown format(s) {', '.join(unknown) or '(none)'}; choose from "
            f"{','.join(REPORT_FORMATS)}")
    return list(dict.fromkeys(formats))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    inputs = _input_options()
    coverage = commands.add_parser(
        "coverage", parents=[inputs],
        help="coverage of each street by each facility category, as JSON",
        description="Coverage of each street by each facility category. Without --boundaries "
                    "or --facilities the embedded demo data (approximate, not official) is used.")
    suggest = commands.add_parser(
        "suggest", parents=[inputs],
        help="propose K sites that cover the most residents not yet covered",
        description="Greedy maximal covering over the H3 cell centres: each site's figures "
                    "count only what the sites before it did not cover.")
    _json_format(coverage)
    _engine_options(coverage)
    coverage.add_argument("--network", metavar="FILE",
                          help="walking network (GraphML, or GeoPackage/GeoJSON/Shapefile of "
                               "line edges): distances along it instead of straight lines")
    _json_format(suggest)
    suggest.add_argument("--category", required=True, help="facility category")
    suggest.add_argument("--k", type=int, required=True, help="number of sites, 1–20")
    suggest.add_argument("--street", metavar="CODE", help="only this street's cells")
    report = commands.add_parser(
        "report", parents=[inputs], help="write report files per street and for the district",
        description="One file per street and format, plus the district summary; a progress "
                    "bar on stderr; the written files as a JSON list on stdout.")
    which = report.add_mutually_exclusive_group(required=True)
    which.add_argument("--street", metavar="CODE", help="one street")
    which.add_argument("--all", action="store_true", help="every street")
    report.add_argument("--format", type=_formats, default=list(REPORT_FORMATS),
                        help=f"comma-separated, from {','.join(REPORT_FORMATS)} (default: all)")
    report.add_argument("--out", metavar="DIR", required=True, help="output directory")
    report.add_argument("--dpi", type=int, default=150, choices=[96, 150, 200, 300],
                        help="print resolution of PNG maps and of the maps in PDFs")
    imports = commands.add_parser(
        "import", help="check and convert a facility list into the data model",
        description="Writes DIR/facilities.csv (accepted rows, WGS-84) and DIR/rejected.csv "
                    "(the original rows plus a reason); prints a JSON summary.")
    imports.add_argument("--facilities", metavar="FILE", required=True,
                         help="CSV, XLSX, GeoJSON, GeoPackage or (zipped) Shapefile")
    imports.add_argument("--crs", default="wgs84",
                         help="wgs84 | gcj02 | bd09 | cgcs2000 | EPSG:n (default wgs84)")
    category = imports.add_mutually_exclusive_group()
    category.add_argument("--category", metavar="C", help="the category of every row")
    category.add_argument("--category-field", metavar="F", help="column holding the category")
    imports.add_argument("--mapping", metavar="FIELD=COL,...",
                         help="columns for the data model's fields, e.g. name=名称,lon=X")
    imports.add_argument("--out", metavar="DIR", required=True, help="output directory")
    imports.add_argument("--boundaries", metavar="PATH",
                         help="streets whose area (grown by the largest radius) rows must lie "
                              "in (default: the demo district)")
    imports.add_argument("--targets", metavar="PATH", default=str(TARGETS_FILE),
                         help="targets TOML file: its categories are the known ones")
    imports.add_argument("--geocode", choices=["amap", "tianditu", "nominatim"],
                         help="place rows that have an address but no coordinates with this "
                              "service (key in AMAP_KEY / TIANDITU_KEY; answers cached in "
                              "CHANGNING_STATE_DIR)")
    fetch = commands.add_parser(
        "fetch-osm", help="download Changning's boundaries and facility points from OSM",
        description="For users with internet: the 10 boundary relations and the OSM points of "
                    "the categories, through the Overpass API, as files the importer reads.")
    fetch.add_argument("--out", metavar="DIR", required=True, help="output directory")
    fetch.add_argument("--url", default=None, help="Overpass API endpoint")
    return parser


def run_fetch_osm(args: argparse.Namespace) -> list[str]:
    """Download the OSM boundaries and points into ``args.out``; return the written paths."""
    from geo.data.osm_fetch import OVERPASS_URL, FetchError, fetch_osm

    try:
        written = fetch_osm(_output_dir(args.out), url=args.url or OVERPASS_URL)
    except FetchError as exc:
        raise InputError(str(exc)) from exc
    return [str(path) for path in written]


def _import_geocoder(name: str | None) -> Geocoder | None:
    """The geocoder ``--geocode`` names (None without it): key from the environment, answers
    cached in the state folder, requests sent to ``$CHANGNING_GEOCODE_URL`` when set."""
    if not name:
        return None
    from geo.data.geocode import geocoder_for

    return geocoder_for(name)


def run_import(args: argparse.Namespace) -> dict:
    """Check the facility list named by ``args``; write accepted and rejected rows."""
    geocoder = _import_geocoder(args.geocode)
    targets = read_targets(args.targets)
    frame = read_table(args.facilities)
    mapping = parse_mapping(args.mapping, columns=list(frame.columns))
    streets = read_boundaries(args.boundaries or DEMO_BOUNDARIES)
    report = import_facilities(frame, known_categories=targets.keys(), mapping=mapping,
                               crs=parse_crs(args.crs), category=args.category,
                               category_field=args.category_field,
                               area=placement_area(streets, targets),
                               source=f"import: {Path(args.facilities).name}",
                               geocoder=geocoder,
                               progress=lambda done, total: _progress_bar(
                                   done, total, f"geocoding ({args.geocode})"))
    out = _output_dir(args.out)
    write_import(report, out)
    if geocoder is not None:
        print(f"geocoded: {report.geocoded} row(s) placed by {args.geocode}", file=sys.stderr)
    for hint in report.hints:
        print(f"hint: {hint}", file=sys.stderr)
    return report.summary()


def _output_dir(text: str) -> Path:
    out = Path(text)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create the directory ({exc.strerror})") from exc
    return out


def _inputs(args: argparse.Namespace, *, with_scenario: bool = True) -> tuple:
    """Streets, facilities and targets named by ``args``, with the scenario applied unless
    ``with_scenario`` is False."""
    targets = read_targets(args.targets).with_radii(parse_radius_overrides(args.radius))
    streets = read_boundaries(
        args.boundaries or DEMO_BOUNDARIES,
        code_field=args.code_field,
        name_field=args.name_field,
        population_field=args.population_field,
    )
    facilities = read_facilities(args.facilities or list(DEMO_FACILITY_FILES.values()),
                                 known_categories=targets.keys())
    if args.scenario and with_scenario:
        scenario = read_scenario(args.scenario, baseline=baseline_capacities(facilities))
        facilities, targets = apply_scenario(scenario, facilities=facilities, targets=targets,
                                             area=placement_area(streets, targets))
    return streets, facilities, targets


def _engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=["local", "dask"], default="local",
                        help="local: in this process (default); dask: on a dask.distributed "
                             "cluster, partitioned by H3 parent cell, same result")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="with --engine dask: the scheduler to use, e.g. tcp://host:8786 "
                             "(default: a local cluster of 2 workers)")


def run_coverage(args: argparse.Namespace) -> dict:
    """Read the inputs named by ``args`` and compute the coverage JSON."""
    if args.scheduler and args.engine != "dask":
        raise InputError("--scheduler needs --engine dask")
    if args.network and args.engine == "dask":
        raise InputError("--network works with the local engine only")
    streets, facilities, targets = _inputs(args)
    if args.engine == "dask":
        # dask loads only for this engine, so the CLI starts fast without it
        from geo.engine.dask_engine import compute_coverage_dask, dask_client

        with dask_client(args.scheduler) as client:
            result = compute_coverage_dask(streets, facilities, targets,
                                           resolution=args.resolution, client=client)
    else:
        result = compute_coverage(streets, facilities, targets, resolution=args.resolution,
                                  network=_network(args.network))
    return coverage_to_dict(result)


def _network(path: str | None):
    """The walking network file ``--network`` names, or None (straight lines)."""
    if not path:
        return None
    from geo.data.network_io import read_network  # networkx loads only when a network is given

    return read_network(path)


def run_suggest(args: argparse.Namespace) -> dict:
    """Read the inputs named by ``args`` and propose sites, as the suggest JSON."""
    streets, facilities, targets = _inputs(args)
    if args.category not in targets:
        raise InputError(f"suggest: unknown category {args.category!r} "
                         f"(known: {', '.join(targets.keys())})")
    result = compute_coverage(streets, facilities, targets, resolution=args.resolution,
                              categories=[args.category])
    sites = suggest_sites(result, category=args.category, k=args.k, code=args.street)
    return sites_to_dict(sites, category=args.category, resolution=result.resolution)


def _progress_bar(done: int, total: int, label: str) -> None:
    """A one-line progress bar on stderr."""
    width = 30
    filled = round(width * done / total)
    end = "\n" if done == total else ""
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<40}"
                     f"{end}")
    sys.stderr.flush()


def run_report(args: argparse.Namespace) -> list[str]:
    """Write the report files named by ``args``; return their paths."""
    # the drawing libraries load only for this command, so the others start fast
    from layers.fonts import MissingFontError
    from layers.report import ReportInputs, write_reports

    streets, facilities, targets = _inputs(args)
    out = _output_dir(args.out)
    codes = list(streets["code"])
    if args.street and args.street not in codes:
        raise InputError(f"--street: unknown street code {args.street!r} "
                         f"(known: {', '.join(codes)})")
    result = compute_coverage(streets, facilities, targets, resolution=args.resolution)
    baseline = None
    if args.scenario:
        plain_streets, plain_facilities, plain_targets = _inputs(args, with_scenario=False)
        baseline = compute_coverage(plain_streets, plain_facilities, plain_targets,
                                    resolution=args.resolution)
    inputs = ReportInputs(result=result, facilities=facilities, targets=targets,
                          baseline=baseline, scenario=Path(args.scenario).stem
                          if args.scenario else "",
                          demo=not (args.boundaries or args.facilities))
    try:
        written = write_reports(inputs, codes=[args.street] if args.street else codes,
                                formats=args.format, out_dir=out, dpi=args.dpi,
                                progress=_progress_bar)
    except MissingFontError as exc:
        raise InputError(str(exc)) from exc
    return [str(path) for path in written]


COMMANDS = {"coverage": run_coverage, "suggest": run_suggest, "report": run_report,
            "import": run_import, "fetch-osm": run_fetch_osm}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        output = COMMANDS[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        sys.stdout.write(json.dumps(output, ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
