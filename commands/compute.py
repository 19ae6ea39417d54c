"""``coverage`` and ``suggest``: coverage of each street by each category, and the sites that
would cover the most residents not yet covered, as JSON."""

from __future__ import annotations

import argparse

from commands.common import (
    add_input_options,
    add_json_format,
    inputs,
    population_layer,
    walking_network,
)
from geo.engine.coverage import compute_coverage
from geo.model.errors import InputError
from geo.plan.json_output import coverage_to_dict
from geo.plan.suggest import sites_to_dict, suggest_sites

__all__ = ["add_parser", "run_coverage", "run_suggest"]


def add_parser(commands: argparse._SubParsersAction) -> None:
    coverage = commands.add_parser(
        "coverage", help="coverage of each street by each facility category, as JSON",
        description="Coverage of each street by each facility category. Without --boundaries "
                    "or --facilities the current dataset version is used (the embedded demo "
                    "data, approximate and not official, until something is imported).")
    add_input_options(coverage)
    add_json_format(coverage)
    coverage.add_argument("--engine", choices=["local", "dask"], default="local",
                          help="local: in this process (default); dask: on a dask.distributed "
                               "cluster, partitioned by H3 parent cell, same result")
    coverage.add_argument("--scheduler", metavar="ADDRESS",
                          help="with --engine dask: the scheduler to use, e.g. tcp://host:8786 "
                               "(default: a local cluster of 2 workers)")
    coverage.set_defaults(run=run_coverage)
    suggest = commands.add_parser(
        "suggest", help="propose K sites that cover the most residents not yet covered",
        description="Greedy maximal covering over the H3 cell centres: each site's figures "
                    "count only what the sites before it did not cover.")
    add_input_options(suggest)
    add_json_format(suggest)
    suggest.add_argument("--category", required=True, help="facility category")
    suggest.add_argument("--k", type=int, required=True, help="number of sites, 1–20")
    suggest.add_argument("--street", metavar="CODE", help="only this street's cells")
    suggest.set_defaults(run=run_suggest)


def run_coverage(args: argparse.Namespace) -> dict:
    """Read the inputs named by ``args`` and compute the coverage JSON."""
    if args.scheduler and args.engine != "dask":
        raise InputError("--scheduler needs --engine dask")
    streets, facilities, targets, _ = inputs(args)
    if args.engine == "dask":
        if walking_network(args) is not None:
            raise InputError("the dask engine measures straight lines: add --straight, or use "
                             "the local engine to walk the network")
        # dask loads only for this engine, so the CLI starts fast without it
        from geo.engine.dask_engine import compute_coverage_dask, dask_client

        with dask_client(args.scheduler) as client:
            result = compute_coverage_dask(streets, facilities, targets,
                                           resolution=args.resolution, client=client,
                                           population=population_layer(args))
    else:
        result = compute_coverage(streets, facilities, targets, resolution=args.resolution,
                                  network=walking_network(args),
                                  population=population_layer(args))
    return coverage_to_dict(result)


def run_suggest(args: argparse.Namespace) -> dict:
    """Read the inputs named by ``args`` and propose sites, as the suggest JSON."""
    streets, facilities, targets, _ = inputs(args)
    if args.category not in targets:
        raise InputError(f"suggest: unknown category {args.category!r} "
                         f"(known: {', '.join(targets.keys())})")
    result = compute_coverage(streets, facilities, targets, resolution=args.resolution,
                              categories=[args.category], network=walking_network(args),
                              population=population_layer(args))
    sites = suggest_sites(result, category=args.category, k=args.k, code=args.street)
    return sites_to_dict(sites, category=args.category, resolution=result.resolution)
