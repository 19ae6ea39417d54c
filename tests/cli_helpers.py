"""Running the CLI as other tools do: a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def run_cli(*args: str, state: Path | None = None, stdin: str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python cli.py ARGS`` from the repository root, output captured as text, its state
    (the dataset versions) in ``state``, else in the test's own state folder (the
    ``state_dir`` fixture sets ``CHANGNING_STATE_DIR``)."""
    extra = {"CHANGNING_STATE_DIR": str(state)} if state is not None else {}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300, input=stdin,
                          env={**os.environ, **extra, **(env or {})})
