"""Change orders once everything is delivered (INVOICING, COLLECTING): added units re-open
the order and take the deal back to FULFILLING, on again to WON; units billed and never
delivered are credited, newest open invoice first; invoices, credit notes and revenue to
the cent; the deal's amount changes once the change is signed; a change order's approvers
are reminded and escalated as a quote's are. Driven over HTTP on the real servers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import text

from adapters.storage.audit import deal_events, deal_head
from domain.audit import check_chain
from tests.conftest import wait_for
from tests.flows import lead_email, quote_body, stage_of, to_fulfilment
from tests.workflow.test_billing_schedule import policy
from tests.workflow.test_change_orders import change, deliver, pay_everything
from tests.workflow.test_change_orders import sign_change as sign_newest
from tests.workflow.test_collection import ledger, signed_deal
from workflows.ids import deal_workflow_id

D = Decimal
FIVE_GATEWAYS = [
    {"sku": "GW-100", "quantity": "5", "discount_pct": "5"},
    {"sku": "ONBOARD", "quantity": "1"},
]
TWO_GATEWAYS = [
    {"sku": "GW-100", "quantity": "2", "discount_pct": "5"},
    {"sku": "ONBOARD", "quantity": "1"},
]
# The quote of tests/flows.py: 3 GW-100 at 5 % (997.21 + 199.44 tax), 1 ONBOARD (1200 + 240).
TOTAL, NET = D("2636.65"), D("2197.21")
# Five gateways: 1662.02 + 332.40 tax; four: 1329.62 + 265.92; three at 10 %: 944.73 + 188.95.
FIVE_TOTAL, FIVE_NET = D("3434.42"), D("2862.02")
FOUR_TOTAL, FOUR_NET = D("3035.54"), D("2529.62")
CUT_TOTAL, CUT_NET = D("2573.68"), D("2144.73")


def installments(every_days: int) -> dict[str, Any]:
    return quote_body(
        billing_plan={"kind": "installments", "count": 2, "every_days": every_days},
        valid_days=365,
    )


def invoices(finance, deal_id: str) -> list[dict[str, Any]]:
    """The deal's invoices in the order they were issued."""
    found = finance.every("/invoices", params={"deal_id": deal_id})
    return sorted(found, key=lambda i: (i["issued_at"], i["number"]))


def collecting_with(rep, finance, deal_id: str, count: int, what: str) -> list[dict[str, Any]]:
    """The deal's invoices once it is COLLECTING with `count` of them: the stage and the
    invoice list are read apart, so either may show first."""

    def ready() -> list[dict[str, Any]] | None:
        found = invoices(finance, deal_id)
        done = stage_of(rep, deal_id) == "COLLECTING" and len(found) == count
        return found if done else None

    answer = wait_for(ready, 60, what)
    assert answer is not None
    return answer


def pay(finance, number: str, amount: str) -> None:
    paid = finance.post(
        "/payments",
        json={
            "invoice_number": number,
            "amount": amount,
            "currency": "EUR",
            "reference": f"PART-{number}",
        },
    )
    assert paid.status_code == 201, paid.text


def sign_change(live, rep, deal_id: str, version: int) -> None:
    """Sign contract `version` by the link in its own e-mail (one per version)."""
    email = lead_email(rep, deal_id)
    wait_for(lambda: len(live.mail_to(email, "ready to sign")) >= version, 30, f"v{version}")
    sign_newest(live, rep, deal_id, version)


def amount_of(live, deal_id: str) -> Decimal:
    with live.engine.connect() as conn:
        found = conn.execute(text("SELECT amount FROM deals WHERE deal_id = :d"), {"d": deal_id})
        return D(found.scalar_one())


def stages_since_signature(rep, deal_id: str) -> list[tuple[str, str | None]]:
    timeline = rep.get(f"/deals/{deal_id}").json()["timeline"]
    stages = [(t["stage"], t["note"]) for t in timeline]
    first = next(i for i, (stage, _) in enumerate(stages) if stage == "FULFILLING")
    return stages[first:]


def audited(live, deal_id: str) -> list[Any]:
    """The deal's audit events, their hash chain checked."""
    with live.engine.connect() as conn:
        events, head = deal_events(conn, deal_id), deal_head(conn, deal_id)
    assert check_chain(events, head, live.settings.audit_secret).first_broken_seq is None
    return events


