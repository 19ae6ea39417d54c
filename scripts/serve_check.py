"""Before scripts/serve.sh starts the intranet server: is sign-in set up (the single sign-on's
``[auth]`` in the secrets, or a local account) and is there a cookie secret? Prints the cookie
secret for the server on success; exits 1 with what to do otherwise."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.data.accounts import UserStore
from geo.data.sqlite import StoreError
from geo.model.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
SECRETS = (Path.home() / ".streamlit" / "secrets.toml", ROOT / ".streamlit" / "secrets.toml")
OIDC_KEYS = ("client_id", "client_secret", "server_metadata_url", "redirect_uri", "cookie_secret")
MIN_SECRET = 32


def secrets() -> dict:
    """The secrets Streamlit will read (later files override earlier ones)."""
    merged: dict = {}
    for path in SECRETS:
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise SystemExit(f"serve: {path} cannot be read: {exc}") from None
            for section, values in data.items():
                if isinstance(values, dict):
                    merged.setdefault(section, {}).update(values)
    return merged


def problems(found: dict, accounts: int) -> list[str]:
    """What keeps the server from starting (empty: nothing)."""
    auth = found.get("auth", {})
    oidc = all(auth.get(key) for key in OIDC_KEYS)
    listed = []
    if not oidc and not accounts:
        listed.append("no sign-in is set up: add the single sign-on to .streamlit/secrets.toml "
                      "[auth] (client_id, client_secret, server_metadata_url, redirect_uri, "
                      "cookie_secret), or a first administrator: "
                      "python cli.py users add NAME --role admin")
    secret = str(auth.get("cookie_secret", ""))
    if len(secret) < MIN_SECRET or len(set(secret)) < MIN_SECRET // 2:
        listed.append(f"no usable cookie secret: put cookie_secret (at least {MIN_SECRET} random "
                      "characters, e.g. from: python3 -c 'import secrets; "
                      "print(secrets.token_urlsafe(48))') in .streamlit/secrets.toml [auth]")
    return listed


def main() -> int:
    found = secrets()
    try:
        accounts = UserStore().count()
    except (InputError, StoreError) as exc:
        print(f"serve: the users cannot be read: {exc}", file=sys.stderr)
        return 1
    listed = problems(found, accounts)
    if listed:
        print("serve: refusing to start the server mode:", file=sys.stderr)
        for line in listed:
            print(f"  - {line}", file=sys.stderr)
        return 1
    print(found["auth"]["cookie_secret"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
