"""Who may do what: every action for every role, on their own deal, another's, or no deal."""

from __future__ import annotations

import pytest

from domain.access import POLICY, Action, can, sees_all_deals
from domain.users import Actor, Role

ANY = "any deal"
OWN = "own deals only"
NO = "never"

REP, MANAGER, FINANCE, OPS, ADMIN = (
    Role.SALES_REP,
    Role.SALES_MANAGER,
    Role.FINANCE,
    Role.OPS,
    Role.ADMIN,
)

# The access rules of shared/API.md, written out role by role.
EXPECTED: dict[Action, dict[Role, str]] = {
    Action.CREATE_LEAD: {REP: ANY, MANAGER: ANY, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.ASSIGN_OWNER: {REP: NO, MANAGER: ANY, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.VIEW_DEAL: {REP: OWN, MANAGER: ANY, FINANCE: ANY, OPS: ANY, ADMIN: ANY},
    Action.QUALIFY: {REP: OWN, MANAGER: ANY, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.QUOTE: {REP: OWN, MANAGER: ANY, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.DELIVER: {REP: OWN, MANAGER: OWN, FINANCE: NO, OPS: ANY, ADMIN: ANY},
    Action.CANCEL: {REP: OWN, MANAGER: ANY, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.CLOSE_LOST: {REP: OWN, MANAGER: ANY, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.VIEW_INVOICES: {REP: OWN, MANAGER: ANY, FINANCE: ANY, OPS: ANY, ADMIN: ANY},
    Action.RECORD_PAYMENT: {REP: NO, MANAGER: NO, FINANCE: ANY, OPS: NO, ADMIN: NO},
    Action.ISSUE_CREDIT_NOTE: {REP: NO, MANAGER: NO, FINANCE: ANY, OPS: NO, ADMIN: NO},
    Action.WRITE_OFF: {REP: NO, MANAGER: NO, FINANCE: ANY, OPS: NO, ADMIN: NO},
    Action.VIEW_LEDGER: {REP: NO, MANAGER: NO, FINANCE: ANY, OPS: NO, ADMIN: ANY},
    Action.MANAGE_PRODUCTS: {REP: NO, MANAGER: NO, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.VIEW_CATALOGUE: {REP: ANY, MANAGER: ANY, FINANCE: ANY, OPS: ANY, ADMIN: ANY},
    Action.VIEW_KPIS: {REP: NO, MANAGER: ANY, FINANCE: ANY, OPS: NO, ADMIN: ANY},
    Action.MANAGE_USERS: {REP: NO, MANAGER: NO, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.RESUME: {REP: OWN, MANAGER: ANY, FINANCE: NO, OPS: ANY, ADMIN: ANY},
    Action.SET_CREDIT_TERMS: {REP: NO, MANAGER: NO, FINANCE: ANY, OPS: NO, ADMIN: ANY},
    Action.EDIT_CUSTOMER: {REP: OWN, MANAGER: OWN, FINANCE: ANY, OPS: NO, ADMIN: ANY},
    Action.VIEW_POLICY: {REP: NO, MANAGER: ANY, FINANCE: ANY, OPS: NO, ADMIN: ANY},
    Action.CHANGE_POLICY: {REP: NO, MANAGER: NO, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.REFUND_CREDIT: {REP: NO, MANAGER: NO, FINANCE: ANY, OPS: NO, ADMIN: NO},
    Action.READ_PAYLOADS: {REP: NO, MANAGER: NO, FINANCE: NO, OPS: ANY, ADMIN: ANY},
    Action.MANAGE_EMAIL_TEMPLATES: {REP: NO, MANAGER: NO, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.MANAGE_WEBHOOKS: {REP: NO, MANAGER: NO, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.SET_FORECAST: {REP: OWN, MANAGER: ANY, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.VIEW_FORECAST: {REP: OWN, MANAGER: ANY, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.SET_QUOTA: {REP: NO, MANAGER: NO, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.TAKE_FORECAST_SNAPSHOT: {REP: NO, MANAGER: ANY, FINANCE: NO, OPS: NO, ADMIN: ANY},
    Action.VIEW_WIN_MODELS: {REP: NO, MANAGER: ANY, FINANCE: NO, OPS: NO, ADMIN: ANY},
}

CASES = [(action, role) for action in Action for role in Role]


def ids(case: tuple[Action, Role]) -> str:
    return f"{case[1]} {case[0]}"


def test_the_expected_rules_name_every_action_and_role():
    assert set(EXPECTED) == set(Action) == set(POLICY)
    assert all(set(by_role) == set(Role) for by_role in EXPECTED.values())


@pytest.mark.parametrize("case", CASES, ids=[ids(c) for c in CASES])
def test_on_their_own_deal(case):
    action, role = case
    assert can(Actor(username="pat", role=role), action, owner="pat") is (
        EXPECTED[action][role] != NO
    )


@pytest.mark.parametrize("case", CASES, ids=[ids(c) for c in CASES])
def test_on_someone_elses_deal(case):
    action, role = case
    assert can(Actor(username="pat", role=role), action, owner="sam") is (
        EXPECTED[action][role] == ANY
    )


@pytest.mark.parametrize("case", CASES, ids=[ids(c) for c in CASES])
def test_with_no_deal_concerned(case):
    action, role = case
    assert can(Actor(username="pat", role=role), action) is (EXPECTED[action][role] == ANY)


@pytest.mark.parametrize("action", Action)
def test_no_role_is_listed_both_for_any_deal_and_for_own_deals(action):
    anyone, owners_only = POLICY[action]
    assert not anyone & owners_only


# --- the rules as people say them ---


def test_a_rep_acts_on_own_deals_only():
    rep = Actor(username="rep1", role=REP)
    assert can(rep, Action.QUOTE, owner="rep1")
    assert not can(rep, Action.QUOTE, owner="rep2")


@pytest.mark.parametrize(
    "action", [Action.RECORD_PAYMENT, Action.ISSUE_CREDIT_NOTE, Action.WRITE_OFF]
)
def test_only_finance_records_payments_issues_credit_notes_and_writes_off(action):
    allowed = {role for role in Role if can(Actor(username="x", role=role), action)}
    assert allowed == {FINANCE}


def test_only_admins_manage_products():
    allowed = {role for role in Role if can(Actor(username="x", role=role), Action.MANAGE_PRODUCTS)}
    assert allowed == {ADMIN}


def test_ops_deliver_on_any_deal():
    assert can(Actor(username="ops", role=OPS), Action.DELIVER, owner="rep1")


@pytest.mark.parametrize("action", Action)
def test_customers_and_the_system_may_do_nothing_through_the_policy(action):
    assert not can(Actor.customer("ada"), action, owner="customer:ada")
    assert not can(Actor.system(), action, owner="system")


@pytest.mark.parametrize(
    ("role", "sees_all"),
    [(REP, False), (MANAGER, True), (FINANCE, True), (OPS, True), (ADMIN, True), (None, False)],
)
def test_reps_see_their_own_deals_and_everyone_else_sees_all(role, sees_all):
    assert sees_all_deals(Actor(username="pat", role=role)) is sees_all
