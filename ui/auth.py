"""Sign-in: who the session acts for, checked on every page run before anything else.

Three ways the app runs:

- **Sign-in configured** — the intranet's OpenID Connect provider (``[auth]`` in
  ``.streamlit/secrets.toml``, through Streamlit's ``st.login``) and/or local accounts (the
  users table, ``python cli.py users add``). Every page requires sign-in; the anonymous see the
  sign-in page only. A session lasts ``CHANGNING_SESSION_MINUTES``; its role is read again from
  the users table (or the provider's claim) on every run, so a removed user is out at once.
- **Local mode** — neither is configured: the one person on their own machine, with every right,
  as before sign-in existed; every page says 本机模式 / local mode. It serves only on the
  loopback address: bound to another address, the pages refuse to show.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from geo.data.accounts import SignInRefused, UserStore, lock_minutes
from geo.data.audit import AuditLog
from geo.data.files import env_number
from geo.data.sqlite import StoreError
from geo.model import config
from geo.model.access import Principal, unrestricted
from geo.model.errors import InputError
from ui.i18n import t
from ui.markdown import as_text

__all__ = ["KEYS", "SignInSetup", "audit_log", "current", "gate", "identity_sidebar",
           "oidc_configured", "principal", "role_label", "secrets_broken", "server_mode",
           "session_minutes", "sign_in_page", "sign_in_setup", "users"]

KEYS = {"local": "auth_local", "expired": "auth_expired", "oidc_seen": "auth_oidc_seen"}
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: The ``[changning_auth]`` section of the secrets: ``role_claim`` names the ID-token claim
#: holding the role (default ``role``).
SETTINGS = "changning_auth"
ROLE_NAMES = {"admin": ("管理员", "administrator"), "planner": ("区规划人员", "district planner"),
              "street": ("街道办", "street office"), "viewer": ("只读", "viewer")}


def users() -> UserStore:
    """The local accounts (the state database under ``CHANGNING_STATE_DIR``)."""
    return UserStore(config.STATE_DB)


def audit_log() -> AuditLog:
    """The audit trail (the state database under ``CHANGNING_STATE_DIR``)."""
    return AuditLog(config.STATE_DB)


def _secrets_section(name: str) -> Mapping:
    try:
        section = st.secrets.get(name)
    except Exception:
        return {}
    return section if isinstance(section, Mapping) else {}


def secrets_broken() -> str:
    """Why a secrets file Streamlit reads cannot be parsed ("" when none is damaged): the
    app then requires sign-in it cannot offer, rather than opening in local mode."""
    for name in st.get_option("secrets.files") or ():
        path = Path(name)
        if not path.is_file():
            continue
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return f"{path.name}: {exc}"  # not the server's path: the anonymous see this
    return ""


def server_mode() -> bool:
    """Whether the app runs as the district's server (``CHANGNING_SERVER_MODE=1``, set by
    scripts/serve.sh): sign-in is required whatever else is configured."""
    return os.environ.get("CHANGNING_SERVER_MODE", "") == "1"


def oidc_configured() -> bool:
    """Whether ``[auth]`` in the secrets names a provider (``st.login`` can be used)."""
    auth = _secrets_section("auth")
    return bool(auth.get("client_id") and auth.get("server_metadata_url")
                and auth.get("redirect_uri") and auth.get("cookie_secret"))


@dataclass(frozen=True)
class SignInSetup:
    """What sign-in this server has: a provider, local accounts, a damaged secrets file
    (``broken``: why it cannot be read), read once a page run."""

    oidc: bool
    accounts: int
    broken: str

    @property
    def required(self) -> bool:
        """Server mode, a provider, a local account, or damaged secrets (failing closed)."""
        return server_mode() or bool(self.broken) or self.oidc or self.accounts > 0

    @property
    def available(self) -> bool:
        """Whether there is a way to sign in."""
        return self.oidc or self.accounts > 0


def sign_in_setup() -> SignInSetup:
    """The sign-in this server has now."""
    return SignInSetup(oidc=oidc_configured(), accounts=users().count(),
                       broken=secrets_broken())



def session_minutes() -> float:
    """How long a session lasts (``CHANGNING_SESSION_MINUTES``)."""
    return env_number("CHANGNING_SESSION_MINUTES", config.SESSION_MINUTES)


def role_label(who: Principal) -> str:
    """The role in the page's language, with a street office's codes."""
    label = t(*ROLE_NAMES.get(who.role, (who.role, who.role)))
    return f"{label} {', '.join(who.streets)}" if who.streets else label


def _loopback(address: str) -> bool:
    return address in LOOPBACK or address.startswith("127.")


# -- the session's principal ---------------------------------------------------------------


def _expired(started: float) -> bool:
    return time.time() - started > session_minutes() * 60


def _local_principal() -> Principal | None:
    """The local account signed in in this session, as it is now; None when there is none,
    the session has expired, or the account changed since (removed, added again, a new
    password): that session is over."""
    session = st.session_state.get(KEYS["local"])
    if not session:
        return None
    if _expired(session["started"]):
        del st.session_state[KEYS["local"]]
        st.session_state[KEYS["expired"]] = True
        return None
    store = users()
    if store.session_stamp(session["name"]) != session["stamp"]:
        del st.session_state[KEYS["local"]]
        return None
    return store.principal(session["name"], source="local")


def _claims() -> dict:
    try:
        return dict(st.user.to_dict()) if st.user.get("is_logged_in") else {}
    except Exception:
        return {}


def _table_role(claims: Mapping) -> Principal | None:
    """The role of a single-sign-on user from the users table: a ``--no-password`` account
    named by the subject, or by the e-mail unless the provider says it is not verified."""
    keys = ["sub"] + (["email"] if claims.get("email_verified") is not False else [])
    for key in keys:
        if not claims.get(key):
            continue
        account = users().account(str(claims[key]))
        if account is not None and not account.has_password:
            return Principal.with_role(account.name, account.role, source="oidc")
    return None


def _oidc_role(claims: Mapping) -> Principal | None:
    """The role from the users table (an administrator's decision comes first), else from
    the configured claim; None when neither gives one."""
    who = _table_role(claims)
    if who is not None:
        return who
    name = str(claims.get("email") or claims.get("sub") or "")
    value = claims.get(str(_secrets_section(SETTINGS).get("role_claim", "role")))
    if isinstance(value, str) and value.strip():
        try:
            return Principal.with_role(name, value, source="oidc")
        except InputError:
            return None
    return None


def _oidc_principal() -> Principal | None:
    """The single-sign-on user of this browser with their role; None when nobody is signed
    in, the sign-in is older than the session time, or no role is found (said on the page)."""
    claims = _claims()
    if not claims:
        return None
    issued = claims.get("iat")  # required in an ID token: without it, treated as expired
    if not isinstance(issued, int | float) or _expired(float(issued)):
        st.session_state[KEYS["expired"]] = True
        return None
    who = _oidc_role(claims)
    seen = st.session_state.get(KEYS["oidc_seen"])
    name = str(claims.get("email") or claims.get("sub") or "")
    if who is None:
        if seen != ("refused", name):
            audit_log().append(None, "sign-in", user=name, object="single sign-on",
                               outcome="refused", summary="no role: no valid claim, no user")
            st.session_state[KEYS["oidc_seen"]] = ("refused", name)
        st.error(as_text(t(f"{name} 已登录，但没有分配角色，请联系管理员。",
                           f"{name} is signed in but has no role; ask an administrator.")))
        st.button(t("退出登录", "Sign out"), on_click=st.logout, key="auth_no_role_out")
        st.stop()
    if seen != ("ok", name):
        audit_log().append(who, "sign-in", object="single sign-on", summary="signed in")
        st.session_state[KEYS["oidc_seen"]] = ("ok", name)
    return who


def current(setup: SignInSetup | None = None) -> Principal | None:
    """Who this session acts for: the local-mode person, a signed-in user, or None
    (``setup``: the server's sign-in, when already read)."""
    setup = setup or sign_in_setup()
    if not setup.required:
        return unrestricted("local-mode")
    return _local_principal() or (_oidc_principal() if setup.oidc else None)


# -- the pages -----------------------------------------------------------------------------


def _sign_in_form() -> None:
    with st.form("auth_sign_in"):
        name = st.text_input(t("用户名", "User name"))
        password = st.text_input(t("密码", "Password"), type="password")
        submitted = st.form_submit_button(t("登录", "Sign in"))
    if not submitted:
        return
    address = st.context.ip_address
    try:
        who = users().sign_in(name, password,
                              client=address if isinstance(address, str) else "")
    except StoreError as exc:
        st.error(t("无法读取用户数据：", "The users cannot be read: ") + as_text(str(exc)))
        return
    except SignInRefused as exc:
        minutes = f"{lock_minutes():g}"
        st.error(t(f"失败次数过多，请 {minutes} 分钟后再试，或联系管理员。",
                   f"Too many failed attempts: wait {minutes} minutes and try again, or ask "
                   "an administrator.") if exc.locked else
                 t("用户名或密码错误。", "Wrong name or password."))
        return
    st.session_state[KEYS["local"]] = {"name": who.name, "started": time.time(),
                                       "stamp": users().session_stamp(who.name)}
    st.session_state.pop(KEYS["expired"], None)
    st.rerun()


def sign_in_page() -> None:
    """The only page the anonymous see: single sign-on and/or the local accounts' form."""
    st.title(t("长宁区设施覆盖地图：登录", "Changning coverage map: sign in"))
    if st.session_state.get(KEYS["expired"]):
        st.warning(t("会话已过期，请重新登录。", "The session has expired; sign in again."))
    if oidc_configured():
        st.button(t("使用统一身份认证登录", "Sign in with the district's single sign-on"),
                  on_click=st.login, type="primary", key="auth_oidc")
    if users().count():
        _sign_in_form()


def _sign_out() -> None:
    who = current()
    st.session_state.pop(KEYS["local"], None)
    st.session_state.pop(KEYS["oidc_seen"], None)
    if who is not None:
        audit_log().append(who, "sign-out")
    if who is not None and who.source == "oidc":
        st.logout()


def _refuse_other_address() -> None:
    """In local mode, stop with the reason when the server is bound to another address than
    loopback."""
    address = str(st.get_option("server.address") or "")
    if _loopback(address):
        return
    where = address or "所有地址"
    st.error(t(f"未设置登录：本应用只在本机（127.0.0.1）提供服务，拒绝在 {where} 上"
               "提供页面。请先设置登录（见 README「为全区运行」）。",
               f"No sign-in is set up: the app serves this machine (127.0.0.1) only "
               f"and refuses to serve pages on {address or 'every address'}. Set up "
               "sign-in first (README, “Running it for the district”)."))
    st.stop()


def gate() -> Principal | None:
    """Run first on every page run: the session's principal, or None when the session must
    sign in first. In local mode bound to an address other than loopback, the page says why
    it refuses and stops; with sign-in, tracebacks are never shown in the browser."""
    try:
        setup = sign_in_setup()
        who = current(setup)
    except (InputError, StoreError) as exc:
        st.error(t("无法读取用户数据：", "The users cannot be read: ") + as_text(str(exc)))
        st.stop()
    if setup.broken or (setup.required and not setup.available):
        st.error(t("已要求登录，但没有可用的登录方式：", "Sign-in is required but none is "
                   "available: ") + as_text(setup.broken or t(
                       "未配置统一身份认证，也没有本地账号（python cli.py users add）。",
                       "no single sign-on is configured and there is no local account "
                       "(python cli.py users add).")))
        st.stop()
    if not setup.required:
        _refuse_other_address()
    else:
        st.set_option("client.showErrorDetails", "none")
    return who


def principal() -> Principal:
    """Who this page run acts for (see :func:`gate`), with who it is (or 本机模式 / local
    mode) in the sidebar; a page reached without signing in stops here, saying so (the
    navigation offers only the sign-in page to the anonymous: this is the second lock)."""
    who = gate()
    if who is None:
        st.warning(t("请先登录。", "Sign in first."))
        sign_in_page()
        st.stop()
    return who


def identity_sidebar(who: Principal) -> None:
    """本机模式 / local mode, or who is signed in with their role and a sign-out button."""
    if who.source == "local-mode":
        st.sidebar.info(t("本机模式：未设置登录，仅本机可访问。",
                          "Local mode: no sign-in is set up; only this machine can connect."))
        return
    st.sidebar.caption(as_text(f"{who.name} · {role_label(who)}"))
    st.sidebar.button(t("退出登录", "Sign out"), on_click=_sign_out, key="auth_sign_out")
