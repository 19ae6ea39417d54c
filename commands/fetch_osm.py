"""``fetch-osm``: for users with internet, Changning's boundaries and facility points from
OpenStreetMap through the Overpass API, as files the importer reads."""

from __future__ import annotations

import argparse

from commands.common import output_dir
from geo.model.errors import InputError

__all__ = ["add_parser", "run_fetch_osm"]


def add_parser(commands: argparse._SubParsersAction) -> None:
    fetch = commands.add_parser(
        "fetch-osm", help="download Changning's boundaries and facility points from OSM",
        description="For users with internet: the 10 boundary relations and the OSM points of "
                    "the categories (and with --network the walking network), through the "
                    "Overpass API, as files the importer reads.")
    fetch.add_argument("--out", metavar="DIR", required=True, help="output directory")
    fetch.add_argument("--url", default=None, help="Overpass API endpoint")
    fetch.add_argument("--network", action="store_true",
                       help="also the walking network inside the streets (ways walkers may "
                            "use, as line edges the Data page and --network read)")
    fetch.set_defaults(run=run_fetch_osm)


def run_fetch_osm(args: argparse.Namespace) -> list[str]:
    """Download the OSM boundaries and points into ``args.out``; return the written paths."""
    from geo.data.osm_fetch import OVERPASS_URL, FetchError, fetch_osm

    try:
        written = fetch_osm(output_dir(args.out), url=args.url or OVERPASS_URL,
                            network=args.network)
    except FetchError as exc:
        raise InputError(str(exc)) from exc
    return [str(path) for path in written]