def test_units_added_while_invoicing_reopen_the_order_and_bill_by_the_schedule(live, as_user):
    rep, ops, finance = as_user("rep1"), as_user("ops"), as_user("finance")
    # Two installments, the second 300 policy days (30 s) after signature: INVOICING between.
    deal_id = signed_deal(live, as_user, policy(0.1), installments(every_days=300))
    deliver(ops, deal_id, "D1", GW_100="3", ONBOARD="1")
    assert stage_of(rep, deal_id) == "INVOICING"
    below = change(rep, deal_id, TWO_GATEWAYS, "one site less")
    assert below.status_code == 422, below.text  # all three were delivered
    assert "GW-100: 2 is below the 3 already delivered" in below.text

    answer = change(rep, deal_id, FIVE_GATEWAYS, "two more sites")
    assert answer.status_code == 201, answer.text
    assert (answer.json()["status"], answer.json()["delta_total"]) == (
        "awaiting_signature",
        "797.77",
    )
    assert stage_of(rep, deal_id) == "INVOICING"
    assert amount_of(live, deal_id) == NET  # requested, not yet signed
    sign_change(live, rep, deal_id, version=2)
    assert stage_of(rep, deal_id) == "FULFILLING"
    assert amount_of(live, deal_id) == FIVE_NET
    # Half the plan was called for (installment 1 of 2): half the two gateways, at once.
    first, rise = invoices(finance, deal_id)
    assert (D(first["total"]), D(rise["net_total"]), D(rise["tax_total"])) == (
        D("1318.33"),
        D("332.40"),
        D("66.48"),
    )

    # One of the two cut again before delivery: its half, billed, is credited on the rise.
    four = [{**FIVE_GATEWAYS[0], "quantity": "4"}, FIVE_GATEWAYS[1]]
    assert change(rep, deal_id, four, "one site postponed").status_code == 201
    sign_change(live, rep, deal_id, version=3)
    credited = wait_for(
        lambda: D(finance.get(f"/invoices/{rise['number']}").json()["credited"]) or None,
        30,
        "the credit note",
    )
    assert credited == D("199.44")  # half a gateway: 166.20 + 33.24 tax
    deliver(ops, deal_id, "D2", GW_100="1")
    assert stage_of(rep, deal_id) == "INVOICING"  # the second installment still to come
    last = collecting_with(rep, finance, deal_id, 3, "the second installment")[-1]
    assert D(last["total"]) == D("1517.77")  # the rest of four gateways, and of ONBOARD
    billed = sum(D(i["total"]) - D(i["credited"]) for i in invoices(finance, deal_id))
    assert billed == FOUR_TOTAL
    books = ledger(live, deal_id)
    # Revenue is the changed contract's; what was credited had never been earned.
    assert (books["revenue"], books.get("sales_allowances", 0)) == (-FOUR_NET, 0)
    assert books.get("deferred_revenue", 0) == 0
    pay_everything(finance, deal_id)
    wait_for(lambda: stage_of(rep, deal_id) == "WON", 30, "WON")

    assert [stage for stage, _ in stages_since_signature(rep, deal_id)] == [
        "FULFILLING",
        "INVOICING",
        "FULFILLING",
        "INVOICING",
        "COLLECTING",
        "WON",
    ]
    reopened = stages_since_signature(rep, deal_id)[2][1]
    assert reopened == "change order 1 re-opened the order: two more sites"
    actions = [e.action for e in audited(live, deal_id)]
    signed = actions.index("change_order.signed")
    assert actions[signed:].index("order.changed") < actions[signed:].index("stage.changed")
    assert actions.count("change_order.signed") == 2


def test_units_added_while_collecting_after_a_partial_payment(live, as_user, keep_history):
    rep, manager, ops, finance = (as_user(u) for u in ("rep1", "manager", "ops", "finance"))
    deal_id = to_fulfilment(live, rep, manager)["deal_id"]  # billed on delivery
    deliver(ops, deal_id, "D1", GW_100="3", ONBOARD="1")
    (first,) = invoices(finance, deal_id)
    wait_for(lambda: stage_of(rep, deal_id) == "COLLECTING", 30, "COLLECTING")
    pay(finance, first["number"], "1000.00")

    assert change(rep, deal_id, FIVE_GATEWAYS, "two more sites").status_code == 201
    sign_change(live, rep, deal_id, version=2)
    assert stage_of(rep, deal_id) == "FULFILLING"
    assert len(invoices(finance, deal_id)) == 1  # on delivery: nothing to bill yet
    deliver(ops, deal_id, "D2", GW_100="2")
    _, second = collecting_with(rep, finance, deal_id, 2, "COLLECTING again")
    assert D(second["total"]) == D("797.77")
    assert D(first["total"]) + D(second["total"]) == FIVE_TOTAL
    books = ledger(live, deal_id)
    assert (books["revenue"], books.get("deferred_revenue", 0)) == (-FIVE_NET, 0)
    assert books["cash"] == D("1000.00")

    pay_everything(finance, deal_id)
    wait_for(lambda: stage_of(rep, deal_id) == "WON", 30, "WON")
    assert [stage for stage, _ in stages_since_signature(rep, deal_id)] == [
        "FULFILLING",
        "INVOICING",
        "COLLECTING",
        "FULFILLING",
        "INVOICING",
        "COLLECTING",
        "WON",
    ]
    audited(live, deal_id)
    closed = change(rep, deal_id, FIVE_GATEWAYS, "after the end")
    assert closed.status_code == 409, closed.text
    keep_history(deal_workflow_id(deal_id), "deal-change-order-reopens-while-collecting")


