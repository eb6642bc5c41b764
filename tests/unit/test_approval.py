"""Who approves a contract: the default bands, their boundaries, and who may decide a step."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from pydantic import ValidationError

from domain.approval import (
    ESCALATES_TO,
    ApprovalBand,
    ApprovalPolicy,
    ApprovalStep,
    StepStatus,
    carry_over,
    check_approver,
    pending_step,
    terms_not_worse,
)
from domain.billing_plans import Installments
from domain.errors import Conflict, NotApprover
from domain.users import Actor, Role
from tests.unit.examples import entry, line, one_line_quote, quote, quotes

NONE: list[Role] = []
MANAGER = [Role.SALES_MANAGER]
ALL_THREE = [Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN]


def roles_for(priced) -> list[Role]:
    return [step.role for step in ApprovalPolicy().steps_for(priced)]


# --- the default bands ---


@pytest.mark.parametrize(
    ("unit_price", "discount", "roles"),
    [
        ("1000.00", "0", NONE),
        ("1000.00", "10", NONE),
        ("55555.54", "10", NONE),
        ("49999.99", "0", NONE),
        ("50000.00", "0", MANAGER),
        ("1000.00", "10.0001", MANAGER),
        ("1000.00", "30", MANAGER),
        ("357142.84", "30", MANAGER),
        ("250000.00", "0", ALL_THREE),
        ("1000.00", "30.0001", ALL_THREE),
        ("1000.00", "100", ALL_THREE),
    ],
    ids=[
        "small, no discount",
        "exactly 10 %",
        "exactly 10 % and 49,999.99 net",
        "49,999.99 net",
        "exactly 50,000 net",
        "just over 10 %",
        "exactly 30 %",
        "exactly 30 % and 249,999.99 net",
        "exactly 250,000 net",
        "just over 30 %",
        "given away",
    ],
)
def test_default_band_by_net_value_and_largest_discount(unit_price, discount, roles):
    assert roles_for(one_line_quote(unit_price, discount_pct=discount)) == roles


def test_tax_does_not_count_towards_the_value():
    priced = one_line_quote("49999.99", tax_rate="20")
    assert priced.total > 50_000
    assert roles_for(priced) == NONE


def test_the_largest_line_discount_decides_not_the_average():
    priced = quote(
        [entry("A", "100.00"), entry("B", "100.00")],
        [line("A", "1", "0"), line("B", "1", "15")],
    )
    assert roles_for(priced) == MANAGER


@given(quotes())
def test_steps_are_the_documented_band_roles_one_after_the_other_all_waiting(priced):
    discount, net = priced.max_discount_pct, priced.net_total
    if discount <= 10 and net < 50_000:
        expected = NONE
    elif discount <= 30 and net < 250_000:
        expected = MANAGER
    else:
        expected = ALL_THREE
    steps = ApprovalPolicy().steps_for(priced)
    assert [(s.index, s.role, s.group, s.status) for s in steps] == [
        (i, role, i, StepStatus.WAITING) for i, role in enumerate(expected)
    ]


def test_a_policy_uses_the_first_band_that_covers_the_quote():
    policy = ApprovalPolicy(
        bands=[
            ApprovalBand(max_discount_pct=Decimal(5), roles=[Role.FINANCE]),
            ApprovalBand(roles=[Role.ADMIN]),
        ]
    )
    assert [s.role for s in policy.steps_for(one_line_quote("10.00", discount_pct="5"))] == [
        Role.FINANCE
    ]
    assert [s.role for s in policy.steps_for(one_line_quote("10.00", discount_pct="6"))] == [
        Role.ADMIN
    ]


def test_roles_in_a_nested_list_are_asked_at_the_same_time():
    policy = ApprovalPolicy(
        bands=[ApprovalBand(roles=[Role.SALES_MANAGER, [Role.FINANCE, Role.ADMIN], Role.OPS])]
    )
    steps = policy.steps_for(one_line_quote("10.00"))
    assert [(s.index, s.role, s.group) for s in steps] == [
        (0, Role.SALES_MANAGER, 0),
        (1, Role.FINANCE, 1),
        (2, Role.ADMIN, 1),
        (3, Role.OPS, 2),
    ]


def test_an_empty_parallel_group_is_refused():
    with pytest.raises(ValidationError, match="at least one role"):
        ApprovalBand(roles=[Role.SALES_MANAGER, []])


def test_undecided_steps_are_reminded_before_they_are_escalated_by_default():
    policy = ApprovalPolicy()
    assert 0 < policy.remind_after_days < policy.escalate_after_days


@pytest.mark.parametrize(
    ("role", "up"),
    [
        (Role.SALES_REP, Role.SALES_MANAGER),
        (Role.SALES_MANAGER, Role.ADMIN),
        (Role.FINANCE, Role.ADMIN),
        (Role.OPS, Role.ADMIN),
    ],
)
def test_an_undecided_step_escalates_to_the_next_role_up(role, up):
    assert ESCALATES_TO[role] is up


def test_admin_is_the_top_of_the_escalation():
    assert Role.ADMIN not in ESCALATES_TO


# --- who may decide a pending step ---


def steps(*statuses: StepStatus, group: list[int] | None = None) -> list[ApprovalStep]:
    roles = [Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN]
    groups = group or list(range(len(statuses)))
    return [
        ApprovalStep(index=i, role=roles[i], group=groups[i], status=status)
        for i, status in enumerate(statuses)
    ]


FINANCE_PENDING = steps(StepStatus.APPROVED, StepStatus.PENDING, StepStatus.WAITING)


def actor(role: Role | None, username: str = "someone") -> Actor:
    return Actor(username=username, role=role)


def test_the_role_of_the_pending_step_may_decide_it():
    step = check_approver(FINANCE_PENDING, actor(Role.FINANCE), "rep1")
    assert (step.index, step.role) == (1, Role.FINANCE)


def test_owner_cannot_approve_own_deal():
    with pytest.raises(NotApprover, match="own deal"):
        check_approver(FINANCE_PENDING, actor(Role.FINANCE, "fiona"), "fiona")


@pytest.mark.parametrize("role", [Role.SALES_MANAGER, Role.ADMIN, Role.SALES_REP, Role.OPS, None])
def test_another_role_cannot_decide_the_pending_step(role):
    with pytest.raises(NotApprover, match="pending steps are for finance"):
        check_approver(FINANCE_PENDING, actor(role), "rep1")


@pytest.mark.parametrize(
    "statuses",
    [
        (StepStatus.WAITING, StepStatus.WAITING),
        (StepStatus.APPROVED, StepStatus.APPROVED),
        (StepStatus.APPROVED, StepStatus.REJECTED),
        (StepStatus.REJECTED, StepStatus.WITHDRAWN),
    ],
    ids=["not yet requested", "all approved", "rejected", "withdrawn"],
)
def test_nothing_to_decide_without_a_pending_step(statuses):
    with pytest.raises(Conflict, match="no approval step is pending"):
        check_approver(steps(*statuses), actor(Role.SALES_MANAGER), "rep1")


def test_an_escalated_step_may_be_decided_by_the_role_it_was_escalated_to():
    escalated = [FINANCE_PENDING[1].model_copy(update={"escalated_to": Role.ADMIN})]
    assert check_approver(escalated, actor(Role.ADMIN), "rep1") == escalated[0]


def test_an_escalated_step_may_still_be_decided_by_its_own_role():
    escalated = [FINANCE_PENDING[1].model_copy(update={"escalated_to": Role.ADMIN})]
    assert check_approver(escalated, actor(Role.FINANCE), "rep1") == escalated[0]


def test_each_role_of_a_parallel_group_decides_its_own_step():
    group = steps(StepStatus.APPROVED, StepStatus.PENDING, StepStatus.PENDING, group=[0, 1, 1])
    assert check_approver(group, actor(Role.ADMIN), "rep1").index == 2
    assert check_approver(group, actor(Role.FINANCE), "rep1").index == 1


def test_the_pending_step_is_the_first_pending_one():
    assert pending_step(FINANCE_PENDING) == FINANCE_PENDING[1]


def test_there_is_no_pending_step_among_decided_and_waiting_ones():
    assert pending_step(steps(StepStatus.APPROVED, StepStatus.WAITING)) is None


# --- approvals kept for a revised contract ---

APPROVED_BEFORE = [
    ApprovalStep(
        index=0,
        role=Role.SALES_MANAGER,
        status=StepStatus.APPROVED,
        decided_by="mia",
        comment="fine",
    ),
    ApprovalStep(index=1, role=Role.FINANCE, group=1, status=StepStatus.REJECTED),
]


# Every deal approved by a manager, larger ones by finance too (as l2c's v1 default was).
TIERED = ApprovalPolicy(
    bands=[
        ApprovalBand(
            max_discount_pct=Decimal(10), below_value=Decimal(50_000), roles=[Role.SALES_MANAGER]
        ),
        ApprovalBand(roles=[Role.SALES_MANAGER, Role.FINANCE]),
    ]
)


def revised(unit_price="1000.00", discount="10", **changes):
    return one_line_quote(unit_price, discount_pct=discount).model_copy(update=changes)


BEFORE = revised()


@pytest.mark.parametrize(
    "after",
    [
        revised(),
        revised(discount="5"),
        revised(unit_price="900.00"),
        revised(payment_terms_days=14),
    ],
    ids=["same", "smaller discount", "lower value", "shorter payment terms"],
)
def test_terms_that_got_no_worse_keep_earlier_approvals(after):
    assert terms_not_worse(BEFORE, after)


@pytest.mark.parametrize(
    "after",
    [
        revised(discount="12"),
        revised(payment_terms_days=60),
        revised(billing_plan=Installments(count=3, every_days=30)),
        revised(currency="USD"),
    ],
    ids=["bigger discount", "longer payment terms", "other billing plan", "other currency"],
)
def test_terms_that_got_worse_need_fresh_approvals(after):
    assert not terms_not_worse(BEFORE, after)


def test_a_role_that_approved_before_is_carried_over_when_nothing_got_worse():
    fresh = TIERED.steps_for(BEFORE)
    (kept,) = carry_over(fresh, APPROVED_BEFORE, BEFORE, revised(discount="5"))
    assert (kept.status, kept.decided_by, kept.comment, kept.carried_over) == (
        StepStatus.APPROVED,
        "mia",
        "fine",
        True,
    )


def test_a_role_that_did_not_approve_before_is_asked_again():
    bigger = revised(unit_price="60000.00")
    fresh = TIERED.steps_for(bigger)
    kept = carry_over(fresh, APPROVED_BEFORE, BEFORE, bigger)
    assert [(s.role, s.status) for s in kept] == [
        (Role.SALES_MANAGER, StepStatus.APPROVED),
        (Role.FINANCE, StepStatus.WAITING),
    ]


def test_no_approval_is_carried_over_when_terms_got_worse():
    worse = revised(discount="12")
    fresh = TIERED.steps_for(worse)
    assert carry_over(fresh, APPROVED_BEFORE, BEFORE, worse) == fresh


@pytest.mark.parametrize("who", ["former-owner", "quote-author"])
def test_nobody_approves_a_deal_they_owned_or_quoted(who):
    involved = {"rep1", "former-owner", "quote-author"}
    with pytest.raises(NotApprover, match="owned or quoted"):
        check_approver(FINANCE_PENDING, actor(Role.FINANCE, who), "rep1", involved)


def test_someone_never_involved_in_the_deal_may_approve_it():
    step = check_approver(FINANCE_PENDING, actor(Role.FINANCE, "fiona"), "rep1", {"rep1", "rep2"})
    assert step.role is Role.FINANCE
