"""Sign-in end to end: the real app under ``streamlit run`` with its sign-in configured, in
Debian's Chromium — the single sign-on against an OpenID Connect provider the test starts on
127.0.0.1 (oidc-provider-mock), and local accounts: wrong password, lock, expiry, and the
anonymous reaching nothing but the sign-in page."""

from __future__ import annotations

import pytest

from geo.data.accounts import UserStore
from geo.data.audit import AuditLog
from geo.data.store import ScenarioStore
from tests.conftest import who
from tests.e2e import (
    CHROMIUM,
    free_port,
    oidc_provider,
    oidc_secrets,
    set_oidc_user,
    streamlit_app,
    wait_idle,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} absent: install Debian's chromium (.ci/run does)",
                allow_module_level=True)

SIGN_IN_TITLE = "长宁区设施覆盖地图：登录"
OVERVIEW = "长宁区 15 分钟社区生活圈设施覆盖"
CHENGJIAQIAO = "310105010000"  # 程家桥街道: the street office of the tests
OFFICE_POINT = (121.370, 31.200)  # in 程家桥
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def provider():
    with oidc_provider() as url:
        set_oidc_user(url, "planner-1", {"email": "planner@changning.example", "role": "planner"})
        set_oidc_user(url, "office-1", {"email": "office@changning.example",
                                        "role": f"street:{CHENGJIAQIAO}"})
        set_oidc_user(url, "nobody-1", {"email": "nobody@changning.example"})
        yield url


@pytest.fixture(scope="module")
def sso_app(provider, tmp_path_factory):
    """The app with the single sign-on configured; its state folder."""
    folder = tmp_path_factory.mktemp("sso")
    port = free_port()
    secrets = oidc_secrets(folder, provider=provider, app_port=port)
    with streamlit_app(port=port, state_dir=folder / "state",
                       extra_args=("--secrets.files", str(secrets))) as url:
        yield url, folder / "state"


def _title(page) -> str:
    wait_idle(page)
    return page.get_by_role("heading", level=1).first.inner_text().strip()


def _sso_sign_in(page, url: str, sub: str) -> None:
    page.goto(f"{url}/")
    page.get_by_role("button", name="使用统一身份认证登录").click()
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**", timeout=30_000)
    page.get_by_test_id("stSidebarNav").wait_for(timeout=60_000)
    wait_idle(page)


