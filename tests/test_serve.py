"""``scripts/serve.sh``, the server mode: it refuses to start without sign-in or a cookie
secret, saying what to add, and starts once both are there."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request

import pytest

from geo.data.accounts import UserStore
from tests.conftest import ROOT, who
from tests.e2e import free_port

SERVE = ROOT / "scripts" / "serve.sh"


@pytest.fixture
def home(tmp_path, state_dir):
    """A home folder of this test (where Streamlit and serve.sh look for secrets.toml)."""
    if (ROOT / ".streamlit" / "secrets.toml").exists():
        pytest.skip("this checkout has its own .streamlit/secrets.toml")
    folder = tmp_path / "home"
    (folder / ".streamlit").mkdir(parents=True)
    return folder


def _env(home, state_dir, port=0) -> dict:
    return {**os.environ, "HOME": str(home), "CHANGNING_STATE_DIR": str(state_dir),
            "CHANGNING_SKIP_INSTALL": "1", "CHANGNING_ADDRESS": "127.0.0.1",
            "CHANGNING_PORT": str(port)}


def _refused(home, state_dir) -> str:
    done = subprocess.run(["bash", str(SERVE)], env=_env(home, state_dir), capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1, done
    assert done.stderr.startswith("serve: refusing to start the server mode:")
    return done.stderr


def test_without_sign_in_it_refuses(home, state_dir):
    message = _refused(home, state_dir)
    assert "no sign-in is set up" in message and "users add NAME --role admin" in message
    assert "no usable cookie secret" in message


def test_with_an_account_but_no_cookie_secret_it_refuses(home, state_dir):
    UserStore(state_dir / "state.sqlite").add(who(), "admin", role="admin",
                                              password="a long enough password")
    message = _refused(home, state_dir)
    assert "no sign-in" not in message and "no usable cookie secret" in message
    for weak in ("short", "x" * 48):
        (home / ".streamlit" / "secrets.toml").write_text(f'[auth]\ncookie_secret = "{weak}"\n')
        assert "no usable cookie secret" in _refused(home, state_dir)


def test_with_an_account_and_a_cookie_secret_it_serves(home, state_dir):
    UserStore(state_dir / "state.sqlite").add(who(), "admin", role="admin",
                                              password="a long enough password")
    (home / ".streamlit" / "secrets.toml").write_text(
        '[auth]\ncookie_secret = "0123456789abcdefghijklmnopqrstuvwxyz-0123456789"\n')
    port = free_port()
    process = subprocess.Popen(["bash", str(SERVE), "--server.headless", "true",
                                "--server.fileWatcherType", "none"],
                               env=_env(home, state_dir, port), cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
    finally:
        process.terminate()
        process.wait(timeout=15)