def test_a_price_cut_while_collecting_after_a_partial_payment_is_credited(live, as_user):
    rep, ops, finance = as_user("rep1"), as_user("ops"), as_user("finance")
    # Both installments billed (2 s apart) before the deliveries: COLLECTING, still delivering.
    deal_id = signed_deal(live, as_user, policy(0.1), installments(every_days=20))
    collecting_with(rep, finance, deal_id, 2, "both installments")
    deliver(ops, deal_id, "D1", GW_100="1")
    first, second = invoices(finance, deal_id)
    assert (D(first["total"]), D(second["total"])) == (D("1318.33"), D("1318.32"))
    pay(finance, second["number"], "1300.00")
    # Every gateway was invoiced: none can be taken off, delivered or not.
    below = change(rep, deal_id, TWO_GATEWAYS, "one site less")
    assert below.status_code == 422, below.text
    assert "GW-100: 2 is below the 3 already delivered or invoiced" in below.text

    cut = [{**TWO_GATEWAYS[0], "quantity": "3", "discount_pct": "10"}, TWO_GATEWAYS[1]]
    answer = change(rep, deal_id, cut, "price match")
    assert answer.status_code == 201, answer.text
    assert answer.json()["delta_total"] == "-62.97"  # 944.73 + 188.95 tax, was 1196.65
    sign_change(live, rep, deal_id, version=2)
    # Credited newest invoice first: its open 18.32, then 44.65 of the first.
    wait_for(
        lambda: [D(i["credited"]) for i in invoices(finance, deal_id)] == [D("44.65"), D("18.32")],
        30,
        "the credit notes",
    )
    assert stage_of(rep, deal_id) == "COLLECTING"
    assert amount_of(live, deal_id) == CUT_NET
    billed = sum(D(i["total"]) - D(i["credited"]) for i in invoices(finance, deal_id))
    assert billed == CUT_TOTAL

    deliver(ops, deal_id, "D2", GW_100="2", ONBOARD="1")
    pay_everything(finance, deal_id)
    wait_for(lambda: stage_of(rep, deal_id) == "WON", 30, "WON")
    books = ledger(live, deal_id)
    # Revenue is the changed contract's; what was credited had never been earned.
    assert (books["revenue"], books.get("sales_allowances", 0)) == (-CUT_NET, 0)
    assert books.get("deferred_revenue", 0) == 0
    assert books["cash"] == CUT_TOTAL
    actions = [e.action for e in audited(live, deal_id)]
    assert actions.count("credit_note.issued") == 2


def test_a_cancelled_deal_takes_no_change_order(live, as_user):
    rep, manager = as_user("rep1"), as_user("manager")
    deal_id = to_fulfilment(live, rep, manager)["deal_id"]
    cancelled = rep.post(f"/deals/{deal_id}/cancel", json={"reason": "budget cut"})
    assert cancelled.status_code == 200, cancelled.text
    assert stage_of(rep, deal_id) == "CANCELLED"
    refused = change(rep, deal_id, FIVE_GATEWAYS)
    assert refused.status_code == 409, refused.text
    assert rep.get(f"/deals/{deal_id}").json()["change_orders"] == []


def test_a_change_orders_approvers_are_reminded_then_escalated(live, as_user):
    rep, ops, admin = as_user("rep1"), as_user("ops"), as_user("admin")
    # Reminded after one policy day (0.5 s), escalated to an admin after two.
    deal_id = signed_deal(live, as_user, policy(0.5), quote_body(valid_days=365))
    deliver(ops, deal_id, "D1", GW_100="3", ONBOARD="1")
    deep = [{"sku": "GW-100", "quantity": "4", "discount_pct": "20"}, TWO_GATEWAYS[1]]
    answer = change(rep, deal_id, deep, "price match")
    assert answer.json()["status"] == "awaiting_approval", answer.text
    company = rep.get(f"/deals/{deal_id}").json()["customer"]["name"]
    wait_for(lambda: live.mail_to("manager@", f"Reminder: {company}"), 30, "the reminder")
    wait_for(lambda: live.mail_to("admin@", f"Escalated to you: approval of {company}"), 30, "up")
    (step,) = [a for a in admin.every("/approvals") if a["deal_id"] == deal_id]
    assert step["step"]["escalated_to"] == "admin", step
    approved = admin.post(f"/deals/{deal_id}/approvals", json={"decision": "approve"})
    assert approved.status_code == 200, approved.text
    state = rep.get(f"/deals/{deal_id}").json()
    assert [c["status"] for c in state["change_orders"]] == ["awaiting_signature"]
    actions = [e.action for e in audited(live, deal_id)]
    assert actions.count("approval.escalated") == 1