def _go(page, link: str, heading: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()
    page.get_by_role("heading", name=heading).first.wait_for(timeout=90_000)
    wait_idle(page)


def test_anonymous_reach_only_the_sign_in_page(page, sso_app):
    url, _ = sso_app
    for path in ("", "data", "scenarios", "street", "map_explorer", "targets_and_data"):
        page.goto(f"{url}/{path}")
        assert _title(page) == SIGN_IN_TITLE, path
        assert page.get_by_test_id("stSidebarNav").count() == 0
        assert page.get_by_text("数据导入").count() == 0
        assert page.locator("iframe").count() == 0
        assert page.get_by_text("设施清单：CSV、Excel").count() == 0


def test_a_planner_signs_in_and_imports(page, sso_app):
    url, state = sso_app
    _sso_sign_in(page, url, "planner-1")
    assert _title(page) == OVERVIEW
    # the e-mail is shown as text ("@" kept from becoming a link)
    assert page.get_by_text("changning.example · 区规划人员").count() == 1
    _go(page, "数据导入", "数据导入")
    page.get_by_text("设施清单：CSV、Excel").wait_for(timeout=60_000)  # the uploader
    lines = AuditLog(state / "state.sqlite").entries(user="planner@changning.example")
    assert [(e.action, e.role, e.outcome) for e in lines][:1] == [("sign-in", "planner", "ok")]
    # the only outside request is the mock provider's own stylesheet (blocked), never the app's
    assert len(page.problems["outside"]) == 1 and "css" in page.problems["outside"][0], \
        page.problems["outside"]


def _save_scenario(page) -> None:
    """Open the storage expander (a rerun that changes the page may close it) and save."""
    wait_idle(page)
    save = page.get_by_role("button", name="保存情景")
    for _ in range(3):
        if save.is_visible():
            break
        page.get_by_text("保存与导入导出").click()
        try:
            save.wait_for(timeout=5_000)
        except sync_api.TimeoutError:
            continue
    save.click()
    wait_idle(page)


def test_a_street_office_works_on_its_own_street_only(page, sso_app):
    url, state = sso_app
    _sso_sign_in(page, url, "office-1")
    assert page.get_by_text("changning.example · 街道办 310105010000").count() == 1
    _go(page, "街道视图", "街道视图")
    page.get_by_role("heading", name="程家桥街道").wait_for(timeout=60_000)
    _go(page, "数据导入", "数据导入")  # no import here, and the server refuses it anyway
    page.get_by_text("导入数据仅限区规划人员和管理员。").wait_for(timeout=60_000)
    assert page.get_by_text("设施清单：CSV、Excel").count() == 0

    _go(page, "情景模拟", "情景模拟")
    page.get_by_role("button", name="新增充电桩").click()  # at 121.40, 31.21: 天山路, not ours
    page.get_by_text("1. add charger").wait_for(timeout=60_000)
    wait_idle(page)
    _save_scenario(page)
    refused = page.get_by_text("may do scenario.save only for its own streets, not for "
                               "310105006000")
    refused.wait_for(timeout=30_000)
    store = ScenarioStore(state / "scenarios.sqlite")
    assert store.list() == []
    line = AuditLog(state / "state.sqlite").entries()[-1]
    assert (line.user, line.action, line.outcome) == \
        ("office@changning.example", "scenario.save", "refused")

    # undo, add in its own street: saved, scoped to it
    first_edit = page.get_by_text("1. add charger NEW-1")
    for _ in range(3):  # a click landing while the page reruns can be lost: until it is gone
        page.get_by_role("button", name="撤销").first.click()
        try:
            first_edit.wait_for(state="detached", timeout=15_000)
            break
        except sync_api.TimeoutError:
            continue
    wait_idle(page)
    for label, value in (("经度", OFFICE_POINT[0]), ("纬度", OFFICE_POINT[1])):
        box = page.get_by_label(label)
        box.fill(f"{value:.6f}")
        box.press("Tab")  # commits the number: a rerun
        page.wait_for_timeout(1_000)
        wait_idle(page)
    page.get_by_role("button", name="新增充电桩").click()
    page.get_by_text(f"→ {OFFICE_POINT[0]:.5f}, {OFFICE_POINT[1]:.5f}").wait_for(timeout=60_000)
    wait_idle(page)
    _save_scenario(page)
    for _ in range(60):  # the success message lasts one run: the store is what counts
        if store.list():
            break
        page.wait_for_timeout(500)
    assert store.list(), page.get_by_test_id("stAlert").all_inner_texts()
    (saved,) = store.list()
    assert (saved.owner, saved.streets) == ("office@changning.example", (CHENGJIAQIAO,))


def test_a_user_with_no_role_is_stopped(page, sso_app):
    url, state = sso_app
    page.goto(f"{url}/")
    page.get_by_role("button", name="使用统一身份认证登录").click()
    page.get_by_placeholder("sub").fill("nobody-1")
    page.get_by_role("button", name="Authorize").click()
    page.get_by_text("已登录，但没有分配角色").wait_for(timeout=60_000)
    assert page.get_by_test_id("stSidebarNav").count() == 0
    line = AuditLog(state / "state.sqlite").entries()[-1]
    assert (line.user, line.outcome) == ("nobody@changning.example", "refused")


@pytest.fixture(scope="module")
def local_app(tmp_path_factory):
    """The app with local accounts (a planner), locking after 2 failures, sessions of 12 s."""
    state = tmp_path_factory.mktemp("local-state")
    UserStore(state / "state.sqlite").add(who("root", "admin", source="shell"), "planner",
                                          role="planner", password=PASSWORD)
    with streamlit_app(state_dir=state, env={"CHANGNING_SIGNIN_MAX_FAILURES": "2",
                                             "CHANGNING_SESSION_MINUTES": "0.2"}) as url:
        yield url, state


def _local_sign_in(page, url: str, name: str, password: str) -> None:
    page.goto(f"{url}/")
    wait_idle(page)  # typing into a form still being drawn can be lost
    for label, value in (("用户名", name), ("密码", password)):
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        assert box.input_value() == value
    page.get_by_role("button", name="登录").click()
    page.wait_for_timeout(300)
    wait_idle(page)


def test_local_accounts_wrong_password_lock_and_expiry(page, local_app):
    url, state = local_app
    _local_sign_in(page, url, "planner", "not the password")
    page.get_by_text("用户名或密码错误。").wait_for(timeout=30_000)
    assert _title(page) == SIGN_IN_TITLE

    _local_sign_in(page, url, "planner", PASSWORD)
    # the sign-in's rerun may start after _local_sign_in's short wait on a loaded machine
    page.get_by_role("heading", name=OVERVIEW).wait_for(timeout=60_000)
    assert _title(page) == OVERVIEW
    page.wait_for_timeout(13_000)  # the session (12 s) expires
    page.get_by_test_id("stSidebarNav").get_by_text("目标与数据", exact=True).click()
    page.get_by_text("会话已过期，请重新登录。").wait_for(timeout=30_000)
    assert _title(page) == SIGN_IN_TITLE

    for _ in range(2):
        _local_sign_in(page, url, "planner", "still not it")
    _local_sign_in(page, url, "planner", PASSWORD)
    page.get_by_text("失败次数过多").wait_for(timeout=30_000)
    assert _title(page) == SIGN_IN_TITLE
    outcomes = [(e.action, e.outcome) for e in AuditLog(state / "state.sqlite").entries()
                if e.action != "users.add"]
    assert outcomes == [("sign-in", "failed"), ("sign-in", "ok"), ("sign-in", "failed"),
                        ("sign-in", "failed"), ("sign-in", "refused")]
