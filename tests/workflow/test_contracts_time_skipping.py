"""Contracts that change, on real policy days (DealPolicy(): a day is 24 hours), driven through
the deal's handle with time skipping (tests/timeskip.py): a rejected discount, a slow
approver, a renegotiated and a lapsed quote, change orders after a partial delivery, a
write-off that stops revenue, a credit hold that stops a delivery."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from adapters.finance.invoices import InvoiceBook
from adapters.finance.ledger import read_trial_balance
from domain.approval import ApprovalPolicy, ApprovalStep, StepStatus
from domain.change_orders import ChangeOrderStatus
from domain.deal import (
    ApprovalCommand,
    ApprovalDecision,
    QuoteAnswerCommand,
    SignCommand,
    StageAnswer,
)
from domain.invoices import InvoiceStatus
from domain.policy import DealPolicy
from domain.quotes import QuoteStatus
from domain.stages import DealStage
from domain.users import Actor, Role
from tests.conftest import Live, wait_for
from tests.flows import quote_body
from tests.timeskip import TimeSkipping
from tests.workflow.test_collection import ledger
from workflows.deal import DealWorkflow
from workflows.ids import revenue_workflow_id

D = Decimal
RUNNING = WorkflowExecutionStatus.RUNNING
MANAGER = Actor(username="manager", role=Role.SALES_MANAGER)
ADMIN = Actor(username="admin", role=Role.ADMIN)
DISCOUNTED = quote_body(lines=[{"sku": "GW-100", "quantity": "10", "discount_pct": "15"}])
MILESTONES = {
    "kind": "milestones",
    "milestones": [
        {"percent": "30", "trigger": "signature"},
        {"percent": "70", "trigger": "delivery_complete"},
    ],
}


def outbox(live: Live, deal_id: str) -> list[str]:
    """The subjects of every e-mail the deal wrote to its outbox (sent or not yet)."""
    with live.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT subject FROM emails WHERE deal_id = :d ORDER BY email_id"), {"d": deal_id}
        )
        return [subject for (subject,) in rows]


def audited(live: Live, deal_id: str, action: str) -> list[dict[str, Any]]:
    with live.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT data FROM audit_events WHERE deal_id = :d AND action = :a ORDER BY seq"),
            {"d": deal_id, "a": action},
        )
        return [data for (data,) in rows]


def decide(
    timeskip: TimeSkipping, deal_id: str, actor: Actor, decision: str, comment: str = ""
) -> list[ApprovalStep]:
    body = ApprovalDecision(decision=decision, comment=comment or None)
    cmd = ApprovalCommand(body=body, actor=actor)
    return timeskip.update(deal_id, DealWorkflow.decide_approval, cmd)


def answer(
    timeskip: TimeSkipping, deal_id: str, version: int, accept: bool, reason: str = ""
) -> StageAnswer:
    cmd = QuoteAnswerCommand(version=version, accept=accept, reason=reason or None)
    return timeskip.update(deal_id, DealWorkflow.answer_quote, cmd)


def at_approval(timeskip: TimeSkipping) -> tuple[str, str]:
    """A deal whose 15 % quote waits for the sales manager: its id and customer's name."""
    deal_id = timeskip.start_deal()
    timeskip.qualify(deal_id)
    timeskip.quote(deal_id, DISCOUNTED)
    state = timeskip.state(deal_id)
    assert state.stage is DealStage.AWAITING_APPROVAL
    assert [(s.role, s.status) for s in state.approvals] == [
        (Role.SALES_MANAGER, StepStatus.PENDING)
    ]
    assert state.customer is not None
    return deal_id, state.customer.name


# --- 1. approval before the customer sees the quote ---


