"""Approval of a quote before the customer sees it: bands, parallel steps, double decisions,
re-approval, reminders, escalation (the audit chain's tamper checks are in
tests/integration/test_audit_chain.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

from domain.approval import ApprovalBand, ApprovalPolicy
from domain.policy import DealPolicy
from domain.qualification import QualificationPolicy
from domain.users import Role
from tests.conftest import Api, wait_for
from tests.flows import (
    create_lead,
    lead_email,
    portal_token,
    quote_body,
    stage_of,
    start_deal,
    to_approval,
)

DISCOUNTED = quote_body(lines=[{"sku": "GW-100", "quantity": "10", "discount_pct": "15"}])
BIG = quote_body(lines=[{"sku": "L2C-SEAT", "quantity": "600"}])  # 288,000.00 net


def steps(api, deal_id):
    return [(s["role"], s["status"]) for s in api.get(f"/deals/{deal_id}").json()["approvals"]]


def decide(api, deal_id, decision="approve", comment=None):
    body = {"decision": decision} | ({"comment": comment} if comment else {})
    return api.post(f"/deals/{deal_id}/approvals", json=body)


def test_a_discount_over_ten_percent_needs_the_manager_before_the_customer_sees_it(live, as_user):
    rep, manager, finance = as_user("rep1"), as_user("manager"), as_user("finance")
    deal_id = to_approval(live, rep, DISCOUNTED)["deal_id"]
    assert steps(rep, deal_id) == [("sales_manager", "pending")]
    assert decide(finance, deal_id).status_code == 403  # not a step of finance's
    assert not live.mail_to(lead_email(rep, deal_id), "Your quote")
    assert decide(manager, deal_id).status_code == 200
    assert steps(rep, deal_id) == [("sales_manager", "approved")]
    assert stage_of(rep, deal_id) == "PROPOSED"
    portal_token(live, lead_email(rep, deal_id), "Your quote")  # now it went out


def test_a_quarter_million_needs_three_approvers_in_order(live, as_user):
    rep = as_user("rep1")
    deal_id = to_approval(live, rep, BIG)["deal_id"]
    assert [r for r, _ in steps(rep, deal_id)] == ["sales_manager", "finance", "admin"]
    assert decide(as_user("finance"), deal_id).status_code == 403  # not finance's turn yet
    for role, user in (("sales_manager", "manager"), ("finance", "finance"), ("admin", "admin")):
        assert dict(steps(rep, deal_id))[role] == "pending"
        assert decide(as_user(user), deal_id).status_code == 200
    assert stage_of(rep, deal_id) == "PROPOSED"


def parallel_policy(**timing) -> DealPolicy:
    band = ApprovalBand(roles=[Role.SALES_MANAGER, [Role.FINANCE, Role.ADMIN]])
    return DealPolicy(
        day=timing.pop("day", timedelta(hours=1)),
        approval=ApprovalPolicy(bands=[band], **timing),
        qualification=QualificationPolicy(auto_qualify_at=None, auto_disqualify_below=None),
    )


def to_approval_with(live, rep, policy, quote=None) -> str:
    deal_id = start_deal(live, "rep1", policy)
    rep.post(f"/deals/{deal_id}/qualify", json={"decision": "qualify"})
    assert rep.post(f"/deals/{deal_id}/quotes", json=quote or quote_body()).status_code == 201
    assert stage_of(rep, deal_id) == "AWAITING_APPROVAL"
    return deal_id


def test_a_parallel_group_is_asked_at_once(live, as_user):
    rep = as_user("rep1")
    deal_id = to_approval_with(live, rep, parallel_policy())
    decide(as_user("manager"), deal_id)
    assert steps(rep, deal_id) == [
        ("sales_manager", "approved"),
        ("finance", "pending"),
        ("admin", "pending"),
    ]
    assert decide(as_user("admin"), deal_id).status_code == 200
    assert stage_of(rep, deal_id) == "AWAITING_APPROVAL"
    assert decide(as_user("finance"), deal_id).status_code == 200
    assert stage_of(rep, deal_id) == "PROPOSED"


def test_one_decision_counts_when_two_arrive_at_once(live, as_user):
    rep, manager = as_user("rep1"), as_user("manager")
    deal_id = to_approval(live, rep)["deal_id"]
    managers = [Api(live, "manager"), Api(live, "manager")]  # a client per thread
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda pair: decide(pair[0], deal_id, pair[1]),
                zip(managers, ["approve", "reject"], strict=True),
            )
        )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409], [a.text for a in answers]
    events = [e["action"] for e in rep.every(f"/deals/{deal_id}/history")]
    assert events.count("approval.approved") + events.count("approval.rejected") == 1
    assert decide(manager, deal_id).status_code == 409  # decided, the deal moved on


def test_after_a_rejection_only_the_steps_that_need_it_are_asked_again(live, as_user):
    rep, manager, finance = as_user("rep1"), as_user("manager"), as_user("finance")
    tiered = ApprovalPolicy(
        bands=[
            ApprovalBand(max_discount_pct=Decimal(10), roles=[Role.SALES_MANAGER]),
            ApprovalBand(roles=[Role.SALES_MANAGER, Role.FINANCE]),
        ]
    )
    policy = DealPolicy(approval=tiered, qualification=parallel_policy().qualification)
    deal_id = to_approval_with(live, rep, policy, DISCOUNTED)
    decide(manager, deal_id, comment="ok with me")
    decide(finance, deal_id, "reject", "15 % is too much")
    assert stage_of(rep, deal_id) == "QUOTING"
    assert steps(rep, deal_id) == [("sales_manager", "approved"), ("finance", "rejected")]
    better = quote_body(lines=[{"sku": "GW-100", "quantity": "10", "discount_pct": "12"}])
    rep.post(f"/deals/{deal_id}/quotes", json=better)
    state = rep.get(f"/deals/{deal_id}").json()
    assert state["stage"] == "AWAITING_APPROVAL"
    assert state["contract"]["version"] == 2
    assert [(s["role"], s["status"], s["carried_over"]) for s in state["approvals"]] == [
        ("sales_manager", "approved", True),
        ("finance", "pending", False),
    ]
    # A worse revision (a bigger discount) is asked of everybody again.
    decide(finance, deal_id, "reject", "still no")
    worse = quote_body(lines=[{"sku": "GW-100", "quantity": "10", "discount_pct": "20"}])
    rep.post(f"/deals/{deal_id}/quotes", json=worse)
    assert steps(rep, deal_id) == [("sales_manager", "pending"), ("finance", "waiting")]
    assert not live.mail_to(lead_email(rep, deal_id), "Your quote")  # none of them went out


def test_closing_a_deal_lost_withdraws_the_approval_it_waited_for(live, as_user):
    rep, manager = as_user("rep1"), as_user("manager")
    deal_id = to_approval(live, rep)["deal_id"]
    closed = rep.post(f"/deals/{deal_id}/close-lost", json={"reason": "budget frozen"})
    assert closed.json()["stage"] == "LOST"
    assert steps(rep, deal_id) == [("sales_manager", "withdrawn")]
    assert deal_id not in [a["deal_id"] for a in manager.every("/approvals")]


def test_a_slow_approver_is_reminded_then_escalated(live, as_user):
    rep, admin = as_user("rep1"), as_user("admin")
    policy = parallel_policy(day=timedelta(seconds=1), remind_after_days=1, escalate_after_days=2)
    deal_id = to_approval_with(live, rep, policy)
    company = rep.get(f"/deals/{deal_id}").json()["customer"]["name"]
    wait_for(lambda: live.mail_to("manager@", f"Reminder: {company}"), 30, "the reminder")
    wait_for(
        lambda: live.mail_to("admin@", f"Escalated to you: approval of {company}"),
        30,
        "the escalation",
    )
    step = rep.get(f"/deals/{deal_id}").json()["approvals"][0]
    assert (step["role"], step["status"], step["escalated_to"]) == (
        "sales_manager",
        "pending",
        "admin",
    )
    assert any(a["deal_id"] == deal_id for a in admin.every("/approvals"))
    assert decide(admin, deal_id).status_code == 200  # the admin decides the escalated step
    assert steps(rep, deal_id)[0] == ("sales_manager", "approved")
    actions = [e["action"] for e in rep.every(f"/deals/{deal_id}/history")]
    assert (
        actions.index("approval.requested")
        < actions.index("approval.escalated")
        < actions.index("approval.approved")
    )


def test_a_manager_cannot_approve_a_deal_they_handed_to_a_rep(live, as_user):
    manager, rep = as_user("manager"), as_user("rep1")
    deal_id = create_lead(manager)["deal_id"]  # the manager owns it
    handed = manager.post(f"/deals/{deal_id}/owner", json={"owner": "rep1", "reason": "leave"})
    assert handed.status_code == 200, handed.text
    assert rep.post(f"/deals/{deal_id}/qualify", json={"decision": "qualify"}).status_code == 200
    assert rep.post(f"/deals/{deal_id}/quotes", json=DISCOUNTED).status_code == 201
    assert stage_of(rep, deal_id) == "AWAITING_APPROVAL"
    assert "sales_manager" in [role for role, _ in steps(rep, deal_id)]
    assert deal_id not in [a["deal_id"] for a in manager.every("/approvals")]
    refused = decide(manager, deal_id)
    assert refused.status_code == 403, refused.text
    assert "owned or quoted" in refused.text


def test_a_manager_who_wrote_the_quote_cannot_approve_it(live, as_user):
    manager, rep = as_user("manager"), as_user("rep1")
    deal_id = create_lead(rep)["deal_id"]
    assert rep.post(f"/deals/{deal_id}/qualify", json={"decision": "qualify"}).status_code == 200
    assert manager.post(f"/deals/{deal_id}/quotes", json=DISCOUNTED).status_code == 201
    assert stage_of(rep, deal_id) == "AWAITING_APPROVAL"
    assert deal_id not in [a["deal_id"] for a in manager.every("/approvals")]
    assert decide(manager, deal_id).status_code == 403
