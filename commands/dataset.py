"""``dataset``: the versions of the working dataset every page, report and command uses —
show them, import a facility list or street boundaries as a new version, roll back to a kept
version, restore the embedded demo. A change built on a version that is no longer the newest
(``--base-version``) exits 3 and writes nothing."""

from __future__ import annotations

import argparse

from commands.common import (
    add_json_format,
    current_dataset,
    current_user,
    shell,
    targets_of,
    warn,
)
from commands.importing import add_facility_options, check_facility_file
from geo.data.area import placement_area
from geo.data.dataset import (
    FACILITY_MODES,
    Dataset,
    prefix_ids,
    with_boundaries,
    with_facilities,
)
from geo.data.dataset_store import DatasetStore, StaleVersion, change_summary
from geo.data.io import read_boundaries
from geo.data.rules import inside_area
from geo.data.schema import boundary_problems
from geo.model import config
from geo.model.errors import InputError
from geo.model.targets import Targets

__all__ = ["add_parser"]

#: ``--mode`` on the command line → the dataset's import mode.
MODES = {m.replace("_", "-"): m for m in FACILITY_MODES}


def add_parser(commands: argparse._SubParsersAction) -> None:
    dataset = commands.add_parser(
        "dataset", help="the working dataset's versions: show, import, roll back, restore",
        description="Every change is a new version; older ones are kept "
                    "(CHANGNING_DATASET_VERSIONS) and can be rolled back to.")
    actions = dataset.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", help="the current version, the kept ones, the counts")
    show.set_defaults(run=run_show)
    imports = actions.add_parser("import", help="import a facility list as a new version")
    add_facility_options(imports)
    imports.add_argument("--mode", choices=list(MODES), default="replace-categories",
                         help="replace the facilities of the categories in the file "
                              "(default), append to them, or replace every facility")
    imports.add_argument("--id-prefix", default="", help="put before every imported id")
    imports.set_defaults(run=run_import)
    bounds = actions.add_parser("boundaries", help="replace the street boundaries")
    bounds.add_argument("--boundaries", metavar="FILE", required=True,
                        help="GeoJSON, GeoPackage or (zipped) Shapefile, any defined CRS")
    bounds.add_argument("--code-field", metavar="F", help="field with the street code")
    bounds.add_argument("--name-field", metavar="F", help="field with the street name")
    bounds.add_argument("--population-field", metavar="F", help="field with the residents")
    bounds.add_argument("--layer", metavar="L", help="the GeoPackage layer to read")
    bounds.set_defaults(run=run_boundaries)
    rollback = actions.add_parser("rollback", help="a new version with a kept version's data")
    rollback.add_argument("--to", type=int, required=True, metavar="N",
                          help="the version to go back to (0: the demo)")
    rollback.set_defaults(run=run_rollback)
    restore = actions.add_parser("restore-demo", help="a new version with the demo data")
    restore.set_defaults(run=run_restore)
    for parser in (show, imports, bounds, rollback, restore):
        add_json_format(parser)
        if parser in (imports, bounds):
            parser.add_argument("--base-version", type=int, metavar="N",
                                help="the version this change was checked against; exits 3 "
                                     "when it is no longer the current one")


def _checked_base(store: DatasetStore, base: int | None) -> int:
    """The version a change builds on: ``--base-version``, refused early when stale."""
    current = store.current_version()
    if base is not None and base != current:
        raise StaleVersion(base=base, current=current)
    return current


def _base_dataset(store: DatasetStore, targets: Targets, base: int | None
                  ) -> tuple[Dataset, int]:
    """The data a change builds on and its version: the version is taken first and exactly
    that version is read, so a change landing meanwhile makes the save refuse (exit 3)
    instead of being overwritten."""
    store.migrate_legacy(config.DATASET_FILE, targets, user=current_user())
    number = _checked_base(store, base)
    return store.read(targets, version=number), number


def run_show(args: argparse.Namespace) -> dict:
    store = DatasetStore()
    targets = targets_of(args)
    try:
        dataset = current_dataset(targets, store)
    except InputError as exc:  # say which versions there are to roll back to
        kept = ", ".join(str(v.version) for v in store.versions()) or "none"
        raise InputError(f"{exc}\nkept versions: {kept}; go back with python cli.py dataset "
                         f"rollback --to N (0: the demo data)") from None
    counts = dataset.facilities["category"].value_counts()
    categories = list(targets.keys()) + sorted(set(counts.index) - set(targets.keys()))
    return {"version": store.current_version(),
            "versions": [v.as_dict() for v in store.versions()],
            "counts": {"boundaries": len(dataset.streets),
                       **{c: int(counts.get(c, 0)) for c in categories}},
            "demo": dataset.is_demo}


def run_import(args: argparse.Namespace) -> dict:
    store = DatasetStore()
    targets = targets_of(args)
    dataset, base = _base_dataset(store, targets, args.base_version)
    report, read = check_facility_file(args, streets=dataset.streets, targets=targets)
    summary = report.summary()
    if not len(report.accepted):
        raise InputError(f"facilities file {args.facilities}: no row accepted, nothing "
                         f"imported (rejected {summary['rejected']}: "
                         f"{summary['reasons']}; ignored {summary['ignored']})")
    imported = prefix_ids(report.accepted, args.id_prefix)
    new = with_facilities(dataset, imported, mode=MODES[args.mode],
                          origin=f"{read.part or ''} {args.facilities}".strip())
    version = store.save(new, base_version=base, who=shell(), summary=change_summary(
        dataset, new, action="import", detail=f"{args.facilities} ({args.mode})"))
    return {**summary, "version": version}


def run_boundaries(args: argparse.Namespace) -> dict:
    store = DatasetStore()
    targets = targets_of(args)
    dataset, base = _base_dataset(store, targets, args.base_version)
    streets = read_boundaries(args.boundaries, code_field=args.code_field,
                              name_field=args.name_field,
                              population_field=args.population_field, layer=args.layer)
    problems = boundary_problems(streets)
    warn(problems)
    area = placement_area(streets, targets)
    outside = int((~inside_area(area, dataset.facilities["lon"].to_numpy(),
                                dataset.facilities["lat"].to_numpy())).sum())
    if outside:
        warn([f"{outside} facilities of the dataset lie outside the new study area"])
    new = with_boundaries(dataset, streets, origin=str(args.boundaries))
    version = store.save(new, base_version=base, who=shell(), summary=change_summary(
        dataset, new, action="boundaries", detail=str(args.boundaries)))
    return {"version": version, "boundaries": len(streets), "problems": problems,
            "facilities_outside": outside}


def run_rollback(args: argparse.Namespace) -> dict:
    store = DatasetStore()
    version = store.rollback(args.to, targets_of(args), who=shell())
    return {"version": version, "summary": store.versions()[0].summary}


def run_restore(args: argparse.Namespace) -> dict:
    store = DatasetStore()
    version = store.restore_demo(targets_of(args), who=shell())
    return {"version": version, "summary": store.versions()[0].summary}

