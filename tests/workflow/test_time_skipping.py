"""Deals on real policy days (DealPolicy(): a day is 24 hours), their weeks jumped over with
time skipping (tests/timeskip.py tells how to write such a test)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from domain.invoices import InvoiceStatus
from domain.policy import CollectionPolicy
from domain.stages import DealStage
from tests.conftest import wait_for
from tests.flows import quote_body
from tests.workflow.test_collection import ledger


def test_an_unpaid_upfront_invoice_is_written_off_after_45_real_days_and_ends_the_deal(
    live, timeskip
):
    deal_id = timeskip.start_deal()
    state = timeskip.sign(deal_id, quote_body(billing_plan={"kind": "upfront"}))
    assert state.stage is DealStage.FULFILLING
    (invoice,) = state.invoices
    assert invoice.due_date - invoice.issued_at == timedelta(days=30)
    collection = timeskip.invoice(invoice.number)
    steps = CollectionPolicy()  # reminders 3, 10 and 20 days after the due date, written off at 45
    assert steps.dunning_days == [3, 10, 20] and steps.write_off_after_days == 45

    assert timeskip.fast_forward(collection, timedelta(days=30 + 20, hours=1))  # reminders
    overdue = f"invoice {invoice.number} is overdue"
    wait_for(
        lambda: len(live.mail_to(str(state.contact["email"]), overdue)) == 3, 30, "3 reminders"
    )
    assert timeskip.state(deal_id).stage is DealStage.FULFILLING  # still owed

    ended_first = not timeskip.fast_forward(collection, timedelta(days=26))
    assert ended_first  # written off on day 75, and the collection with it
    outcome = timeskip.outcome(deal_id)
    assert outcome.stage is DealStage.WRITTEN_OFF
    (written_off,) = timeskip.state(deal_id).invoices
    assert written_off.status is InvoiceStatus.WRITTEN_OFF
    books = ledger(live, deal_id)
    assert books["deferred_revenue"] == 0 and books["accounts_receivable"] == 0
    # Nothing delivered: the net never earned, the VAT relieved; nothing lost, nothing owed.
    assert books.get("bad_debt_expense", Decimal(0)) == 0
    assert books.get("tax_payable", Decimal(0)) == 0
    assert books.get("revenue", Decimal(0)) == 0
