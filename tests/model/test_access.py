"""The rule book: every role against every action, street scopes, role texts."""

from __future__ import annotations

import pytest

from geo.model.access import Action, Principal, Refused, parse_role, refusal, require
from geo.model.errors import InputError

STREET = Principal.with_role("街道办", "street:310105001,310105002", source="local")
ROLES = {"admin": Principal("a", "admin"), "planner": Principal("p", "planner"),
         "street": STREET, "viewer": Principal("v", "viewer")}
#: Who may do each action for the whole district (a street office: never district-wide).
DISTRICT = {
    Action.IMPORT: {"admin", "planner"},
    Action.ROLLBACK: {"admin"},
    Action.RESTORE: {"admin"},
    Action.SCENARIO_SAVE: {"admin", "planner"},
    Action.SCENARIO_DELETE: {"admin", "planner"},
    Action.EXPORT: {"admin", "planner", "viewer"},
    Action.TARGETS: {"admin"},
    Action.USERS: {"admin"},
    Action.AUDIT: {"admin"},
}


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(ROLES))
def test_every_role_against_every_action_for_the_district(role, action):
    allowed = refusal(ROLES[role], action) is None
    assert allowed == (role in DISTRICT[action])
    if not allowed:
        with pytest.raises(Refused, match=f"^refused: role .* may .*{action.value}"):
            require(ROLES[role], action)


@pytest.mark.parametrize("action", [Action.SCENARIO_SAVE, Action.SCENARIO_DELETE, Action.EXPORT])
def test_a_street_office_acts_for_its_own_streets_only(action):
    assert refusal(STREET, action, streets=["310105001"]) is None
    assert refusal(STREET, action, streets=["310105002", "310105001"]) is None
    assert refusal(STREET, action, streets=["310105003"]) == (
        f"role street:310105001,310105002 may do {action.value} only for its own streets, "
        "not for 310105003")
    assert "not for 310105009" in refusal(STREET, action, streets=["310105001", "310105009"])
    assert "not for the whole district" in refusal(STREET, action, streets=[])
    # the other roles are not limited by streets
    assert refusal(ROLES["planner"], action, streets=["310105003"]) is None


@pytest.mark.parametrize("action", [Action.IMPORT, Action.ROLLBACK, Action.USERS])
def test_a_street_office_cannot_do_district_actions_even_for_its_street(action):
    assert refusal(STREET, action, streets=["310105001"]) is not None


@pytest.mark.parametrize(("text", "expected"), [
    ("admin", ("admin", ())), (" planner ", ("planner", ())), ("viewer", ("viewer", ())),
    ("street:310105001", ("street", ("310105001",))),
    ("street:310105001, 310105002,310105001", ("street", ("310105001", "310105002"))),
])
def test_role_texts(text, expected):
    assert parse_role(text) == expected


@pytest.mark.parametrize("text", ["", "Admin", "root", "street", "street:", "street:,",
                                  "street:a b", "street:" + "1" * 33, "streets:1", "planner:1"])
def test_bad_role_texts_are_refused(text):
    with pytest.raises(InputError, match="role"):
        parse_role(text)


def test_role_text_round_trips():
    assert STREET.role_text == "street:310105001,310105002"
    assert Principal.with_role("x", STREET.role_text, source="oidc").streets == STREET.streets