def test_a_discount_the_manager_rejects_never_reaches_the_customer(live, timeskip):
    deal_id, company = at_approval(timeskip)
    contact = str(timeskip.state(deal_id).contact["email"])
    steps = decide(timeskip, deal_id, MANAGER, "reject", "15 % is too deep")
    assert [(s.role, s.status) for s in steps] == [(Role.SALES_MANAGER, StepStatus.REJECTED)]
    state = timeskip.state(deal_id)
    assert state.stage is DealStage.QUOTING
    assert [q.status for q in state.quotes] == [QuoteStatus.REJECTED]
    assert state.timeline[-1].note == "quote v1 rejected by sales_manager manager: 15 % is too deep"
    # The owner is told; the customer was never sent the quote, nor is it waiting to go.
    wait_for(
        lambda: live.mail_to("rep1@", f"The terms for {company} were rejected"), 30, "the owner"
    )
    assert not [s for s in outbox(live, deal_id) if s.startswith("Your quote")]
    assert not live.mail_to(contact, "Your quote")

    # A week later the owner quotes without the discount: no approval, the customer sees v2.
    assert timeskip.fast_forward(timeskip.deal(deal_id), timedelta(days=7))
    assert timeskip.quote(deal_id, quote_body()).version == 2
    assert timeskip.state(deal_id).stage is DealStage.PROPOSED
    (sent,) = wait_for(lambda: live.mail_to(contact, "Your quote"), 30, "the quote v2")
    assert "(version 2)" in str(sent["Subject"])


def test_an_approver_who_does_not_decide_is_reminded_after_a_day_then_escalated(live, timeskip):
    policy = ApprovalPolicy()
    assert (policy.remind_after_days, policy.escalate_after_days) == (1, 2)
    deal_id, company = at_approval(timeskip)
    deal = timeskip.deal(deal_id)

    assert timeskip.fast_forward(deal, timedelta(hours=23))  # not yet a day
    assert not audited(live, deal_id, "approval.escalated")
    assert not [s for s in outbox(live, deal_id) if s.startswith("Reminder:")]
    assert timeskip.fast_forward(deal, timedelta(hours=2))  # day 1: the manager is reminded
    wait_for(lambda: live.mail_to("manager@", f"Reminder: {company}"), 30, "the reminder")
    assert timeskip.state(deal_id).approvals[0].escalated_to is None

    assert timeskip.fast_forward(deal, timedelta(days=1))  # day 2: up to the admin
    wait_for(
        lambda: live.mail_to("admin@", f"Escalated to you: approval of {company}"),
        30,
        "the escalation",
    )
    (step,) = timeskip.state(deal_id).approvals
    assert (step.role, step.status, step.escalated_to) == (
        Role.SALES_MANAGER,
        StepStatus.PENDING,
        Role.ADMIN,
    )
    assert step.requested_at is not None
    assert len(audited(live, deal_id, "approval.escalated")) == 1
    decide(timeskip, deal_id, ADMIN, "approve")  # the admin decides the escalated step
    state = timeskip.state(deal_id)
    assert state.stage is DealStage.PROPOSED
    assert state.approvals[0].decided_at is not None
    assert state.approvals[0].decided_at - step.requested_at >= timedelta(days=2)


# --- 2. renegotiation and lapse ---


def test_a_quote_the_customer_rejects_is_renegotiated_accepted_and_signed(live, timeskip):
    deal_id = timeskip.start_deal()
    timeskip.qualify(deal_id)
    timeskip.quote(deal_id, quote_body())  # 5 %: straight to the customer
    assert timeskip.state(deal_id).stage is DealStage.PROPOSED
    reason = "we need two gateways, not three"
    assert answer(timeskip, deal_id, 1, False, reason).stage is DealStage.QUOTING

    assert timeskip.fast_forward(timeskip.deal(deal_id), timedelta(days=3))  # they talk
    fewer = quote_body(
        lines=[
            {"sku": "GW-100", "quantity": "2", "discount_pct": "5"},
            {"sku": "ONBOARD", "quantity": "1"},
        ]
    )
    revised = timeskip.quote(deal_id, fewer)
    # 2 x 349.90 less 5 % = 664.81, onboarding 1200.00; 20 % VAT.
    assert (revised.version, revised.net_total, revised.total) == (2, D("1864.81"), D("2237.77"))
    assert timeskip.state(deal_id).stage is DealStage.PROPOSED
    with pytest.raises(WorkflowUpdateFailedError):  # v1 is done with
        answer(timeskip, deal_id, 1, True)
    assert answer(timeskip, deal_id, 2, True).stage is DealStage.AWAITING_SIGNATURE
    state = timeskip.state(deal_id)
    assert state.contract is not None and state.contract.version == 2
    sign = SignCommand(version=2, name="Ada Lovelace")
    assert timeskip.update(deal_id, DealWorkflow.sign_contract, sign).stage is DealStage.FULFILLING

    state = timeskip.state(deal_id)
    assert [(q.version, q.status) for q in state.quotes] == [
        (1, QuoteStatus.REJECTED),
        (2, QuoteStatus.ACCEPTED),
    ]
    assert state.order is not None
    assert {line.sku: line.quantity for line in state.order.lines} == {
        "GW-100": D(2),
        "ONBOARD": D(1),
    }
    assert f"quote v1 rejected by the customer: {reason}" in [t.note for t in state.timeline]
    contact = str(state.contact["email"])
    wait_for(lambda: len(live.mail_to(contact, "Your quote")) == 2, 30, "both quotes sent")


