"""Sign-in on the pages (AppTest): local mode, the sign-in page as the only page of the
anonymous, wrong passwords, the lock, expiry, and what each role sees on the Data, Street and
Scenarios pages."""

from __future__ import annotations

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from geo.data.accounts import UserStore
from geo.data.audit import AuditLog
from geo.model import config
from tests.apptest import TIMEOUT
from tests.conftest import ROOT, who

PASSWORD = "a long enough password"
PAGES = ["app.py", "pages/map_explorer.py", "pages/street.py", "pages/scenarios.py",
         "pages/targets_and_data.py", "pages/data.py"]
STREET = "310105006000"  # 天山路街道 in the demo (not the first street)


@pytest.fixture
def accounts():
    users = UserStore(config.STATE_DB)
    admin = who("root", "admin", source="shell")
    for name, role in (("admin", "admin"), ("planner", "planner"), ("office", f"street:{STREET}"),
                       ("viewer", "viewer")):
        users.add(admin, name, role=role, password=PASSWORD)
    return users


def _app(path="app.py") -> AppTest:
    return AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT)


def _sign_in(at: AppTest, name: str, password: str = PASSWORD) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def _signed_in(name: str) -> AppTest:
    at = _sign_in(_app().run(), name)
    assert at.title[0].value == "长宁区 15 分钟社区生活圈设施覆盖"
    return at


def _sidebar_text(at: AppTest) -> str:
    return " ".join(e.value for e in [*at.sidebar.caption, *at.sidebar.info])


def test_local_mode_says_so_on_every_page():
    for page in PAGES:
        at = _app(page).run()
        assert not at.exception, (page, at.exception)
        assert "本机模式" in _sidebar_text(at), page
        assert not at.text_input or at.text_input[0].label != "用户名"


@pytest.fixture
def bound_everywhere():
    """The server option as ``--server.address 0.0.0.0`` sets it, for one test."""
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    yield
    st_config.set_option("server.address", before)


def test_local_mode_refuses_to_serve_another_address(bound_everywhere):
    at = _app().run()
    assert not at.exception
    assert "拒绝在 0.0.0.0 上提供页面" in at.error[0].value
    assert not at.title and not at.metric and not at.dataframe


def test_with_an_account_the_anonymous_see_only_the_sign_in_page(accounts):
    at = _app().run()
    assert [t.value for t in at.title] == ["长宁区设施覆盖地图：登录"]
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    assert not at.metric and not at.dataframe and not at.get("iframe")
    for page in PAGES[1:]:  # a page reached directly shows the sign-in form, nothing else
        at = _app(page).run()
        assert not at.exception, (page, at.exception)
        assert [w.value for w in at.warning] == ["请先登录。"], page
        assert [t.value for t in at.title] == ["长宁区设施覆盖地图：登录"], page
        assert [b.label for b in at.button] == ["登录"], page
        assert not at.dataframe and not at.metric and not at.get("iframe"), page


def test_a_wrong_password_is_refused_and_recorded(accounts):
    at = _sign_in(_app().run(), "planner", "not the password")
    assert [e.value for e in at.error] == ["用户名或密码错误。"]
    assert at.title[0].value == "长宁区设施覆盖地图：登录"
    line = AuditLog(config.STATE_DB).entries()[-1]
    assert (line.user, line.action, line.outcome) == ("planner", "sign-in", "failed")


def test_repeated_failures_lock_the_name(accounts, monkeypatch):
    monkeypatch.setenv("CHANGNING_SIGNIN_MAX_FAILURES", "2")
    at = _app().run()
    for _ in range(2):
        _sign_in(at, "planner", "not the password")
    _sign_in(at, "planner")  # the right password, too late
    assert "失败次数过多" in at.error[0].value
    assert at.title[0].value == "长宁区设施覆盖地图：登录"


def test_a_session_expires(accounts, monkeypatch):
    at = _signed_in("planner")
    at.session_state["auth_local"] = {**at.session_state["auth_local"],
                                      "started": at.session_state["auth_local"]["started"]
                                      - 481 * 60}
    at.run()
    assert at.title[0].value == "长宁区设施覆盖地图：登录"
    assert "会话已过期" in at.warning[0].value


def test_a_removed_user_is_out_at_the_next_run(accounts):
    at = _signed_in("viewer")
    accounts.remove(who("root", "admin", source="shell"), "viewer")
    at.run()
    assert at.title[0].value == "长宁区设施覆盖地图：登录"


def test_sign_out(accounts):
    at = _signed_in("planner")
    at.sidebar.button(key="auth_sign_out").click().run()
    assert at.title[0].value == "长宁区设施覆盖地图：登录"
    assert AuditLog(config.STATE_DB).entries()[-1].action == "sign-out"


@pytest.mark.parametrize(("name", "imports", "rolls_back", "audit"), [
    ("admin", True, True, True), ("planner", True, False, False),
    ("office", False, False, False), ("viewer", False, False, False)])
