"""The layers of the house, enforced: the import-linter contracts of pyproject.toml hold, and
break when a module imports across them; each geo subpackage names its public API; no module
grows past 500 lines."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SUBPACKAGES = ("model", "engine", "data", "plan")
MAX_LINES = 500
CONTRACTS = 4


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the tree at ``root`` (its pyproject.toml), without a cache."""
    lint = Path(sys.executable).with_name("lint-imports")
    command = [str(lint)] if lint.exists() else [sys.executable, "-m", "importlinter.cli"]
    return subprocess.run([*command, "--no-cache"], cwd=root, capture_output=True, text=True,
                          timeout=120)


def test_every_contract_is_kept():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {CONTRACTS} kept, 0 broken." in done.stdout


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory) -> Path:
    """The packages and pyproject.toml of the repository, copied, to break on purpose."""
    root = tmp_path_factory.mktemp("house")
    for package in ("commands", "geo", "layers", "ui"):
        shutil.copytree(ROOT / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root)
    return root


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("geo/engine/_bad.py", "import streamlit", "geo is pure computation"),
    ("geo/plan/_bad.py", "import folium", "geo is pure computation"),
    ("geo/engine/_bad.py", "from geo.data import io", "geo: plan above data above engine"),
    ("geo/engine/_bad.py", "import geo.plan.gaps", "geo: plan above data above engine"),
    ("geo/model/_bad.py", "from geo.engine import hexgrid", "geo: plan above data above engine"),
    ("geo/data/_bad.py", "from geo.plan import scenario", "geo: plan above data above engine"),
    ("layers/_bad.py", "import streamlit as st", "layers draws and the command line runs"),
    ("commands/_bad.py", "import streamlit", "layers draws and the command line runs"),
    ("commands/_bad.py", "import ui.data", "the house: ui and commands above"),
    ("geo/data/_bad.py", "import layers.report", "the house: ui and commands above"),
])
def test_an_import_across_the_layers_breaks_a_contract(tree_copy, module, line, broken):
    bad = tree_copy / module
    bad.write_text(f'"""A module that breaks the layers."""\n\n{line}\n')
    try:
        done = lint_imports(tree_copy)
    finally:
        bad.unlink()
    assert done.returncode == 1, done.stdout + done.stderr
    verdicts = dict(line.rsplit(" ", 1) for line in done.stdout.splitlines()
                    if line.endswith((" KEPT", " BROKEN")))
    assert len(verdicts) == CONTRACTS
    assert [v for name, v in verdicts.items() if name.startswith(broken)] == ["BROKEN"]


def test_the_subpackages_import_in_any_order_and_load_their_modules_on_use():
    loaded = ("import sys; print(sorted(m for m in sys.modules if m.startswith('geo.') "
              "and m.count('.') == 2))")
    for order in (SUBPACKAGES, tuple(reversed(SUBPACKAGES))):
        statement = "import " + ", ".join(f"geo.{name}" for name in order)
        done = subprocess.run([sys.executable, "-c", f"{statement}; {loaded}"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"
    use = ("from geo.data import read_table; import geo.plan; geo.plan.gap_blocks; "
           f"{loaded}")
    done = subprocess.run([sys.executable, "-c", use], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert "geo.data.io" in done.stdout and "geo.plan.gaps" in done.stdout
    assert "geo.data.geocode" not in done.stdout and "geo.engine.dask_engine" not in done.stdout


def _modules(package: str) -> list[str]:
    path = ROOT / "geo" / package
    return [f"geo.{package}.{m.name}" for m in pkgutil.iter_modules([str(path)])]


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_each_subpackage_names_its_public_api(package):
    """``__all__`` of ``geo.<package>`` resolves, and holds the ``__all__`` of every module:
    a new public function is exported where a newcomer looks for it."""
    top = importlib.import_module(f"geo.{package}")
    exported = set(top.__all__)
    assert exported, f"geo.{package} exports nothing"
    assert len(top.__all__) == len(exported)
    assert [name for name in top.__all__ if not hasattr(top, name)] == []
    for name in _modules(package):
        module = importlib.import_module(name)
        assert hasattr(module, "__all__"), f"{name} has no __all__"
        assert set(module.__all__) <= exported, f"{name}: {set(module.__all__) - exported}"
        for public in module.__all__:
            assert getattr(top, public) is getattr(module, public)


def test_no_module_is_over_500_lines():
    files = [p for folder in ("geo", "layers", "ui", "pages", "commands", "scripts", "bench")
             for p in (ROOT / folder).rglob("*.py")] + [ROOT / "app.py", ROOT / "cli.py"]
    too_long = {str(p.relative_to(ROOT)): n for p in files
                if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert too_long == {}
