"""From invoice to cash or write-off: dunning, credit notes, write-offs, cancellations that
compensate, revenue recognition, the credit check and credit hold (short policy days)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.deal import DeliveryCommand
from domain.orders import DeliveryRequest
from domain.policy import CollectionPolicy, DealPolicy
from domain.qualification import QualificationPolicy
from domain.users import Actor, Role
from tests.conftest import wait_for
from tests.flows import lead_email, portal_token, quote_body, start_deal, to_fulfilment
from workflows.deal import DealWorkflow
from workflows.ids import deal_workflow_id, invoice_workflow_id

MANUAL = QualificationPolicy(
    auto_qualify_at=None,
    auto_disqualify_below=None,
    remind_after_days=10_000,
    escalate_after_days=20_000,
    close_after_days=30_000,
)
ALL = [{"sku": "GW-100", "quantity": "3"}, {"sku": "ONBOARD", "quantity": "1"}]


def signed_deal(live, as_user, policy: DealPolicy, quote: dict[str, Any]) -> str:
    rep = as_user("rep1")
    deal_id = start_deal(live, "rep1", policy)
    rep.post(f"/deals/{deal_id}/qualify", json={"decision": "qualify"})
    assert rep.post(f"/deals/{deal_id}/quotes", json=quote).status_code == 201
    for step in rep.get(f"/deals/{deal_id}").json()["approvals"]:
        approver = {"sales_manager": "manager", "finance": "finance", "admin": "admin"}
        as_user(approver[step["role"]]).post(
            f"/deals/{deal_id}/approvals", json={"decision": "approve"}
        )
    accepted = rep.http.post(
        f"/portal/{portal_token(live, lead_email(rep, deal_id), 'Your quote')}/accept"
    )
    assert accepted.status_code == 200, accepted.text
    token = portal_token(live, lead_email(rep, deal_id), "ready to sign")
    assert rep.http.post(f"/portal/{token}/sign", json={"name": "Ada"}).status_code == 200
    return deal_id


def outcome(live, deal_id, timeout=60):
    handle = live.client.get_workflow_handle_for(DealWorkflow.run, deal_workflow_id(deal_id))
    return live.run(handle.result(), timeout=timeout)


def ledger(live, deal_id) -> dict[str, Decimal]:
    """Debit minus credit per account, for the deal's entries."""
    with live.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT l.account, SUM(l.debit - l.credit) FROM journal_lines l"
                " JOIN journal_entries e USING (entry_id)"
                " WHERE e.deal_id = :d GROUP BY l.account"
            ),
            {"d": deal_id},
        )
        return {account: amount for account, amount in rows}


def test_an_unpaid_invoice_is_dunned_then_written_off(live, as_user):
    policy = DealPolicy(
        day=timedelta(seconds=1),
        qualification=MANUAL,
        collection=CollectionPolicy(dunning_days=[1, 2], write_off_after_days=3),
    )
    deal_id = signed_deal(
        live, as_user, policy, quote_body(billing_plan={"kind": "upfront"}, payment_terms_days=1)
    )
    as_user("ops").post(f"/deals/{deal_id}/deliveries", json={"reference": "D1", "lines": ALL})
    result = outcome(live, deal_id)
    assert result.stage == "WRITTEN_OFF"
    invoice = as_user("finance").every(f"/invoices?deal_id={deal_id}")[0]
    assert invoice["status"] == "written_off"
    email = lead_email(as_user("rep1"), deal_id)
    subjects = [str(m["Subject"]) for m in live.mail_to(email, invoice["number"])]
    assert any(s.startswith("Friendly reminder") for s in subjects)
    assert any(s.startswith("Reminder 2") for s in subjects)
    books = ledger(live, deal_id)
    # Bad-debt relief: the VAT part goes back off the VAT owed; only the net is a loss.
    assert books["bad_debt_expense"] == Decimal(invoice["subtotal"])
    assert books["accounts_receivable"] == books["tax_payable"] == 0


