"""``users`` and ``audit``: the local accounts of a standalone server, and the audit trail.

Passwords are read from standard input (one line) when it is not a terminal, else from a
prompt that does not echo, asked twice — never from the command line.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from commands.common import add_json_format, shell
from geo.model.errors import InputError

__all__ = ["add_parser", "read_password", "run_audit", "run_users_add", "run_users_list",
           "run_users_passwd", "run_users_remove"]

ROLE_HELP = "admin, planner, viewer, or street:CODE[,CODE] (a street office)"


def add_parser(commands: argparse._SubParsersAction) -> None:
    users = commands.add_parser("users", help="local accounts: add, remove, passwd, list")
    actions = users.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="a new account (password from stdin or a prompt)")
    add.add_argument("name")
    add.add_argument("--role", required=True, help=ROLE_HELP)
    add.add_argument("--no-password", action="store_true",
                     help="single sign-on only: no local password (the name is the e-mail or "
                          "subject the provider gives)")
    add.set_defaults(run=run_users_add)
    remove = actions.add_parser("remove", help="remove an account")
    remove.add_argument("name")
    remove.set_defaults(run=run_users_remove)
    passwd = actions.add_parser("passwd", help="a new password (from stdin or a prompt)")
    passwd.add_argument("name")
    passwd.set_defaults(run=run_users_passwd)
    listing = actions.add_parser("list", help="every account, with its role")
    listing.set_defaults(run=run_users_list)
    for parser in (add, remove, passwd, listing):
        add_json_format(parser)

    audit = commands.add_parser("audit", help="the audit trail, oldest first")
    audit.add_argument("--since", metavar="DATE",
                       help="from this UTC date (2026-12-01) or date and time on")
    audit.add_argument("--user", metavar="NAME", help="only this user's lines")
    add_json_format(audit)
    audit.set_defaults(run=run_audit)


def read_password(*, stdin=None, prompt=getpass.getpass) -> str:
    """The password: one line of ``stdin`` when it is not a terminal (its line ending
    removed), else typed twice at a prompt that does not echo."""
    stdin = stdin if stdin is not None else sys.stdin
    if not stdin.isatty():
        line = stdin.readline()
        if not line:
            raise InputError("password: standard input is empty (give it one line)")
        return line.rstrip("\r\n")
    first = prompt("Password: ")
    if prompt("Password again: ") != first:
        raise InputError("password: the two entries differ")
    return first


def _users():
    from geo.data.accounts import UserStore

    return UserStore()


def run_users_add(args: argparse.Namespace) -> dict:
    from geo.data.accounts import checked_user_name
    from geo.model.access import parse_role

    checked_user_name(args.name)  # before asking for a password they cannot take
    parse_role(args.role)
    password = None if args.no_password else read_password()
    return _users().add(shell(), args.name, role=args.role, password=password).as_dict()


def run_users_remove(args: argparse.Namespace) -> dict:
    store = _users()
    store.remove(shell(), args.name)
    if not store.count():
        print("note: no local account is left: the app requires sign-in only with the single "
              "sign-on configured or in server mode (scripts/serve.sh); otherwise it runs in "
              "local mode, for 127.0.0.1 only", file=sys.stderr)
    return {"removed": args.name}


def run_users_passwd(args: argparse.Namespace) -> dict:
    store = _users()
    if store.account(args.name) is None:  # before asking for a password it cannot take
        raise InputError(f"user {args.name!r}: no such user")
    store.set_password(shell(), args.name, read_password())
    return store.account(args.name).as_dict()


def run_users_list(args: argparse.Namespace) -> list[dict]:
    return [account.as_dict() for account in _users().accounts(shell())]


def run_audit(args: argparse.Namespace) -> list[dict]:
    from geo.data.audit import AuditLog, checked, parse_since
    from geo.model.access import Action

    log = AuditLog()
    since = parse_since(args.since) if args.since else None
    checked(log, shell(), Action.AUDIT, object="audit trail")
    return [entry.as_dict() for entry in log.entries(since=since, user=args.user)]