def test_a_quote_left_unanswered_lapses_after_its_real_days_back_to_quoting(live, timeskip):
    deal_id = timeskip.start_deal()
    timeskip.qualify(deal_id)
    quote = timeskip.quote(deal_id, quote_body(valid_days=10))
    (proposed,) = timeskip.state(deal_id).quotes
    # Ten days from the proposal (a moment after the quote was priced).
    assert (
        timedelta(days=10) <= proposed.valid_until - quote.issued_at < timedelta(days=10, minutes=1)
    )
    deal = timeskip.deal(deal_id)

    assert timeskip.fast_forward(deal, timedelta(days=10) - timedelta(hours=1))
    assert timeskip.state(deal_id).stage is DealStage.PROPOSED  # an hour left to answer
    assert timeskip.fast_forward(deal, timedelta(hours=2))
    state = timeskip.state(deal_id)
    assert state.stage is DealStage.QUOTING
    assert [q.status for q in state.quotes] == [QuoteStatus.EXPIRED]
    assert state.timeline[-1].note == "quote v1 expired without an answer"
    with pytest.raises(WorkflowUpdateFailedError):  # the customer's link lapsed with it
        answer(timeskip, deal_id, 1, True)
    assert state.customer is not None
    wait_for(
        lambda: live.mail_to("rep1@", f"Quote v1 for {state.customer.name} expired"),
        30,
        "the owner told",
    )


# --- 3. change orders after a partial delivery ---


def signed_change(
    timeskip: TimeSkipping, deal_id: str, lines: list[dict[str, str]], reason: str
) -> Any:
    """A change order nobody needs to approve, signed by the customer as contract v2."""
    change = timeskip.change(deal_id, lines, reason)
    assert (change.number, change.status) == (1, ChangeOrderStatus.AWAITING_SIGNATURE)
    sign = SignCommand(version=change.contract_version, name="Ada Lovelace")
    timeskip.update(deal_id, DealWorkflow.sign_contract, sign)
    state = timeskip.state(deal_id)
    assert [c.status for c in state.change_orders] == [ChangeOrderStatus.SIGNED]
    assert state.contract is not None and state.contract.version == 2
    return change


def issued(timeskip: TimeSkipping, deal_id: str, count: int) -> list[Any]:
    """The deal's invoices, once it has `count` of them."""

    def invoices() -> list[Any]:
        found = timeskip.state(deal_id).invoices
        return found if len(found) == count else []

    return wait_for(invoices, 30, f"{count} invoices")