def test_credit_notes_reduce_what_is_owed_and_are_issued_once(live, as_user):
    rep, manager, finance = as_user("rep1"), as_user("manager"), as_user("finance")
    deal_id = to_fulfilment(live, rep, manager, quote_body(billing_plan={"kind": "upfront"}))[
        "deal_id"
    ]
    invoice = finance.every(f"/invoices?deal_id={deal_id}")[0]
    number, headers = invoice["number"], {"Idempotency-Key": f"cn-{deal_id}"}
    body = {"amount": "100.00", "reason": "late delivery"}
    first = finance.post(f"/invoices/{number}/credit-notes", json=body, headers=headers)
    again = finance.post(f"/invoices/{number}/credit-notes", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json() == again.json()
    note = first.json()
    assert note["number"].startswith("CN-") and Decimal(note["net"]) + Decimal(
        note["tax"]
    ) == Decimal("100.00")
    assert Decimal(note["tax"]) == Decimal("16.67")  # 20 % tax inside 100.00
    after = finance.get(f"/invoices/{number}").json()
    assert Decimal(after["credited"]) == Decimal("100.00")
    too_much = finance.post(
        f"/invoices/{number}/credit-notes", json={"amount": invoice["total"], "reason": "x"}
    )
    assert too_much.status_code == 422
    assert as_user("rep1").post(f"/invoices/{number}/credit-notes", json=body).status_code == 403
    rest = Decimal(invoice["total"]) - Decimal("100.00")
    paid = finance.post(
        "/payments",
        json={
            "invoice_number": number,
            "amount": str(rest),
            "currency": "EUR",
            "reference": f"P-{deal_id}",
        },
    )
    assert paid.json()["invoice"]["status"] == "paid"
    assert ledger(live, deal_id)["accounts_receivable"] == 0
    assert finance.get("/ledger/trial-balance").json()["balanced"]


def test_finance_may_write_off_early_and_then_nothing_more_is_paid(live, as_user):
    rep, manager, finance = as_user("rep1"), as_user("manager"), as_user("finance")
    deal_id = to_fulfilment(live, rep, manager, quote_body(billing_plan={"kind": "upfront"}))[
        "deal_id"
    ]
    number = finance.every(f"/invoices?deal_id={deal_id}")[0]["number"]
    off = finance.post(f"/invoices/{number}/write-off", json={"reason": "insolvent"})
    assert off.status_code == 200 and off.json()["status"] == "written_off"
    late = finance.post(
        "/payments",
        json={
            "invoice_number": number,
            "amount": "1.00",
            "currency": "EUR",
            "reference": f"L-{deal_id}",
        },
    )
    assert late.status_code == 422
    assert (
        as_user("ops").post(f"/invoices/{number}/write-off", json={"reason": "x"}).status_code
        == 403
    )


def cancel_after_paying(live, as_user, paid: str, **lead: Any) -> tuple[str, dict[str, Any]]:
    """A deal billed upfront, `paid` of its invoice paid, cancelled (finance approves)
    before anything is delivered: its id and the invoice as it was before the cancel."""
    rep, manager, finance = as_user("rep1"), as_user("manager"), as_user("finance")
    deal = to_fulfilment(live, rep, manager, quote_body(billing_plan=UPFRONT), **lead)
    deal_id = deal["deal_id"]
    invoice = finance.every(f"/invoices?deal_id={deal_id}")[0]
    pay(as_user, invoice, paid, f"C-{deal_id}")
    asked = rep.post(f"/deals/{deal_id}/cancel", json={"reason": "customer went away"})
    assert asked.status_code == 200 and asked.json()["stage"] == "FULFILLING"  # finance decides
    assert Decimal(finance.get(f"/invoices/{invoice['number']}").json()["credited"]) == 0
    (step,) = [a for a in finance.every("/approvals") if a["deal_id"] == deal_id]
    assert step["step"]["subject"] == "cancellation"
    decided = finance.post(f"/deals/{deal_id}/approvals", json={"decision": "approve"})
    assert decided.status_code == 200, decided.text
    return deal_id, {**invoice, "customer_id": deal["customer"]["customer_id"]}


def credit_of(as_user, customer_id: str) -> list[dict[str, str]]:
    return list(as_user("finance").get(f"/customers/{customer_id}").json()["credit"])


def test_a_cancel_after_invoicing_compensates(live, as_user):
    rep, finance = as_user("rep1"), as_user("finance")
    deal_id, invoice = cancel_after_paying(live, as_user, "500.00")
    # The quote, by hand: GW-100 3 x 349.90 = 1049.70 less 5 % (52.485, to the cent 52.49) = 997.21
    # (+ 20 % VAT 199.44), ONBOARD 1200.00 (+ 240.00): 2197.21 net + 439.44 VAT = 2636.65.
    assert (invoice["net_total"], invoice["tax_total"], invoice["total"]) == (
        "2197.21",
        "439.44",
        "2636.65",
    )
    state = rep.get(f"/deals/{deal_id}").json()
    assert state["stage"] == "CANCELLED"
    assert state["order"]["status"] == "cancelled"
    # Nothing was delivered, so the whole invoice is credited, all its VAT with it: 2136.65
    # of it settles what was still owed, the 500.00 paid is owed back to the customer.
    settled = finance.get(f"/invoices/{invoice['number']}").json()
    assert settled["status"] == "credited"
    assert [Decimal(settled[k]) for k in ("credited", "paid", "balance")] == [
        Decimal("2636.65"),
        0,
        0,
    ]
    history = rep.every(f"/deals/{deal_id}/history")
    (note,) = [e["data"] for e in history if e["action"] == "credit_note.issued"]
    assert (Decimal(note["amount"]), Decimal(note["owed_back"])) == (
        Decimal("2636.65"),
        Decimal("500.00"),
    )
    books = ledger(live, deal_id)
    assert books["accounts_receivable"] == 0  # 2636.65 - 500.00 - 2636.65 + 500.00
    assert books["deferred_revenue"] == 0  # -2197.21 + 2197.21
    assert books["tax_payable"] == 0  # -439.44 + 439.44: the supply never happened
    assert books["cash"] == Decimal("500.00")
    assert books["customer_credit"] == Decimal("-500.00")  # owed to the customer, gross
    assert books.get("revenue", 0) == 0 and books.get("sales_allowances", 0) == 0
    assert credit_of(as_user, invoice["customer_id"]) == [{"amount": "500.00", "currency": "EUR"}]
    assert finance.get("/ledger/trial-balance").json()["balanced"]


def test_a_cancel_of_a_deal_paid_in_full_owes_back_all_it_paid(live, as_user):
    deal_id, invoice = cancel_after_paying(live, as_user, "2636.65")  # see the test above
    assert as_user("rep1").get(f"/deals/{deal_id}").json()["stage"] == "CANCELLED"
    # The invoice was paid, so its collection had ended: the close-out credits it, all of
    # it (nothing delivered), and all 2636.65 paid is owed back.
    settled = as_user("finance").get(f"/invoices/{invoice['number']}").json()
    assert settled["status"] == "credited"
    assert [Decimal(settled[k]) for k in ("credited", "paid", "balance")] == [
        Decimal("2636.65"),
        0,
        0,
    ]
    books = ledger(live, deal_id)
    assert books["tax_payable"] == 0 and books["deferred_revenue"] == 0
    assert books["accounts_receivable"] == 0
    assert books["customer_credit"] == Decimal("-2636.65") == -books["cash"]
    assert credit_of(as_user, invoice["customer_id"]) == [{"amount": "2636.65", "currency": "EUR"}]
    assert as_user("finance").get("/ledger/trial-balance").json()["balanced"]


def test_credit_owed_for_a_cancelled_deal_is_refunded_or_taken_by_the_next_invoice(live, as_user):
    from datetime import UTC, datetime

    from adapters.finance.invoices import InvoiceBook

    finance = as_user("finance")
    company = f"Owed {uuid.uuid4().hex[:8]} GmbH"
    deal_id, invoice = cancel_after_paying(live, as_user, "500.00", company=company)
    customer = invoice["customer_id"]
    outcome(live, deal_id)
    moves = "SELECT count(*) FROM customer_credit_moves WHERE customer_id = :c"
    notes = "SELECT count(*) FROM credit_notes WHERE deal_id = :d"

    def counted() -> tuple[int, int]:
        with live.engine.connect() as conn:
            return (
                conn.execute(text(moves), {"c": customer}).scalar_one(),
                conn.execute(text(notes), {"d": deal_id}).scalar_one(),
            )

    # The close-out run again (a retried activity) writes nothing twice.
    before, books = counted(), ledger(live, deal_id)
    InvoiceBook(live.engine).close_cancelled(deal_id, datetime.now(UTC))
    assert (counted(), ledger(live, deal_id)) == (before, books) == ((1, 1), books)
    # Finance pays 100.00 of it back; the customer's next invoice takes the 400.00 left.
    refund = {"amount": "100.00", "currency": "EUR", "reference": f"R-{deal_id}"}
    refunded = finance.post(f"/customers/{customer}/refunds", json=refund)
    assert refunded.status_code == 201, refunded.text
    assert credit_of(as_user, customer) == [{"amount": "400.00", "currency": "EUR"}]
    assert finance.get("/ledger/trial-balance").json()["balanced"]
    quote = quote_body(billing_plan=UPFRONT)
    again = to_fulfilment(live, as_user("rep1"), as_user("manager"), quote, company=company)
    assert again["customer"]["customer_id"] == customer
    (following,) = finance.every(f"/invoices?deal_id={again['deal_id']}")
    assert Decimal(following["paid"]) == Decimal("400.00")
    assert Decimal(following["balance"]) == Decimal(following["total"]) - Decimal("400.00")
    assert credit_of(as_user, customer) == []
    assert finance.get("/ledger/trial-balance").json()["balanced"]


def test_a_cancel_after_invoicing_that_finance_rejects_leaves_the_deal_going(live, as_user):
    rep, manager, finance = as_user("rep1"), as_user("manager"), as_user("finance")
    deal_id = to_fulfilment(live, rep, manager, quote_body(billing_plan={"kind": "upfront"}))[
        "deal_id"
    ]
    assert rep.post(f"/deals/{deal_id}/cancel", json={"reason": "cold feet"}).status_code == 200
    again = rep.post(f"/deals/{deal_id}/cancel", json={"reason": "really"})
    assert again.status_code == 409  # one request at a time
    assert as_user("manager").post(
        f"/deals/{deal_id}/approvals", json={"decision": "approve"}
    ).status_code in (403, 409)  # finance's to decide
    rejected = finance.post(
        f"/deals/{deal_id}/approvals", json={"decision": "reject", "comment": "they will pay"}
    )
    assert rejected.status_code == 200, rejected.text
    state = rep.get(f"/deals/{deal_id}").json()
    assert state["stage"] == "FULFILLING"
    assert all(i["status"] == "open" for i in state["invoices"])
    actions = [e["action"] for e in rep.every(f"/deals/{deal_id}/history")]
    assert actions.index("cancellation.requested") < actions.index("cancellation.rejected")
    # It can be asked again later.
    assert rep.post(f"/deals/{deal_id}/cancel", json={"reason": "now"}).status_code == 200


def test_a_cancel_before_any_invoice_needs_no_finance(live, as_user):
    rep = as_user("rep1")
    deal_id = to_fulfilment(live, rep, as_user("manager"), quote_body())["deal_id"]  # on delivery
    assert rep.get(f"/deals/{deal_id}").json()["invoices"] == []
    cancelled = rep.post(f"/deals/{deal_id}/cancel", json={"reason": "changed their mind"})
    assert cancelled.json()["stage"] == "CANCELLED"


def test_goods_are_recognized_at_delivery_and_subscriptions_month_by_month(live, as_user):
    policy = DealPolicy(day=timedelta(seconds=0.05), qualification=MANUAL)
    lines = [
        {"sku": "GW-100", "quantity": "2"},
        {"sku": "L2C-SEAT", "quantity": "5", "discount_pct": "10"},
    ]
    deal_id = signed_deal(
        live,
        as_user,
        policy,
        quote_body(lines=lines, billing_plan={"kind": "upfront"}, valid_days=365),
    )
    as_user("ops").post(
        f"/deals/{deal_id}/deliveries",
        json={
            "reference": "ACT-1",
            "lines": [{"sku": "GW-100", "quantity": "2"}, {"sku": "L2C-SEAT", "quantity": "5"}],
        },
    )
    quote = as_user("rep1").get(f"/deals/{deal_id}").json()["quotes"][0]
    finance = as_user("finance")

    def pay_what_is_open() -> None:
        """Every invoice paid as it comes (the seats are billed month by month): a
        written-off deal would stop earning."""
        for invoice in finance.every("/invoices", params={"deal_id": deal_id}):
            if invoice["status"] == "open":
                finance.post(
                    "/payments",
                    json={
                        "invoice_number": invoice["number"],
                        "amount": invoice["total"],
                        "currency": "EUR",
                        "reference": f"SUB-{invoice['number']}",
                    },
                )

    def recognized() -> Decimal:
        pay_what_is_open()
        return -ledger(live, deal_id).get("revenue", Decimal(0))

    # 2 x 349.90 at delivery; 5 x 480.00 less 10 % over 12 months of 30 policy days.
    wait_for(
        lambda: recognized() == Decimal(quote["subtotal"]) - Decimal(quote["discount_total"]),
        60,
        "twelve months of revenue",
    )
    with live.engine.connect() as conn:
        months = conn.execute(
            text("SELECT count(*) FROM journal_entries WHERE deal_id = :d AND key LIKE :pattern"),
            {"d": deal_id, "pattern": "recognize:%ACT-1:L2C-SEAT:m%"},
        ).scalar_one()
    assert months == 12
    assert ledger(live, deal_id)["deferred_revenue"] == 0
    report = as_user("finance").get("/revenue").json()
    eur = next(t for t in report["totals"] if t["currency"] == "EUR")
    assert Decimal(eur["recognized"]) >= recognized()


def approvals_of_quote(live, rep, deal_id: str, quote: dict[str, Any]) -> list[dict[str, Any]]:
    """The approval steps a new quote gets (asked before the customer sees it)."""
    assert rep.post(f"/deals/{deal_id}/quotes", json=quote).status_code == 201
    return list(rep.get(f"/deals/{deal_id}").json()["approvals"])


def test_a_customer_over_its_credit_limit_needs_finance(live, as_user):
    policy = DealPolicy(qualification=MANUAL, credit_limit=Decimal("1000"))
    rep = as_user("rep1")
    deal_id = start_deal(live, "rep1", policy)
    rep.post(f"/deals/{deal_id}/qualify", json={"decision": "qualify"})
    approvals = approvals_of_quote(live, rep, deal_id, quote_body())  # 5 %: no band step
    assert [(a["role"], a["status"]) for a in approvals] == [("finance", "pending")]
    assert "exceeds the limit of 1000" in approvals[0]["reason"]
    assert rep.get(f"/deals/{deal_id}").json()["stage"] == "AWAITING_APPROVAL"
    as_user("finance").post(f"/deals/{deal_id}/approvals", json={"decision": "approve"})
    assert rep.get(f"/deals/{deal_id}").json()["stage"] == "PROPOSED"


def test_a_customer_given_a_small_limit_by_finance_needs_finance_on_its_next_quote(live, as_user):
    rep = as_user("rep1")
    deal_id = start_deal(live, "rep1", DealPolicy(qualification=MANUAL))
    rep.post(f"/deals/{deal_id}/qualify", json={"decision": "qualify"})
    customer_id = rep.get(f"/deals/{deal_id}").json()["customer"]["customer_id"]
    terms = {"credit_limit": "1000.00", "currency": "EUR", "payment_terms_days": 30}
    assert as_user("finance").put(f"/customers/{customer_id}/credit", json=terms).status_code == 200
    approvals = approvals_of_quote(live, rep, deal_id, quote_body())
    assert [a["role"] for a in approvals] == ["finance"]
    assert "exceeds the limit of 1000.00 EUR" in approvals[0]["reason"]


def test_nothing_is_delivered_to_a_customer_overdue_past_its_grace_until_it_pays(live, as_user):
    policy = DealPolicy(day=timedelta(seconds=1), qualification=MANUAL, credit_hold_overdue_days=2)
    upfront = quote_body(billing_plan={"kind": "upfront"}, payment_terms_days=1)
    deal_id = signed_deal(live, as_user, policy, upfront)
    finance, ops = as_user("finance"), as_user("ops")
    invoice = wait_for(lambda: finance.every(f"/invoices?deal_id={deal_id}"), 30)[0]
    customer = f"/customers/{finance.get(f'/deals/{deal_id}').json()['customer']['customer_id']}"
    wait_for(lambda: finance.get(customer).json()["credit_standing"]["on_hold"], 30, "the hold")
    delivery = {"reference": "D1", "lines": ALL}

    refused = ops.post(f"/deals/{deal_id}/deliveries", json=delivery)
    assert refused.status_code == 409, refused.text
    name = finance.get(customer).json()["name"]
    assert refused.json()["detail"].startswith(
        f"customer {name} is on credit hold: invoice {invoice['number']}"
    )
    handle = live.client.get_workflow_handle_for(DealWorkflow.run, deal_workflow_id(deal_id))
    straight = DeliveryCommand(
        request=DeliveryRequest.model_validate(delivery),
        actor=Actor(username="ops", role=Role.OPS),
    )
    with pytest.raises(WorkflowUpdateFailedError) as held:  # the workflow holds it too
        live.run(handle.execute_update(DealWorkflow.record_delivery, straight))
    assert isinstance(held.value.cause, ApplicationError) and held.value.cause.type == "CreditHold"

    payment = {
        "invoice_number": invoice["number"],
        "amount": invoice["total"],
        "currency": "EUR",
        "reference": f"HOLD-{deal_id}",
    }
    assert finance.post("/payments", json=payment).json()["invoice"]["status"] == "paid"
    delivered = ops.post(f"/deals/{deal_id}/deliveries", json=delivery)
    assert delivered.status_code == 200, delivered.text
    assert not finance.get(customer).json()["credit_standing"]["on_hold"]


def test_ledger_rows_cannot_be_changed_or_deleted(live):
    with live.engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM journal_lines")).scalar_one() > 0
    for statement in ("UPDATE journal_lines SET debit = debit + 1", "DELETE FROM journal_entries"):
        with pytest.raises(DBAPIError, match="append-only"), live.engine.begin() as conn:
            conn.execute(text(statement))


def test_a_payment_and_a_credit_note_at_once_never_take_more_than_is_owed(live, as_user):
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import Api

    rep, manager = as_user("rep1"), as_user("manager")
    deal_id = to_fulfilment(live, rep, manager, quote_body(billing_plan={"kind": "upfront"}))[
        "deal_id"
    ]
    invoice = as_user("finance").every(f"/invoices?deal_id={deal_id}")[0]
    total = Decimal(invoice["total"])
    part = (total * Decimal("0.6")).quantize(Decimal("0.01"))  # both together: 120 %
    pay, credit = Api(live, "finance"), Api(live, "finance")
    with ThreadPoolExecutor(2) as pool:
        paid = pool.submit(
            pay.post,
            "/payments",
            json={
                "invoice_number": invoice["number"],
                "amount": str(part),
                "currency": "EUR",
                "reference": f"RACE-{deal_id}",
            },
        )
        noted = pool.submit(
            credit.post,
            f"/invoices/{invoice['number']}/credit-notes",
            json={"amount": str(part), "reason": "race"},
        )
        answers = sorted([paid.result().status_code, noted.result().status_code])
    assert answers == [201, 422]
    after = as_user("finance").get(f"/invoices/{invoice['number']}").json()
    assert Decimal(after["paid"]) + Decimal(after["credited"]) == part
    assert ledger(live, deal_id)["accounts_receivable"] == total - part


def test_the_payment_that_settles_a_deal_answers_once_the_deal_shows_won(live, as_user):
    rep, finance = as_user("rep1"), as_user("finance")
    deal_id = to_fulfilment(live, rep, as_user("manager"), quote_body())["deal_id"]
    delivered = as_user("ops").post(
        f"/deals/{deal_id}/deliveries", json={"lines": ALL, "reference": f"ALL-{deal_id[:8]}"}
    )
    assert delivered.status_code == 200, delivered.text
    assert rep.get(f"/deals/{deal_id}").json()["stage"] == "COLLECTING"
    (invoice,) = finance.every(f"/invoices?deal_id={deal_id}")
    paid = finance.post(
        "/payments",
        json={
            "invoice_number": invoice["number"],
            "amount": invoice["total"],
            "currency": "EUR",
            "reference": f"WON-{deal_id}",
        },
    )
    assert paid.status_code == 201, paid.text
    assert rep.get(f"/deals/{deal_id}").json()["stage"] == "WON"  # one read, no waiting


# --- a write-off ends the deal; a cancel credits only what was not delivered ---

STOP_SOON = CollectionPolicy(dunning_days=[1, 2], write_off_after_days=3)
NEVER_SOON = CollectionPolicy(dunning_days=[1000], write_off_after_days=2000)
UPFRONT = {"kind": "upfront"}


def net_part(amount: Decimal, invoice: dict[str, Any]) -> Decimal:
    """The net part of `amount` of an invoice, split as its credit notes are."""
    net, total = Decimal(invoice["net_total"]), Decimal(invoice["total"])
    return (amount * net / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def only_invoice(as_user, deal_id: str) -> dict[str, Any]:
    (invoice,) = as_user("finance").every(f"/invoices?deal_id={deal_id}")
    return dict(invoice)


def pay(as_user, invoice: dict[str, Any], amount: Decimal | str, reference: str) -> None:
    paid = as_user("finance").post(
        "/payments",
        json={
            "invoice_number": invoice["number"],
            "amount": str(amount),
            "currency": "EUR",
            "reference": reference,
        },
    )
    assert paid.status_code == 201, paid.text


def reversals(as_user, deal_id: str) -> list[dict[str, Any]]:
    history = as_user("finance").every(f"/deals/{deal_id}/history")
    return [e["data"] for e in history if e["action"] == "revenue.reversed"]


def test_a_written_off_invoice_stops_deliveries_and_reverses_what_was_not_earned(
    live, as_user, keep_history
):
    policy = DealPolicy(day=timedelta(seconds=1), qualification=MANUAL, collection=STOP_SOON)
    quote = quote_body(billing_plan=UPFRONT, payment_terms_days=1)
    deal_id = signed_deal(live, as_user, policy, quote)
    ops = as_user("ops")
    part = {"reference": "D1", "lines": [{"sku": "GW-100", "quantity": "1"}]}
    assert ops.post(f"/deals/{deal_id}/deliveries", json=part).status_code == 200
    assert outcome(live, deal_id).stage == "WRITTEN_OFF"  # unpaid, never fully delivered
    rest = {"reference": "D2", "lines": [{"sku": "GW-100", "quantity": "2"}]}
    late = ops.post(f"/deals/{deal_id}/deliveries", json=rest)
    assert late.status_code == 409 and "written off" in late.json()["detail"]
    invoice = only_invoice(as_user, deal_id)
    assert invoice["status"] == "written_off"
    books = ledger(live, deal_id)
    earned, net = -books["revenue"], Decimal(invoice["net_total"])
    assert 0 < earned < net
    assert books["deferred_revenue"] == 0
    assert books["accounts_receivable"] == 0
    # What was earned is lost; its VAT goes back off the VAT owed (bad-debt relief).
    assert books["bad_debt_expense"] == earned
    assert books["tax_payable"] == 0
    assert books.get("customer_credit", 0) == 0
    (reversed_,) = reversals(as_user, deal_id)
    assert Decimal(reversed_["amount"]) == net - earned
    assert reversed_["against"] == "bad_debt_expense"
    assert as_user("finance").get("/ledger/trial-balance").json()["balanced"]
    keep_history(deal_workflow_id(deal_id), "deal-written-off-while-fulfilling")


def test_a_write_off_by_finance_ends_the_subscription_s_revenue(live, as_user):
    from temporalio.client import WorkflowExecutionStatus

    from workflows.ids import revenue_workflow_id

    policy = DealPolicy(day=timedelta(seconds=0.05), qualification=MANUAL, collection=NEVER_SOON)
    lines = [{"sku": "GW-100", "quantity": "2"}, {"sku": "L2C-SEAT", "quantity": "5"}]
    quote = quote_body(lines=lines, billing_plan=UPFRONT, valid_days=365)
    deal_id = signed_deal(live, as_user, policy, quote)
    activated = as_user("ops").post(
        f"/deals/{deal_id}/deliveries", json={"reference": "ACT-1", "lines": lines}
    )
    assert activated.status_code == 200, activated.text

    def months() -> int:
        with live.engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM journal_entries WHERE deal_id = :d AND key LIKE :p"),
                    {"d": deal_id, "p": "recognize:%ACT-1:L2C-SEAT:m%"},
                ).scalar_one()
            )

    wait_for(months, 30, "a first month of revenue")  # a month: 30 days of 0.05 s
    # The gateways' upfront invoice and the seats' periods so far: all written off.
    finance = as_user("finance")

    def write_off_what_is_open() -> bool:
        for invoice in finance.every(f"/invoices?deal_id={deal_id}"):
            if invoice["status"] == "open":
                off = finance.post(
                    f"/invoices/{invoice['number']}/write-off", json={"reason": "insolvent"}
                )
                assert off.status_code in (200, 409), off.text  # 409: written off meanwhile
        return str(finance.get(f"/deals/{deal_id}").json()["stage"]) == "WRITTEN_OFF"

    wait_for(write_off_what_is_open, 30, "every open invoice written off")
    assert outcome(live, deal_id).stage == "WRITTEN_OFF"
    recognizer = live.client.get_workflow_handle(revenue_workflow_id(deal_id, "ACT-1"))
    described = wait_for(
        lambda: (
            (d := live.run(recognizer.describe())).status != WorkflowExecutionStatus.RUNNING and d
        ),
        30,
        "the recognizer to end",
    )
    assert described.status == WorkflowExecutionStatus.CANCELED
    recognized = months()
    assert 0 < recognized < 12
    time.sleep(3.2)  # two more months of 1.5 s: none of them is earned
    assert months() == recognized
    books = ledger(live, deal_id)
    earned = -books["revenue"]
    assert books["deferred_revenue"] == 0
    assert books["accounts_receivable"] == 0
    assert books["bad_debt_expense"] == earned  # the VAT of it relieved: none owed
    assert books["tax_payable"] == 0
    assert as_user("finance").get("/ledger/trial-balance").json()["balanced"]


