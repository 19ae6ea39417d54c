"""Public names of a subpackage, imported from their module on first use (PEP 562), so that
``import geo.data.io`` does not load every other module of ``geo.data`` (and the CLI starts as
fast as its command allows)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_api"]


def lazy_api(package: str, modules: Mapping[str, Sequence[str]]
             ) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` for ``package``.

    Parameters
    ----------
    package
        The package's ``__name__``.
    modules
        Module name (within the package) → the public names it defines.
    """
    home = {name: module for module, names in modules.items() for name in names}
    namespace = importlib.import_module(package).__dict__

    def getattr_(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home[name]}"), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *home})

    return list(home), getattr_, dir_