def test_a_change_that_adds_quantity_after_a_partial_delivery(live, timeskip):
    deal_id = timeskip.start_deal()
    timeskip.sign(deal_id, quote_body())  # 3 GW-100 at 5 %, 1 ONBOARD, billed on delivery
    timeskip.deliver(deal_id, "D1", GW_100="1")
    lines = [
        {"sku": "GW-100", "quantity": "5", "discount_pct": "5"},
        {"sku": "ONBOARD", "quantity": "1"},
    ]
    change = signed_change(timeskip, deal_id, lines, "two more sites")
    # Two more gateways: 2 x 349.90 less 5 % = 664.81 net, 132.96 tax.
    assert (change.delta_net, change.delta_total) == (D("664.81"), D("797.77"))
    timeskip.deliver(deal_id, "D2", GW_100="4", ONBOARD="1")

    first, second = issued(timeskip, deal_id, 2)
    # D1: a third of the gateways' 997.21 = 332.40, + 66.48 VAT. D2: the rest of the
    # gateways under the change, 1662.02 - 332.40 = 1329.62, and onboarding 1200.00;
    # VAT 332.40 + 240.00 - 66.48 = 505.92. Together the contract's 3434.42.
    assert (first.net_total, first.tax_total) == (D("332.40"), D("66.48"))
    assert (second.net_total, second.tax_total) == (D("2529.62"), D("505.92"))
    assert first.total + second.total == D("3434.42")
    books = ledger(live, deal_id)
    assert books["revenue"] == D("-2862.02")  # earned at delivery, all of it
    assert books.get("deferred_revenue", D(0)) == 0
    for invoice in (first, second):
        timeskip.pay(invoice.number, invoice.total, f"PAY-{invoice.number}")
    assert timeskip.outcome(deal_id).stage is DealStage.WON


def test_a_change_that_removes_quantity_after_a_partial_delivery(live, timeskip):
    deal_id = timeskip.start_deal()
    (first,) = timeskip.sign(deal_id, quote_body(billing_plan=MILESTONES)).invoices
    # 30 % of the contract at signature: 30 % of 2197.21 net and of 439.44 VAT.
    assert (first.net_total, first.tax_total, first.total) == (
        D("659.16"),
        D("131.83"),
        D("790.99"),
    )
    timeskip.deliver(deal_id, "D1", GW_100="1")
    lines = [
        {"sku": "GW-100", "quantity": "2", "discount_pct": "5"},
        {"sku": "ONBOARD", "quantity": "1"},
    ]
    change = signed_change(timeskip, deal_id, lines, "one site less")
    assert (change.delta_net, change.delta_total) == (D("-332.40"), D("-398.88"))

    # 30 % billed of three gateways (299.16 + 59.83 VAT) less 30 % of two (199.44 + 39.89):
    # credited on the first invoice.
    credited = wait_for(
        lambda: timeskip.state(deal_id).invoices[0].credited or None, 30, "the credit"
    )
    assert credited == D("119.66")
    timeskip.deliver(deal_id, "D2", GW_100="1", ONBOARD="1")
    _, last = issued(timeskip, deal_id, 2)
    # The 70 %: what the changed contract is worth (1864.81 + 372.96 VAT) less what the
    # first invoice still asks (559.44 + 111.89).
    assert (last.net_total, last.tax_total, last.total) == (
        D("1305.37"),
        D("261.07"),
        D("1566.44"),
    )
    assert first.total - credited + last.total == D("2237.77")
    books = ledger(live, deal_id)
    assert -books["revenue"] - books.get("sales_allowances", D(0)) == D("1864.81")
    assert books.get("deferred_revenue", D(0)) == 0


# --- 4. a write-off stops revenue ---


def recognized_months(live: Live, deal_id: str) -> int:
    return len(audited(live, deal_id, "revenue.recognized"))