def test_what_was_paid_for_and_never_delivered_is_owed_back_when_the_rest_is_written_off(
    live, as_user
):
    policy = DealPolicy(day=timedelta(seconds=1), qualification=MANUAL, collection=NEVER_SOON)
    deal_id = signed_deal(live, as_user, policy, quote_body(billing_plan=UPFRONT))
    invoice = only_invoice(as_user, deal_id)
    pay(as_user, invoice, "500.00", f"PART-{deal_id}")
    off = as_user("finance").post(
        f"/invoices/{invoice['number']}/write-off", json={"reason": "insolvent"}
    )
    assert off.status_code == 200, off.text
    assert outcome(live, deal_id).stage == "WRITTEN_OFF"  # nothing delivered, nothing left
    # By hand: 2197.21 net + 439.44 VAT = 2636.65 (see the cancel test), 500.00 paid. The
    # 2136.65 written off is 1780.54 net (2136.65 / 1.2 = 1780.541..) + 356.11 VAT relieved;
    # its net was never earned, so it comes off deferred revenue, not a loss. Left deferred:
    # 416.67, paid for and never to be delivered: credited with its 83.33 VAT (500.00 / 1.2 =
    # 416.666.. net), and the 500.00 owed back to the customer, gross.
    assert invoice["total"] == "2636.65"
    books = ledger(live, deal_id)
    assert books["deferred_revenue"] == 0  # -2197.21 + 1780.54 + 416.67
    assert books["accounts_receivable"] == 0  # 2636.65 - 500.00 - 2136.65 - 500.00 + 500.00
    assert books.get("bad_debt_expense", 0) == 0  # 1780.54 - 1780.54
    assert books["tax_payable"] == 0  # -439.44 + 356.11 (relief) + 83.33 (credit note)
    assert books["customer_credit"] == Decimal("-500.00")
    assert books.get("revenue", 0) == 0
    after = only_invoice(as_user, deal_id)
    assert after["status"] == "written_off"
    assert [Decimal(after[k]) for k in ("credited", "paid", "balance")] == [
        Decimal("500.00"),
        0,
        Decimal("2136.65"),  # what was written off
    ]
    assert credit_of(as_user, after["customer_id"]) == [{"amount": "500.00", "currency": "EUR"}]
    assert {r["against"] for r in reversals(as_user, deal_id)} == {
        "bad_debt_expense",
        "customer_credit",
    }
    assert as_user("finance").get("/ledger/trial-balance").json()["balanced"]


