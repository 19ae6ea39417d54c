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
    python cli.py import --facilities FILE [--crs C] [--category C | --category-field F]
                         [--category-map FILE] [--mapping FIELD=COLUMN ...] [--sheet S]
                         [--layer L] [--encoding E] [--geocode amap|tianditu|nominatim]
                         --out DIR
    python cli.py dataset show | import … | boundaries … | rollback --to N | restore-demo
                          --format json
    python cli.py fetch-osm --out DIR
    python cli.py users add NAME --role admin|planner|street:CODE[,CODE]|viewer [--no-password]
    python cli.py users remove NAME | passwd NAME | list --format json
    python cli.py audit [--since DATE] [--user NAME] --format json

Passwords are read from standard input or a prompt, never from the command line. The command
line acts with an administrator's rights (whoever runs it can read the state files anyway) and
its changes are audited under the login name (CHANGNING_USER overrides it).

Without --boundaries/--facilities, the current dataset version is used (the embedded demo
until something is imported). Bad input exits with code 2 and one message naming the file,
row or field; a dataset change on a stale --base-version exits 3; no traceback is shown.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from commands import compute, dataset, fetch_osm, importing, report, users
from commands.common import EXIT_BAD_INPUT, EXIT_BUG, EXIT_STALE
from geo.data.dataset_store import StaleVersion
from geo.data.files import clean_stale_temp
from geo.data.store import StoreError
from geo.model.errors import InputError

COMMAND_MODULES = (compute, report, importing, dataset, fetch_osm, users)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.add_parser(commands)
    return parser


def _run(args: argparse.Namespace) -> tuple[int, object]:
    """The command's exit code and output; every failure a one-line message on stderr."""
    try:
        clean_stale_temp()
        return 0, args.run(args)
    except StaleVersion as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_STALE, None
    except (InputError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
    except RecursionError:
        print("error: the input is nested too deeply to be read", file=sys.stderr)
    except MemoryError:
        print("error: the input is too large to be read in memory", file=sys.stderr)
    except Exception as exc:  # a bug: say so in one line, never a traceback
        print(f"error: unexpected {type(exc).__name__}: {exc} (a bug; please report it with "
              f"the input)", file=sys.stderr)
        return EXIT_BUG, None
    return EXIT_BAD_INPUT, None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    code, output = _run(args)
    if code:
        return code
    try:
        sys.stdout.write(json.dumps(output, ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
