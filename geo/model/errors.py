"""The one error type the project raises for bad input."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["InputError", "raise_if_problems"]

MAX_LISTED = 20


class InputError(ValueError):
    """Bad input: a file, row or field that cannot be used.

    The message names the file, row or field; several problems found together are listed in one
    message, one a line.
    """


def raise_if_problems(problems: Iterable[str], *, context: str) -> None:
    """Raise one :class:`InputError` listing every problem, or return when there is none.

    Parameters
    ----------
    problems
        One sentence a problem.
    context
        What was being read, e.g. ``"facilities file data/x.csv"``; starts the message.
    """
    problems = list(problems)
    if not problems:
        return
    if len(problems) == 1:
        raise InputError(f"{context}: {problems[0]}")
    listed = problems[:MAX_LISTED]
    more = len(problems) - len(listed)
    lines = [f"{context}: {len(problems)} problem(s)"] + [f"  - {p}" for p in listed]
    if more:
        lines.append(f"  … and {more} more")
    raise InputError("\n".join(lines))