def test_a_written_off_deal_takes_no_delivery_and_ends_once_its_other_invoices_are_settled(
    live, as_user
):
    policy = DealPolicy(day=timedelta(seconds=1), qualification=MANUAL, collection=NEVER_SOON)
    deal_id = signed_deal(live, as_user, policy, quote_body())  # billed on delivery
    rep, ops, finance = as_user("rep1"), as_user("ops"), as_user("finance")
    for reference in ("D1", "D2"):
        one = {"reference": reference, "lines": [{"sku": "GW-100", "quantity": "1"}]}
        assert ops.post(f"/deals/{deal_id}/deliveries", json=one).status_code == 200
    first, second = sorted(finance.every(f"/invoices?deal_id={deal_id}"), key=lambda i: i["number"])
    off = finance.post(f"/invoices/{first['number']}/write-off", json={"reason": "disputed"})
    assert off.status_code == 200, off.text
    assert rep.get(f"/deals/{deal_id}").json()["stage"] == "FULFILLING"  # the second is owed
    rest = {"reference": "D3", "lines": [{"sku": "GW-100", "quantity": "1"}]}
    late = ops.post(f"/deals/{deal_id}/deliveries", json=rest)
    assert late.status_code == 409 and "written off" in late.json()["detail"]
    pay(as_user, second, second["total"], f"D2-{deal_id}")
    assert outcome(live, deal_id).stage == "WRITTEN_OFF"
    assert len(finance.every(f"/invoices?deal_id={deal_id}")) == 2  # nothing more billed
    books = ledger(live, deal_id)
    # Both deliveries earned more than they billed (the discount is spread over all lines,
    # ONBOARD too, never delivered): that unbilled revenue is lost with the deal.
    (unbilled,) = (Decimal(r["amount"]) for r in reversals(as_user, deal_id))
    assert unbilled > 0
    assert books["bad_debt_expense"] == Decimal(first["net_total"]) + unbilled  # VAT relieved
    assert books["deferred_revenue"] == 0 and books["accounts_receivable"] == 0