def test_a_written_off_subscription_earns_nothing_more_and_its_deferred_rest_is_reversed(
    live, timeskip
):
    # 5 seats for a year, invoiced annually: 2400.00 + 480.00 VAT, earned 200.00 a month.
    line = {"sku": "L2C-SEAT", "quantity": "5", "billing_period": "annual"}
    deal_id = timeskip.start_deal()
    timeskip.sign(deal_id, quote_body(lines=[line], billing_plan={"kind": "upfront"}))
    timeskip.deliver(deal_id, "ACT-1", L2C_SEAT="5")
    (invoice,) = issued(timeskip, deal_id, 1)
    assert (invoice.net_total, invoice.total) == (D("2400.00"), D("2880.00"))
    recognizer = timeskip.env.client.get_workflow_handle(revenue_workflow_id(deal_id, "ACT-1"))

    assert timeskip.fast_forward(recognizer, timedelta(days=61))  # two months of service
    wait_for(lambda: recognized_months(live, deal_id) == 2, 30, "two months earned")
    assert ledger(live, deal_id)["revenue"] == D("-400.00")

    # Never paid: dunned, then written off 45 days after its due date (day 75).
    collection = timeskip.invoice(invoice.number)
    assert not timeskip.fast_forward(collection, timedelta(days=30 + 45, hours=1))
    assert timeskip.outcome(deal_id).stage is DealStage.WRITTEN_OFF
    (written_off,) = timeskip.state(deal_id).invoices
    assert written_off.status is InvoiceStatus.WRITTEN_OFF
    (reversal,) = audited(live, deal_id, "revenue.reversed")
    assert D(reversal["amount"]) == D("2000.00")  # the ten months not yet earned

    # The recognizer stops with the deal, and a month it would still post (a retried
    # activity) is not earned: nothing is recognized after the write-off.
    stopped = wait_for(
        lambda: (d := timeskip.run(recognizer.describe())).status != RUNNING and d,
        30,
        "the recognizer to end",
    )
    assert stopped.status is WorkflowExecutionStatus.CANCELED
    month_3 = "ACT-1:L2C-SEAT:m3"
    InvoiceBook(live.engine).recognize(
        deal_id, month_3, "late", D("200.00"), "EUR", invoice.due_date
    )
    assert recognized_months(live, deal_id) == 2
    books = ledger(live, deal_id)
    assert books["revenue"] == D("-400.00")
    assert books.get("deferred_revenue", D(0)) == 0
    assert books.get("accounts_receivable", D(0)) == 0
    assert sum(books.values()) == 0  # the deal's own entries balance
    assert read_trial_balance(live.engine).balanced


# --- 5. a credit hold stops a delivery ---


def test_a_customer_overdue_past_its_grace_gets_no_delivery_until_it_pays(live, timeskip):
    assert DealPolicy().credit_hold_overdue_days == 30
    # The customer's first deal: billed upfront, due in 30 days, never paid.
    first = timeskip.start_deal()
    state = timeskip.sign(first, quote_body(billing_plan={"kind": "upfront"}))
    (invoice,) = state.invoices
    assert invoice.due_date - invoice.issued_at == timedelta(days=30)
    assert state.customer is not None
    customer = state.customer.name
    # Its second deal, billed once all is delivered (so no invoice keeps its clock still).
    domain = str(state.contact["email"]).split("@")[1]
    second = timeskip.start_deal(company=customer, email=f"grace@{domain}")
    on_completion = {
        "kind": "milestones",
        "milestones": [{"percent": "100", "trigger": "delivery_complete"}],
    }
    signed = timeskip.sign(second, quote_body(billing_plan=on_completion))
    assert signed.customer is not None and signed.customer.name == customer
    deal = timeskip.deal(second)

    # Day 59: the first invoice is overdue, but within its 30 days of grace: delivered.
    assert timeskip.fast_forward(deal, timedelta(days=59))
    timeskip.deliver(second, "D1", GW_100="1")
    # Day 61: past the grace, the customer is on hold: the rest is refused, saying why.
    assert timeskip.fast_forward(deal, timedelta(days=2))
    with pytest.raises(WorkflowUpdateFailedError) as held:
        timeskip.deliver(second, "D2", GW_100="2", ONBOARD="1")
    cause = held.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "CreditHold"
    assert cause.message.startswith(
        f"customer {customer} is on credit hold: invoice {invoice.number}"
    )
    assert [d.reference for d in timeskip.state(second).deliveries] == ["D1"]

    paid = timeskip.pay(invoice.number, invoice.total, f"HOLD-{first}")
    assert paid.status is InvoiceStatus.PAID
    order = timeskip.deliver(second, "D2", GW_100="2", ONBOARD="1")
    assert order.is_fully_delivered
    (billed,) = issued(timeskip, second, 1)
    assert billed.total == signed.quotes[-1].total
