"""Billing on schedule: installments fall due on their dates whatever the deliveries, and
subscriptions are invoiced per billing period by a child of their own; a deal is WON once
delivered in full and paid (short policy days, driven over HTTP)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.policy import CollectionPolicy, DealPolicy
from tests.conftest import wait_for
from tests.flows import quote_body, start_deal
from tests.workflow.test_collection import ALL, MANUAL, outcome, signed_deal
from workflows.ids import deal_workflow_id, subscription_billing_workflow_id

PATIENT = CollectionPolicy(dunning_days=[10**6], write_off_after_days=2 * 10**6)


def policy(day: float) -> DealPolicy:
    return DealPolicy(
        day=timedelta(seconds=day),
        qualification=MANUAL,
        collection=PATIENT,
        credit_hold_overdue_days=10**6,
    )


def pay_all_open(finance, deal_id: str) -> list[dict[str, Any]]:
    """Pay every open invoice whose collector has started (a new one may not have yet)."""
    paid = []
    for invoice in finance.every("/invoices", params={"deal_id": deal_id, "status": "open"}):
        response = finance.post(
            "/payments",
            json={
                "invoice_number": invoice["number"],
                "amount": invoice["total"],
                "currency": invoice["currency"],
                "reference": f"PAY-{invoice['number']}",
            },
        )
        assert response.status_code in (201, 404), response.text
        if response.status_code == 201:
            paid.append(invoice)
    return paid


def assert_on_schedule(issued: list[datetime], start: datetime, seconds: list[float]) -> None:
    """Each invoice issued at its due time after `start`: never early (timers do not fire
    early), and within its own period (a busy worker may be late by a second or more, but
    lateness does not add up, since every date is counted from `start`)."""
    offsets = [(at - start).total_seconds() for at in issued]
    assert len(offsets) == len(seconds)
    period = min(later - earlier for earlier, later in itertools.pairwise(seconds))
    for offset, due in zip(offsets, seconds, strict=True):
        assert due - 0.01 <= offset < due + period, (offsets, seconds)


def test_installments_are_issued_on_their_dates_with_no_delivery(live, as_user, keep_history):
    rep, ops, finance = as_user("rep1"), as_user("ops"), as_user("finance")
    plan = {"kind": "installments", "count": 3, "every_days": 2}
    deal_id = signed_deal(live, as_user, policy(1), quote_body(billing_plan=plan, valid_days=60))
    state = wait_for(
        lambda: (s := rep.get(f"/deals/{deal_id}").json())["stage"] == "COLLECTING" and s,
        30,
        "three installments without a delivery",
    )
    issued = sorted(datetime.fromisoformat(i["issued_at"]) for i in state["invoices"])
    assert len(issued) == 3
    # Installment k falls due 2k policy days (seconds here) after signature, the first at it.
    assert_on_schedule(issued, issued[0], [0, 2, 4])
    assert sum(Decimal(i["total"]) for i in state["invoices"]) == Decimal("2636.65")
    assert state["order"]["status"] != "fulfilled"

    pay_all_open(finance, deal_id)
    wait_for(
        lambda: all(i["status"] == "paid" for i in finance.every(f"/invoices?deal_id={deal_id}")),
        30,
        "all paid",
    )
    assert rep.get(f"/deals/{deal_id}").json()["stage"] == "COLLECTING"  # not delivered yet

    delivered = ops.post(f"/deals/{deal_id}/deliveries", json={"reference": "LATE", "lines": ALL})
    assert delivered.status_code == 200, delivered.text
    assert outcome(live, deal_id).stage == "WON"
    keep_history(deal_workflow_id(deal_id), "deal-installments-on-schedule")


def test_a_yearly_subscription_billed_quarterly_is_four_invoices_and_goods_follow_the_plan(
    live, as_user, keep_history
):
    rep, ops, finance = as_user("rep1"), as_user("ops"), as_user("finance")
    lines = [
        {"sku": "GW-100", "quantity": "1"},
        {"sku": "SUPPORT-GOLD", "quantity": "1", "billing_period": "quarterly"},
    ]
    quote = quote_body(lines=lines, billing_plan={"kind": "upfront"}, valid_days=365)
    deal_id = signed_deal(live, as_user, policy(0.04), quote)
    state = rep.get(f"/deals/{deal_id}").json()
    assert state["stage"] == "FULFILLING"  # the subscription is not invoiced until activated
    assert [i["total"] for i in state["invoices"]] == ["419.88"]  # the goods, upfront
    support = next(line for line in state["quotes"][-1]["lines"] if line["sku"] == "SUPPORT-GOLD")
    assert support["billing_period"] == "quarterly"

    activated = ops.post(
        f"/deals/{deal_id}/deliveries",
        json={
            "reference": "GO-LIVE",
            "lines": [{"sku": "GW-100", "quantity": "1"}, {"sku": "SUPPORT-GOLD", "quantity": "1"}],
        },
    )
    assert activated.status_code == 200, activated.text

    def won() -> bool:
        pay_all_open(finance, deal_id)
        return bool(rep.get(f"/deals/{deal_id}").json()["stage"] == "WON")

    wait_for(won, 60, "four quarters invoiced and paid")
    invoices = finance.every("/invoices", params={"deal_id": deal_id})
    quarters = [i for i in invoices if i["total"] != "419.88"]
    assert len(quarters) == 4
    assert sum(Decimal(i["total"]) for i in quarters) == Decimal(support["total"])
    issued = sorted(datetime.fromisoformat(i["issued_at"]) for i in quarters)
    # A quarter is 90 policy days (3.6 s here), counted from the activation.
    delivery = rep.get(f"/deals/{deal_id}").json()["deliveries"][0]
    activated_at = datetime.fromisoformat(delivery["delivered_at"])
    assert_on_schedule(issued, activated_at, [0, 3.6, 7.2, 10.8])
    billing = live.run(
        live.client.get_workflow_handle(
            subscription_billing_workflow_id(deal_id, "SUPPORT-GOLD")
        ).result()
    )
    assert billing == 4
    keep_history(deal_workflow_id(deal_id), "deal-subscription-billed-quarterly")
    keep_history(
        subscription_billing_workflow_id(deal_id, "SUPPORT-GOLD"), "subscription-billed-quarterly"
    )


def test_a_billing_period_on_a_good_is_refused(live, as_user):
    rep = as_user("rep1")
    deal_id = start_deal(live, "rep1", policy(1))
    rep.post(f"/deals/{deal_id}/qualify", json={"decision": "qualify"})
    lines = [{"sku": "GW-100", "quantity": "1", "billing_period": "annual"}]
    refused = rep.post(f"/deals/{deal_id}/quotes", json=quote_body(lines=lines))
    assert refused.status_code == 422, refused.text
    assert "billing_period" in refused.text


def test_a_cancelled_deal_stops_billing_its_subscription_and_credits_what_is_owed(live, as_user):
    rep, ops, finance = as_user("rep1"), as_user("ops"), as_user("finance")
    quote = quote_body(
        lines=[{"sku": "SUPPORT-GOLD", "quantity": "1"}],
        billing_plan={"kind": "on_delivery"},
        valid_days=365,
    )
    deal_id = signed_deal(live, as_user, policy(0.05), quote)  # a month is 1.5 s
    go_live = {"reference": "GO", "lines": [{"sku": "SUPPORT-GOLD", "quantity": "1"}]}
    assert ops.post(f"/deals/{deal_id}/deliveries", json=go_live).status_code == 200
    wait_for(lambda: rep.get(f"/deals/{deal_id}").json()["invoices"], 30, "the first month")
    assert rep.post(f"/deals/{deal_id}/cancel", json={"reason": "gone"}).status_code == 200
    decided = finance.post(f"/deals/{deal_id}/approvals", json={"decision": "approve"})
    assert decided.status_code == 200, decided.text
    assert outcome(live, deal_id).stage == "CANCELLED"
    billing = live.client.get_workflow_handle(
        subscription_billing_workflow_id(deal_id, "SUPPORT-GOLD")
    )
    wait_for(lambda: live.run(billing.describe()).status.name == "CANCELED", 30, "billing stopped")
    invoices = finance.every("/invoices", params={"deal_id": deal_id})
    assert 1 <= len(invoices) < 12
    assert all(i["status"] == "credited" for i in invoices), invoices