def test_a_cancel_after_delivery_of_a_paid_deal_owes_back_only_what_was_not_delivered(
    live, as_user
):
    rep, finance = as_user("rep1"), as_user("finance")
    deal = to_fulfilment(live, rep, as_user("manager"), quote_body(billing_plan=UPFRONT))
    deal_id = deal["deal_id"]
    invoice = only_invoice(as_user, deal_id)
    pay(as_user, invoice, invoice["total"], f"ALL-{deal_id}")
    part = [{"sku": "GW-100", "quantity": "1"}, {"sku": "ONBOARD", "quantity": "1"}]
    delivered = as_user("ops").post(
        f"/deals/{deal_id}/deliveries", json={"reference": "PART", "lines": part}
    )
    assert delivered.status_code == 200, delivered.text
    assert rep.post(f"/deals/{deal_id}/cancel", json={"reason": "no more"}).status_code == 200
    decided = finance.post(f"/deals/{deal_id}/approvals", json={"decision": "approve"})
    assert decided.status_code == 200, decided.text
    assert outcome(live, deal_id).stage == "CANCELLED"
    after = only_invoice(as_user, deal_id)
    books = ledger(live, deal_id)
    earned, net = -books["revenue"], Decimal(invoice["net_total"])
    assert 0 < earned < net
    # The two undelivered gateways are credited with their VAT; it was all paid, so all of
    # the credit is owed back, and the invoice keeps what pays for what was delivered.
    credited = Decimal(after["credited"])
    assert net_part(credited, invoice) == net - earned
    assert after["status"] == "paid"
    assert Decimal(after["paid"]) == Decimal(invoice["total"]) - credited
    assert Decimal(after["balance"]) == 0
    assert books["customer_credit"] == -credited
    assert books["deferred_revenue"] == 0 and books["accounts_receivable"] == 0
    # VAT stays owed only on what was delivered: the invoice's VAT less the credit's.
    assert -books["tax_payable"] == Decimal(invoice["tax_total"]) - (credited - (net - earned))
    customer = deal["customer"]["customer_id"]
    assert credit_of(as_user, customer) == [{"amount": str(credited), "currency": "EUR"}]
    assert finance.get("/ledger/trial-balance").json()["balanced"]


