"""``report``: one file per street and format plus the district summary, with a progress bar
on stderr and the written files as a JSON list."""

from __future__ import annotations

import argparse
from pathlib import Path

from commands.common import (
    add_input_options,
    inputs,
    output_dir,
    population_layer,
    progress_bar,
    walking_network,
)
from geo.engine.coverage import compute_coverage
from geo.model.config import REPORT_FORMATS
from geo.model.errors import InputError

__all__ = ["add_parser", "run_report"]


def _formats(text: str) -> list[str]:
    """``pdf,png,…`` → the list of formats; argparse reports a bad one and exits 2."""
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(
            f"unknown format(s) {', '.join(unknown) or '(none)'}; choose from "
            f"{','.join(REPORT_FORMATS)}")
    return list(dict.fromkeys(formats))


def add_parser(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report", help="write report files per street and for the district",
        description="One file per street and format, plus the district summary; a progress "
                    "bar on stderr; the written files as a JSON list on stdout.")
    add_input_options(report)
    which = report.add_mutually_exclusive_group(required=True)
    which.add_argument("--street", metavar="CODE", help="one street")
    which.add_argument("--all", action="store_true", help="every street")
    report.add_argument("--format", type=_formats, default=list(REPORT_FORMATS),
                        help=f"comma-separated, from {','.join(REPORT_FORMATS)} (default: all)")
    report.add_argument("--out", metavar="DIR", required=True, help="output directory")
    report.add_argument("--dpi", type=int, default=150, choices=[96, 150, 200, 300],
                        help="print resolution of PNG maps and of the maps in PDFs")
    report.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> list[str]:
    """Write the report files named by ``args``; return their paths."""
    # the drawing libraries load only for this command, so the others start fast
    from layers.fonts import MissingFontError
    from layers.report import ReportInputs, write_reports

    streets, facilities, targets, demo = inputs(args)
    out = output_dir(args.out)
    codes = list(streets["code"])
    if args.street and args.street not in codes:
        raise InputError(f"--street: unknown street code {args.street!r} "
                         f"(known: {', '.join(codes)})")
    network, population = walking_network(args), population_layer(args)
    result = compute_coverage(streets, facilities, targets, resolution=args.resolution,
                              network=network, population=population)
    baseline = None
    if args.scenario:
        plain_streets, plain_facilities, plain_targets, _ = inputs(args, with_scenario=False)
        baseline = compute_coverage(plain_streets, plain_facilities, plain_targets,
                                    resolution=args.resolution, network=network,
                                    population=population)
    inputs_ = ReportInputs(result=result, facilities=facilities, targets=targets,
                           baseline=baseline,
                           scenario=Path(args.scenario).stem if args.scenario else "",
                           demo=demo)
    try:
        written = write_reports(inputs_, codes=[args.street] if args.street else codes,
                                formats=args.format, out_dir=out, dpi=args.dpi,
                                progress=progress_bar)
    except MissingFontError as exc:
        raise InputError(str(exc)) from exc
    return [str(path) for path in written]
