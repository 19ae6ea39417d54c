"""Running the CLI as other tools do: a separate process."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """``python cli.py ARGS`` from the repository root, output captured as text."""
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
