"""``import``: check and convert a facility list into the data model (``facilities.csv`` and
``rejected.csv``), and the facility-reading options ``dataset import`` shares with it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd

from commands.common import (
    current_dataset,
    labels_of,
    output_dir,
    progress_bar,
    targets_of,
    warn,
)
from geo.data.area import placement_area
from geo.data.importer import ImportReport, import_facilities
from geo.data.io import TableRead, read_boundaries, read_category_map, read_table, write_import
from geo.data.mapping import parse_crs, parse_mapping
from geo.data.rules import INTERNAL_COLUMNS
from geo.model.errors import InputError
from geo.model.targets import Targets

if TYPE_CHECKING:
    from geo.data.geocode import Geocoder

__all__ = ["add_facility_options", "add_parser", "check_facility_file", "run_import"]


def add_facility_options(parser: argparse.ArgumentParser) -> None:
    """How a facility list is read: file, sheet/layer, encoding, CRS, columns, categories."""
    parser.add_argument("--facilities", metavar="FILE", required=True,
                        help="CSV, XLSX, GeoJSON, GeoPackage or (zipped) Shapefile")
    parser.add_argument("--sheet", metavar="S", help="the XLSX sheet to read (needed when "
                                                     "several hold data)")
    parser.add_argument("--layer", metavar="L", help="the GeoPackage layer to read (needed "
                                                     "when it has several)")
    parser.add_argument("--encoding", metavar="E", help="a CSV's text encoding, e.g. gb18030 "
                                                        "or big5 (default: detected)")
    parser.add_argument("--crs", default="wgs84",
                        help="wgs84 | gcj02 | bd09 | cgcs2000 | EPSG:n (default wgs84); a "
                             "row's own crs column wins")
    category = parser.add_mutually_exclusive_group()
    category.add_argument("--category", metavar="C", help="the category of every row")
    category.add_argument("--category-field", metavar="F",
                          help="column holding each row's category or source class")
    parser.add_argument("--category-map", metavar="FILE",
                        help="CSV or TOML: source class → category or 'ignore' (ignored rows "
                             "are counted, not imported)")
    parser.add_argument("--mapping", metavar="FIELD=COLUMN", nargs="+", action="extend",
                        help="columns for the data model's fields, e.g. name=名称 lon=X "
                             "(or name=名称,lon=X)")
    parser.add_argument("--targets", metavar="PATH",
                        help="targets TOML file: its categories are the known ones (default "
                             "data/targets.toml)")
    parser.add_argument("--geocode", choices=["amap", "tianditu", "nominatim"],
                        help="place rows that have an address but no coordinates with this "
                             "service (key in AMAP_KEY / TIANDITU_KEY; answers cached in "
                             "CHANGNING_STATE_DIR)")


def add_parser(commands: argparse._SubParsersAction) -> None:
    imports = commands.add_parser(
        "import", help="check and convert a facility list into the data model",
        description="Writes DIR/facilities.csv (accepted rows, WGS-84) and DIR/rejected.csv "
                    "(the original rows plus a reason); prints a JSON summary.")
    add_facility_options(imports)
    imports.add_argument("--out", metavar="DIR", required=True, help="output directory")
    imports.add_argument("--boundaries", metavar="PATH",
                         help="streets whose area (grown by the largest radius) rows must lie "
                              "in (default: the current dataset version's)")
    imports.set_defaults(run=run_import)


def _geocoder(name: str | None) -> Geocoder | None:
    """The geocoder ``--geocode`` names (None without it): key from the environment, answers
    cached in the state folder, requests sent to ``$CHANGNING_GEOCODE_URL`` when set."""
    if not name:
        return None
    from geo.data.geocode import geocoder_for

    return geocoder_for(name)


def check_facility_file(args: argparse.Namespace, *, streets: gpd.GeoDataFrame,
                        targets: Targets) -> tuple[ImportReport, TableRead]:
    """Read the facility list ``args`` names and check every row against ``streets``' study
    area; notes and hints go to stderr."""
    geocoder = _geocoder(args.geocode)
    read = read_table(args.facilities, sheet=args.sheet, layer=args.layer,
                      encoding=args.encoding)
    warn(list(read.notes))
    columns = [c for c in read.frame.columns if c not in INTERNAL_COLUMNS]
    mapping = parse_mapping(",".join(args.mapping or []), columns=columns)
    category_map = (read_category_map(args.category_map, known_categories=targets.keys())
                    if args.category_map else None)
    try:
        report = import_facilities(
            read.frame, known_categories=targets.keys(), mapping=mapping,
            crs=parse_crs(args.crs), category=args.category,
            category_field=args.category_field, category_map=category_map,
            labels=labels_of(targets), area=placement_area(streets, targets),
            source=f"import: {Path(args.facilities).name}", first_row=read.first_row,
            geocoder=geocoder, progress=lambda done, total: progress_bar(
                done, total, f"geocoding ({args.geocode})"))
    except InputError as exc:
        if str(args.facilities) in str(exc):
            raise
        raise InputError(f"facilities file {args.facilities}: {exc}") from None
    if geocoder is not None:
        print(f"geocoded: {report.geocoded} row(s) placed by {args.geocode}", file=sys.stderr)
    for hint in report.hints:
        print(f"hint: {hint}", file=sys.stderr)
    return report, read


def run_import(args: argparse.Namespace) -> dict:
    """Check the facility list named by ``args``; write accepted and rejected rows."""
    targets = targets_of(args)
    streets = (read_boundaries(args.boundaries) if args.boundaries
               else current_dataset(targets).streets)
    report, _ = check_facility_file(args, streets=streets, targets=targets)
    write_import(report, output_dir(args.out))
    return report.summary()