def test_a_cancel_after_delivery_credits_only_what_was_not_delivered(live, as_user, keep_history):
    rep, manager, finance = as_user("rep1"), as_user("manager"), as_user("finance")
    deal_id = to_fulfilment(live, rep, manager, quote_body(billing_plan=UPFRONT))["deal_id"]
    part = [{"sku": "GW-100", "quantity": "1"}, {"sku": "ONBOARD", "quantity": "1"}]
    delivered = as_user("ops").post(
        f"/deals/{deal_id}/deliveries", json={"reference": "PART", "lines": part}
    )
    assert delivered.status_code == 200, delivered.text
    assert rep.post(f"/deals/{deal_id}/cancel", json={"reason": "no more"}).status_code == 200
    decided = finance.post(f"/deals/{deal_id}/approvals", json={"decision": "approve"})
    assert decided.status_code == 200, decided.text
    assert rep.get(f"/deals/{deal_id}").json()["stage"] == "CANCELLED"
    invoice = only_invoice(as_user, deal_id)
    net, total = Decimal(invoice["net_total"]), Decimal(invoice["total"])
    credited = Decimal(invoice["credited"])
    balance = total - Decimal(invoice["paid"]) - credited
    books = ledger(live, deal_id)
    earned = -books["revenue"]
    assert 0 < earned < net
    assert net_part(credited, invoice) == net - earned  # the undelivered part, with its tax
    assert invoice["status"] == "open" and balance == total - credited  # delivered: still owed
    assert books["deferred_revenue"] == 0
    assert books["accounts_receivable"] == balance
    assert books.get("customer_credit", 0) == 0 and books.get("sales_allowances", 0) == 0
    pay(as_user, invoice, balance, f"REST-{deal_id}")  # its collection goes on
    assert only_invoice(as_user, deal_id)["status"] == "paid"
    assert ledger(live, deal_id)["accounts_receivable"] == 0
    assert finance.get("/ledger/trial-balance").json()["balanced"]
    outcome(live, deal_id)
    keep_history(deal_workflow_id(deal_id), "deal-cancelled-after-delivery")
    keep_history(invoice_workflow_id(invoice["number"]), "invoice-credited-undelivered-then-paid")
