"""The deal workflow's paths on the real stack: early endings, loops, billing plans."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.deal import Qualification, QualifyCommand
from domain.policy import DealPolicy
from domain.users import Actor, Role
from tests.conftest import wait_for
from tests.flows import (
    DISCOUNTED_LINES,
    create_lead,
    lead_email,
    portal_token,
    quote_body,
    stage_of,
    start_deal,
    submit_quote,
    to_approval,
    to_fulfilment,
    to_proposed,
    to_quoting,
)
from workflows.deal import DealWorkflow
from workflows.ids import deal_workflow_id


def outcome(live, deal_id):
    handle = live.client.get_workflow_handle_for(DealWorkflow.run, deal_workflow_id(deal_id))
    return live.run(handle.result(), timeout=60)


def test_a_disqualified_lead_ends_the_deal(live, as_user, keep_history):
    rep = as_user("rep1")
    deal = create_lead(rep)
    answer = rep.post(
        f"/deals/{deal['deal_id']}/qualify",
        json={"decision": "disqualify", "reason": "student project"},
    )
    assert answer.json()["stage"] == "DISQUALIFIED"
    result = outcome(live, deal["deal_id"])
    assert (result.stage, result.reason) == ("DISQUALIFIED", "student project")
    assert rep.get(f"/deals/{deal['deal_id']}").json()["close_reason"] == "student project"
    keep_history(deal_workflow_id(deal["deal_id"]), "deal-disqualified")


def test_a_rejected_quote_returns_to_quoting_and_close_lost_ends_the_deal(
    live, as_user, keep_history
):
    rep = as_user("rep1")
    deal_id = to_quoting(rep)["deal_id"]
    submit_quote(rep, deal_id)  # 5 %: no approval needed, straight to the customer
    assert stage_of(rep, deal_id) == "PROPOSED"
    token = portal_token(live, lead_email(rep, deal_id), "Your quote")
    answer = rep.http.post(f"/portal/{token}/reject", json={"reason": "too expensive"})
    assert answer.json()["stage"] == "QUOTING"
    state = rep.get(f"/deals/{deal_id}").json()
    assert [q["status"] for q in state["quotes"]] == ["rejected"]
    assert state["timeline"][-1]["note"] == "quote v1 rejected by the customer: too expensive"
    wait_for(lambda: live.mail_to("rep1@", "rejected quote v1"), 30, "the owner told")
    assert rep.http.post(f"/portal/{token}/accept").status_code == 409  # answered already
    closed = rep.post(f"/deals/{deal_id}/close-lost", json={"reason": "went with a rival"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["stage"] == "LOST"
    assert outcome(live, deal_id).reason == "went with a rival"
    history = [e["action"] for e in rep.every(f"/deals/{deal_id}/history")]
    assert history[-1] == "stage.changed"
    keep_history(deal_workflow_id(deal_id), "deal-lost-quote-rejected")


def test_a_quote_the_customer_rejects_is_renegotiated_and_signed(live, as_user, keep_history):
    """The customer says no to v1; the owner offers less; the customer takes v2 and signs it."""
    rep = as_user("rep1")
    deal_id = to_quoting(rep)["deal_id"]
    submit_quote(rep, deal_id)  # 5 %: straight to the customer
    contact = lead_email(rep, deal_id)
    first = portal_token(live, contact, "Your quote")
    rejected = rep.http.post(f"/portal/{first}/reject", json={"reason": "we need 8 units, not 10"})
    assert rejected.json()["stage"] == "QUOTING"
    fewer = quote_body(lines=[{"sku": "GW-100", "quantity": "8", "discount_pct": "5"}])
    revised = rep.post(f"/deals/{deal_id}/quotes", json=fewer)
    assert revised.status_code == 201, revised.text
    assert revised.json()["version"] == 2
    assert stage_of(rep, deal_id) == "PROPOSED"
    second = portal_token(live, contact, "(version 2)")
    assert rep.http.post(f"/portal/{first}/accept").status_code == 409  # v1 is done with
    accepted = rep.http.post(f"/portal/{second}/accept")
    assert accepted.json()["stage"] == "AWAITING_SIGNATURE", accepted.text
    sign = portal_token(live, contact, "ready to sign")
    signed = rep.http.post(f"/portal/{sign}/sign", json={"name": "Ada Lovelace"})
    assert signed.json()["stage"] == "FULFILLING", signed.text
    state = rep.get(f"/deals/{deal_id}").json()
    assert [(q["version"], q["status"]) for q in state["quotes"]] == [
        (1, "rejected"),
        (2, "accepted"),
    ]
    assert state["contract"]["version"] == 2
    assert state["quotes"][-1]["total"] == revised.json()["total"]
    assert [line["quantity"] for line in state["order"]["lines"]] == ["8"]  # what v2 sold
    notes = [t["note"] for t in state["timeline"] if t.get("note")]
    assert "quote v1 rejected by the customer: we need 8 units, not 10" in notes
    keep_history(deal_workflow_id(deal_id), "deal-renegotiated-signed")


def test_close_lost_is_for_the_owner_or_a_manager_before_signature(live, as_user):
    rep, rep2, manager = as_user("rep1"), as_user("rep2"), as_user("manager")
    deal_id = to_quoting(rep)["deal_id"]
    refused = rep2.post(f"/deals/{deal_id}/close-lost", json={"reason": "not mine"})
    assert refused.status_code == 404  # not theirs to see
    assert rep.post(f"/deals/{deal_id}/close-lost", json={}).status_code == 422
    assert (
        manager.post(f"/deals/{deal_id}/close-lost", json={"reason": "dead"}).json()["stage"]
        == "LOST"
    )
    again = rep.post(f"/deals/{deal_id}/close-lost", json={"reason": "again"})
    assert again.status_code == 409


def test_a_revised_quote_while_proposed_replaces_the_customers_link(live, as_user):
    rep, manager = as_user("rep1"), as_user("manager")
    deal_id = to_proposed(live, rep, manager)["deal_id"]
    first = portal_token(live, lead_email(rep, deal_id), "Your quote")
    revised = submit_quote(rep, deal_id, quote_body(lines=DISCOUNTED_LINES))
    assert revised["version"] == 2
    assert stage_of(rep, deal_id) == "AWAITING_APPROVAL"  # 15 %: the manager first
    assert rep.http.post(f"/portal/{first}/accept").status_code == 409
    assert not live.mail_to(lead_email(rep, deal_id), "(version 2)")
    manager.post(f"/deals/{deal_id}/approvals", json={"decision": "approve"})
    assert stage_of(rep, deal_id) == "PROPOSED"
    second = portal_token(live, lead_email(rep, deal_id), "(version 2)")
    assert rep.http.post(f"/portal/{second}/accept").json()["stage"] == "AWAITING_SIGNATURE"
    state = rep.get(f"/deals/{deal_id}").json()
    assert [q["status"] for q in state["quotes"]] == ["superseded", "accepted"]
    assert state["contract"]["version"] == 2


def test_a_cancelled_deal_ends_cancelled(live, as_user, keep_history):
    rep = as_user("rep1")
    deal = to_quoting(rep)
    answer = rep.post(f"/deals/{deal['deal_id']}/cancel", json={"reason": "duplicate"})
    assert answer.json()["stage"] == "CANCELLED"
    assert outcome(live, deal["deal_id"]).stage == "CANCELLED"
    history = [e["action"] for e in rep.every(f"/deals/{deal['deal_id']}/history")]
    assert history[-1] == "stage.changed"
    keep_history(deal_workflow_id(deal["deal_id"]), "deal-cancelled-while-quoting")


def test_a_quote_rejected_by_the_manager_never_reaches_the_customer(live, as_user, keep_history):
    rep, manager = as_user("rep1"), as_user("manager")
    deal = to_approval(live, rep)
    deal_id = deal["deal_id"]
    rejected = manager.post(
        f"/deals/{deal_id}/approvals", json={"decision": "reject", "comment": "discount too high"}
    )
    assert rejected.json()[0]["status"] == "rejected"
    assert stage_of(rep, deal_id) == "QUOTING"
    wait_for(lambda: live.mail_to("rep1@", "were rejected"), 30, "rejection mail to the owner")
    contact = lead_email(rep, deal_id)
    assert not live.mail_to(contact, "Your quote")  # the 15 % discount was never shown
    state = rep.get(f"/deals/{deal_id}").json()
    assert [q["status"] for q in state["quotes"]] == ["rejected"]
    assert "discount too high" in state["timeline"][-1]["note"]
    revised = rep.post(
        f"/deals/{deal_id}/quotes", json=quote_body(lines=[{"sku": "GW-100", "quantity": "3"}])
    )
    assert revised.json()["version"] == 2
    assert stage_of(rep, deal_id) == "PROPOSED"  # no discount: no approval needed
    token = portal_token(live, contact, "(version 2)")
    assert len(live.mail_to(contact, "Your quote")) == 1
    assert rep.http.post(f"/portal/{token}/accept").json()["stage"] == "AWAITING_SIGNATURE"
    state = rep.get(f"/deals/{deal_id}").json()
    assert state["contract"]["version"] == 2
    assert state["approvals"] == []
    keep_history(deal_workflow_id(deal_id), "deal-reapproved-awaiting-signature")


def test_partial_deliveries_invoice_their_part_and_partial_payments_settle(
    live, as_user, keep_history
):
    rep, manager, ops, finance = (as_user(u) for u in ("rep1", "manager", "ops", "finance"))
    quote = quote_body(lines=[{"sku": "SENSOR-T", "quantity": "3", "discount_pct": "7"}])
    deal_id = to_fulfilment(live, rep, manager, quote)["deal_id"]
    for ref, qty in (("DN-A", "1"), ("DN-B", "2")):
        done = ops.post(
            f"/deals/{deal_id}/deliveries",
            json={"reference": ref, "lines": [{"sku": "SENSOR-T", "quantity": qty}]},
        )
        assert done.status_code == 200, done.text
    wait_for(lambda: stage_of(rep, deal_id) == "COLLECTING", 30, "COLLECTING")
    state = rep.get(f"/deals/{deal_id}").json()
    invoices = state["invoices"]
    assert len(invoices) == 2
    assert sum(Decimal(i["total"]) for i in invoices) == Decimal(state["quotes"][0]["total"])
    for index, invoice in enumerate(invoices):
        half = (Decimal(invoice["total"]) / 2).quantize(Decimal("0.01"))
        for part, amount in enumerate((half, Decimal(invoice["total"]) - half)):
            paid = finance.post(
                "/payments",
                json={
                    "invoice_number": invoice["number"],
                    "amount": str(amount),
                    "currency": "EUR",
                    "reference": f"{deal_id}-{index}-{part}",
                },
            )
            assert paid.status_code == 201, paid.text
    assert outcome(live, deal_id).stage == "WON"
    assert finance.get("/ledger/trial-balance").json()["balanced"]
    keep_history(deal_workflow_id(deal_id), "deal-won-partial-deliveries")


def test_upfront_billing_invoices_everything_at_signature(live, as_user):
    rep, manager = as_user("rep1"), as_user("manager")
    deal_id = to_fulfilment(live, rep, manager, quote_body(billing_plan={"kind": "upfront"}))[
        "deal_id"
    ]
    state = rep.get(f"/deals/{deal_id}").json()
    assert [i["total"] for i in state["invoices"]] == [state["quotes"][0]["total"]]


def test_milestones_bill_at_signature_and_at_completion(live, as_user):
    rep, manager, ops = as_user("rep1"), as_user("manager"), as_user("ops")
    plan = {
        "kind": "milestones",
        "milestones": [
            {"percent": "30", "trigger": "signature"},
            {"percent": "70", "trigger": "delivery_complete"},
        ],
    }
    deal_id = to_fulfilment(live, rep, manager, quote_body(billing_plan=plan))["deal_id"]
    assert len(rep.get(f"/deals/{deal_id}").json()["invoices"]) == 1
    ops.post(
        f"/deals/{deal_id}/deliveries",
        json={
            "reference": "DN-M",
            "lines": [{"sku": "GW-100", "quantity": "3"}, {"sku": "ONBOARD", "quantity": "1"}],
        },
    )
    wait_for(lambda: stage_of(rep, deal_id) == "COLLECTING", 30, "COLLECTING")
    state = rep.get(f"/deals/{deal_id}").json()
    totals = [Decimal(i["total"]) for i in state["invoices"]]
    assert totals == [Decimal("790.99"), Decimal("1845.66")]
    assert sum(totals) == Decimal(state["quotes"][0]["total"])


def test_installments_fall_due_by_the_policys_day(live, as_user, keep_history):
    rep, ops = as_user("rep1"), as_user("ops")
    deal_id = start_deal(live, "rep1", DealPolicy(day=timedelta(seconds=1)))
    rep.post(f"/deals/{deal_id}/qualify", json={"decision": "qualify"})
    plan = {"kind": "installments", "count": 3, "every_days": 2}
    rep.post(f"/deals/{deal_id}/quotes", json=quote_body(billing_plan=plan))
    token = portal_token(live, lead_email(rep, deal_id), "Your quote")
    rep.http.post(f"/portal/{token}/accept")
    sign = portal_token(live, lead_email(rep, deal_id), "ready to sign")
    rep.http.post(f"/portal/{sign}/sign", json={"name": "Ada"})
    assert len(rep.get(f"/deals/{deal_id}").json()["invoices"]) == 1
    ops.post(
        f"/deals/{deal_id}/deliveries",
        json={
            "reference": "DN-I",
            "lines": [{"sku": "GW-100", "quantity": "3"}, {"sku": "ONBOARD", "quantity": "1"}],
        },
    )

    def collecting_three_invoices() -> dict[str, Any] | None:
        s: dict[str, Any] = rep.get(f"/deals/{deal_id}").json()
        return s if s["stage"] == "COLLECTING" and len(s["invoices"]) == 3 else None

    # the third invoice and the stage change may be read apart
    state = wait_for(collecting_three_invoices, 60, "all three installments")
    assert state is not None
    issued = [i["issued_at"] for i in state["invoices"]]
    assert len(issued) == 3
    assert sum(Decimal(i["total"]) for i in state["invoices"]) == Decimal("2636.65")
    keep_history(deal_workflow_id(deal_id), "deal-installments-collecting")


def test_a_refused_command_leaves_no_trace_in_history(live, as_user):
    deal_id = create_lead(as_user("rep1"))["deal_id"]
    handle = live.client.get_workflow_handle_for(DealWorkflow.run, deal_workflow_id(deal_id))
    before = len(live.run(handle.fetch_history()).events)
    forged = QualifyCommand(
        body=Qualification(decision="qualify"), actor=Actor(username="rep2", role=Role.SALES_REP)
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        live.run(handle.execute_update(DealWorkflow.qualify, forged))
    assert "may not" in str(refused.value.cause)
    events = live.run(handle.fetch_history()).events
    assert not any(
        e.HasField("workflow_execution_update_accepted_event_attributes") for e in events[before:]
    )
    assert live.run(handle.query(DealWorkflow.state)).stage == "QUALIFYING"


def test_the_workflow_and_postgres_agree_on_the_deal(live, as_user):
    rep, manager = as_user("rep1"), as_user("manager")
    deal_id = to_fulfilment(live, rep, manager)["deal_id"]
    handle = live.client.get_workflow_handle_for(DealWorkflow.run, deal_workflow_id(deal_id))
    queried = live.run(handle.query(DealWorkflow.state))
    stored = rep.get(f"/deals/{deal_id}").json()
    assert queried.stage == stored["stage"] == "FULFILLING"
    assert [q.total for q in queried.quotes] == [Decimal(q["total"]) for q in stored["quotes"]]
    assert queried.contract.sha256 == stored["contract"]["sha256"]
    assert [s.status for s in queried.approvals] == [s["status"] for s in stored["approvals"]]
    assert queried.order.due_date.isoformat().replace("+00:00", "Z") == stored["order"]["due_date"]
