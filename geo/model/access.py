"""Who may do what: the roles, the signed-in person (a :class:`Principal`) and the one rule
book every state-changing function consults (:func:`refusal`, :func:`require`).

The roles:

- ``admin`` — users, data versions (import, rollback, restore), targets, every scenario.
- ``planner`` — every street: data import, every scenario, every export.
- ``street:CODE[,CODE]`` — a street office: sees the district, but saves, deletes and exports
  scenarios and reports for its own streets only.
- ``viewer`` — reads and exports what it sees; changes nothing.

This module only decides; it stores nothing. The functions that change state (the dataset
store, the scenario store, the user table, the exports) call :func:`require` with the caller's
principal and write the audit line (see ``geo.data.audit``).
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from geo.model.errors import InputError

__all__ = [
    "ROLES",
    "Action",
    "Principal",
    "Refused",
    "parse_role",
    "refusal",
    "require",
    "shell_user",
    "unrestricted",
]

#: The role names (a street office is ``street:`` followed by its street codes).
ROLES = ("admin", "planner", "street", "viewer")
_CODE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")


class Action(StrEnum):
    """Everything a role is checked for."""

    IMPORT = "dataset.import"
    ROLLBACK = "dataset.rollback"
    RESTORE = "dataset.restore"
    SCENARIO_SAVE = "scenario.save"
    SCENARIO_DELETE = "scenario.delete"
    EXPORT = "export"
    TARGETS = "targets.edit"
    USERS = "users.manage"
    AUDIT = "audit.read"


#: Which role may do an action at all (a street office further only for its streets).
_ALLOWED = {
    Action.IMPORT: {"admin", "planner"},
    Action.ROLLBACK: {"admin"},
    Action.RESTORE: {"admin"},
    Action.SCENARIO_SAVE: {"admin", "planner", "street"},
    Action.SCENARIO_DELETE: {"admin", "planner", "street"},
    Action.EXPORT: {"admin", "planner", "street", "viewer"},
    Action.TARGETS: {"admin"},
    Action.USERS: {"admin"},
    Action.AUDIT: {"admin"},
}
#: The actions a street office may do only within its own streets.
_SCOPED = {Action.SCENARIO_SAVE, Action.SCENARIO_DELETE, Action.EXPORT}


class Refused(InputError):
    """The caller's role does not allow the action; nothing was changed."""


@dataclass(frozen=True)
class Principal:
    """The person a request acts for.

    ``role`` is one of :data:`ROLES`; ``streets`` the street codes of a street office (empty
    for the other roles); ``source`` how they came: ``"local"`` (a local account), ``"oidc"``
    (the single sign-on), ``"local-mode"`` (the one person of an app with no sign-in set up) or
    ``"shell"`` (the command line on the server).
    """

    name: str
    role: str
    streets: tuple[str, ...] = ()
    source: str = "local"

    @property
    def role_text(self) -> str:
        """The role as ``users add --role`` takes it, e.g. ``street:310105001``."""
        return f"street:{','.join(self.streets)}" if self.role == "street" else self.role

    @classmethod
    def with_role(cls, name: str, role_text: str, *, source: str) -> Principal:
        """A principal from a role text (see :func:`parse_role`)."""
        role, streets = parse_role(role_text)
        return cls(name=name, role=role, streets=streets, source=source)


def parse_role(text: str) -> tuple[str, tuple[str, ...]]:
    """``"admin"``, ``"planner"``, ``"viewer"`` or ``"street:CODE[,CODE]"`` → (role, codes).

    Raises
    ------
    InputError
        When ``text`` is none of these, or a street code is empty or not letters, digits,
        ``_`` or ``-`` (at most 32).
    """
    text = str(text).strip()
    if text in ("admin", "planner", "viewer"):
        return text, ()
    head, sep, rest = text.partition(":")
    if head != "street" or not sep:
        raise InputError(f"role {text!r}: expected admin, planner, viewer or street:CODE[,CODE]")
    codes = tuple(dict.fromkeys(code.strip() for code in rest.split(",")))
    bad = [code for code in codes if not _CODE.match(code)]
    if not codes or bad:
        raise InputError(f"role {text!r}: street codes are letters, digits, _ or - "
                         f"(at most 32), separated by commas")
    return "street", codes


def refusal(who: Principal, action: Action, *, streets: Iterable[str] = ()) -> str | None:
    """Why ``who`` may not do ``action`` (on ``streets``, the street codes it concerns; none:
    the whole district), or None when they may."""
    if who.role not in _ALLOWED[action]:
        return f"role {who.role_text} may not do {action.value}"
    if who.role == "street" and action in _SCOPED:
        wanted = sorted(set(streets))
        if not wanted:
            return (f"role {who.role_text} may do {action.value} only for its own streets, "
                    f"not for the whole district")
        outside = [code for code in wanted if code not in who.streets]
        if outside:
            return (f"role {who.role_text} may do {action.value} only for its own streets, "
                    f"not for {', '.join(outside)}")
    return None


def require(who: Principal, action: Action, *, streets: Iterable[str] = ()) -> None:
    """Return when ``who`` may do ``action`` on ``streets``; :class:`Refused` saying why not."""
    reason = refusal(who, action, streets=streets)
    if reason is not None:
        raise Refused(f"refused: {reason}")


def shell_user() -> str:
    """Who runs this process: ``CHANGNING_USER``, else the login name."""
    try:
        return os.environ.get("CHANGNING_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def unrestricted(source: str) -> Principal:
    """The one person of a machine with no sign-in set up (``source="local-mode"``), or the
    command line on the server (``source="shell"``: whoever can run it can read and write the
    state files anyway): the administrator's rights, named :func:`shell_user`."""
    return Principal(name=shell_user(), role="admin", source=source)