def test_the_data_page_for_each_role(accounts, name, imports, rolls_back, audit):
    at = _signed_in(name).switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    assert (len(at.tabs) == 4) is imports  # facilities, boundaries, residents, network
    assert (at.get("file_uploader") != []) is imports
    assert any(b.label == "回退" for b in at.button) is rolls_back
    assert any(s.value == "审计记录" for s in at.subheader) is audit
    if audit:
        trail = at.dataframe[-1].value
        assert {"sign-in"} <= set(trail["操作"])


def test_a_street_office_opens_its_street(accounts):
    at = _signed_in("office").switch_page("pages/street.py").run()
    assert not at.exception
    assert at.sidebar.selectbox(key="street").value == STREET
    at = _signed_in("planner").switch_page("pages/street.py").run()
    assert at.sidebar.selectbox(key="street").value == "310105001000"  # the first street


def test_a_viewer_can_try_scenarios_but_not_save_them(accounts):
    at = _signed_in("viewer").switch_page("pages/scenarios.py").run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "do_save"]
    assert any("不能保存" in c.value for c in at.caption)
    at = _signed_in("planner").switch_page("pages/scenarios.py").run()
    assert [b for b in at.button if b.key == "do_save"]


def test_an_administrator_sets_a_target_and_every_page_uses_it(accounts):
    at = _signed_in("planner").switch_page("pages/targets_and_data.py").run()
    assert not [b for b in at.button if b.key == "target_save"]
    assert any("目标由管理员设置" in c.value for c in at.caption)

    at = _signed_in("admin").switch_page("pages/targets_and_data.py").run()
    at.selectbox(key="target_category").set_value("market").run()
    at.number_input(key="target_radius_market").set_value(100.0)
    at.slider(key="target_share_market").set_value(0.5)
    at.button(key="target_save").click().run()
    assert not at.exception, at.exception
    assert "目标已保存" in at.success[0].value
    table = at.dataframe[0].value
    market = table[table.iloc[:, 0].astype(str).str.contains("菜市场")].iloc[0]
    assert 100 in market.values and any("set in the app by admin" in str(v)
                                        for v in market.values)
    line = AuditLog(config.STATE_DB).entries()[-1]
    assert (line.user, line.action, line.object) == ("admin", "targets.edit", "target market")
    # the overview of another session computes with it
    other = _signed_in("viewer")
    assert [m.label for m in other.metric][1] == "菜市场"
    kpi_captions = [c.value for c in other.caption if "；目标 " in c.value]
    assert "；目标 50%" in kpi_captions[1]  # the market's, set above (the file: 90%)


def test_a_new_password_or_a_new_account_ends_the_session(accounts):
    at = _signed_in("planner")
    accounts.set_password(who("root", "admin", source="shell"), "planner", "another password!")
    at.run()
    assert at.title[0].value == "长宁区设施覆盖地图：登录"
    at = _sign_in(at, "planner", "another password!")
    assert at.title[0].value == "长宁区 15 分钟社区生活圈设施覆盖"
    # removed and added again with another role: the old session does not become it
    root = who("root", "admin", source="shell")
    accounts.remove(root, "planner")
    accounts.add(root, "planner", role="admin", password="another password!")
    at.run()
    assert at.title[0].value == "长宁区设施覆盖地图：登录"


def test_server_mode_without_any_sign_in_refuses_every_page(monkeypatch):
    monkeypatch.setenv("CHANGNING_SERVER_MODE", "1")
    for page in PAGES:
        at = _app(page).run()
        assert not at.exception, (page, at.exception)
        assert "没有可用的登录方式" in at.error[0].value, page
        assert not at.title and not at.metric and not at.text_input, page


def test_the_last_account_removed_in_server_mode_does_not_open_the_app(accounts, monkeypatch):
    monkeypatch.setenv("CHANGNING_SERVER_MODE", "1")
    at = _app().run()
    assert at.title[0].value == "长宁区设施覆盖地图：登录"
    root = who("root", "admin", source="shell")
    for name in ("admin", "planner", "office", "viewer"):
        accounts.remove(root, name)
    at.run()
    assert "没有可用的登录方式" in at.error[0].value
    assert not at.metric and "本机模式" not in _sidebar_text(at)


def test_a_damaged_secrets_file_fails_closed(tmp_path):
    broken = tmp_path / "secrets.toml"
    broken.write_text("[auth\nclient_id = ", encoding="utf-8")
    before = st_config.get_option("secrets.files")
    st_config.set_option("secrets.files", [str(broken)])
    try:
        at = _app().run()
    finally:
        st_config.set_option("secrets.files", before)
    assert "没有可用的登录方式" in at.error[0].value
    assert not at.metric and "本机模式" not in _sidebar_text(at)
