"""Command line of the Changning coverage map.

    python cli.py coverage [--boundaries PATH] [--facilities PATH ...] [--resolution 10]
                           [--targets PATH] [--code-field F] [--name-field F]
                           [--population-field F] [--radius CATEGORY=METRES ...] --format json

Bad input exits with code 2 and one message naming the file, row or field.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from geo._errors import InputError
from geo.config import DEFAULT_RESOLUTION, DEMO_BOUNDARIES, DEMO_FACILITY_FILES, TARGETS_FILE
from geo.coverage import compute_coverage, coverage_to_dict
from geo.io import read_boundaries, read_facilities, read_targets
from geo.targets import parse_radius_overrides

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cov = commands.add_parser(
        "coverage", help="coverage of each street by each facility category, as JSON",
        description="Coverage of each street by each facility category. Without --boundaries "
                    "or --facilities the embedded demo data (approximate, not official) is used.")
    cov.add_argument("--boundaries", metavar="PATH",
                     help="street polygons: GeoJSON, GeoPackage or Shapefile, any defined CRS")
    cov.add_argument("--facilities", metavar="PATH", nargs="+", action="extend",
                     help="facility CSV/GeoJSON/GeoPackage files; may be repeated")
    cov.add_argument("--resolution", type=int, default=DEFAULT_RESOLUTION,
                     help=f"H3 resolution, 7–12 (default {DEFAULT_RESOLUTION})")
    cov.add_argument("--targets", metavar="PATH", default=str(TARGETS_FILE),
                     help="targets TOML file (default data/targets.toml)")
    cov.add_argument("--code-field", metavar="F", help="boundary field with the street code")
    cov.add_argument("--name-field", metavar="F", help="boundary field with the street name")
    cov.add_argument("--population-field", metavar="F",
                     help="boundary field with the resident population (optional)")
    cov.add_argument("--radius", metavar="CATEGORY=METRES", nargs="+", action="extend",
                     help="override or add a category's radius in metres; may be repeated")
    cov.add_argument("--format", choices=["json"], default="json", help="output format")
    return parser


def run_coverage(args: argparse.Namespace) -> dict:
    """Read the inputs named by ``args`` and compute the coverage JSON."""
    targets = read_targets(args.targets).with_radii(parse_radius_overrides(args.radius))
    streets = read_boundaries(
        args.boundaries or DEMO_BOUNDARIES,
        code_field=args.code_field,
        name_field=args.name_field,
        population_field=args.population_field,
    )
    facilities = read_facilities(args.facilities or list(DEMO_FACILITY_FILES.values()),
                                 known_categories=targets.keys())
    result = compute_coverage(streets, facilities, targets, resolution=args.resolution)
    return coverage_to_dict(result)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        output = run_coverage(args)
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
