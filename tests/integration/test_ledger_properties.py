"""Over random sequences of money events on real Postgres, the books stay right:
every entry balances, receivables equal the open invoices' balances, and recognized plus
deferred revenue equals invoiced revenue net of tax and credits, and of what write-offs
reversed as never earned."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from adapters.finance.invoices import InvoiceBook
from adapters.storage.deals import DealStore
from domain.billing import InvoiceDraft, bill_share
from domain.catalogue import DEV_PRICE_BOOK, PriceBook
from domain.deal import DealInput
from domain.invoices import Invoice, InvoiceStatus, Payment
from domain.leads import Lead, score_lead
from domain.quotes import QuoteRequest, price_quote

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BOOK = PriceBook(entries=list(DEV_PRICE_BOOK))

quotes = st.builds(
    lambda gw, onboard, discount: price_quote(
        QuoteRequest.model_validate(
            {
                "currency": "EUR",
                "billing_plan": {"kind": "upfront"},
                "lines": [
                    {"sku": "GW-100", "quantity": str(gw), "discount_pct": str(discount)},
                    {"sku": "ONBOARD", "quantity": str(onboard)},
                ],
            }
        ),
        BOOK,
        1,
        NOW,
    ),
    st.integers(1, 40),
    st.integers(1, 5),
    st.integers(0, 30),
)
events = st.lists(
    st.tuples(
        st.sampled_from(["invoice", "pay", "credit", "write_off", "recognize"]), st.integers(1, 100)
    ),
    min_size=1,
    max_size=12,
)


def new_deal(store: DealStore) -> str:
    deal_id = uuid.uuid4().hex
    lead = Lead(
        company=f"Prop {deal_id[:8]}",
        contact_name="P",
        source="web",
        email=f"p@prop-{deal_id[:8]}.example",
    )
    store.open_deal(
        DealInput(deal_id=deal_id, lead=lead, owner="rep1", created_by="rep1"),
        score_lead(lead),
        NOW,
        f"deal-{deal_id}",
    )
    return deal_id


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(quote=quotes, script=events)
def test_the_books_stay_right_whatever_happens(live, quote, script):
    store, book = DealStore(live.engine), InvoiceBook(live.engine)
    deal_id = new_deal(store)
    issued: list[InvoiceDraft] = []
    invoices: dict[str, Invoice] = {}
    done_pct, recognized = Decimal(0), Decimal(0)
    for step, (event, pct) in enumerate(script):
        at = NOW + timedelta(minutes=step)
        open_ = [i for i in invoices.values() if i.status is InvoiceStatus.OPEN]
        if event == "invoice" and done_pct < 100:
            done_pct = min(Decimal(100), done_pct + pct)
            draft = bill_share(quote, f"share:{step}", done_pct, issued, "share")
            issued.append(draft)
            invoice = book.issue(deal_id, draft, at, timedelta(days=1))
            invoices[invoice.number] = invoice
        elif event in ("pay", "credit") and open_:
            invoice = open_[pct % len(open_)]
            amount = (invoice.balance * pct / 100).quantize(Decimal("0.01"))
            if amount <= 0:
                continue
            if event == "pay":
                invoices[invoice.number] = book.record_payment(
                    Payment(
                        reference=f"{deal_id}-{step}",
                        invoice_number=invoice.number,
                        deal_id=deal_id,
                        amount=amount,
                        currency="EUR",
                        received_at=at,
                        recorded_at=at,
                        recorded_by="finance",
                    )
                )
            else:
                invoices[invoice.number] = book.credit_note(
                    invoice.number, amount, "goodwill", at, "finance", f"{deal_id}-{step}"
                )[1]
        elif event == "write_off" and open_:
            invoice = open_[pct % len(open_)]
            invoices[invoice.number] = book.write_off(invoice.number, at, "finance", "gone")
        elif event == "recognize":
            amount = ((quote.net_total - recognized) * pct / 100).quantize(Decimal("0.01"))
            if amount > 0:
                book.recognize(deal_id, f"r{step}", "earned", amount, "EUR", at)
                recognized += amount

    with live.engine.connect() as conn:
        per_entry = conn.execute(
            text(
                "SELECT e.key, SUM(l.debit), SUM(l.credit) FROM journal_entries e JOIN "
                "journal_lines l USING (entry_id) WHERE e.deal_id = :d GROUP BY e.key"
            ),
            {"d": deal_id},
        ).all()
        balances = dict(
            conn.execute(
                text(
                    "SELECT l.account, SUM(l.debit - l.credit) FROM journal_entries e JOIN "
                    "journal_lines l USING (entry_id) WHERE e.deal_id = :d GROUP BY l.account"
                ),
                {"d": deal_id},
            ).all()
        )
        credited_net = conn.execute(
            text("SELECT COALESCE(SUM(net), 0) FROM credit_notes WHERE deal_id = :d"),
            {"d": deal_id},
        ).scalar_one()
        never_earned = conn.execute(
            text(
                "SELECT COALESCE(SUM(l.debit), 0) FROM journal_entries e JOIN journal_lines l"
                " USING (entry_id) WHERE e.deal_id = :d AND e.key LIKE 'write-off-reversal:%'"
                " AND l.account = 'deferred_revenue'"
            ),
            {"d": deal_id},
        ).scalar_one()
    assert all(debit == credit for _, debit, credit in per_entry)

    def balance(account: str) -> Decimal:
        return Decimal(balances.get(account, 0))

    stored = [book.get(number) for number in invoices]
    assert balance("accounts_receivable") == sum(
        (i.balance for i in stored if i and i.status is InvoiceStatus.OPEN), Decimal(0)
    )
    invoiced_net = sum((d.net_total for d in issued), Decimal(0))
    earned = -balance("revenue") - balance("sales_allowances")
    assert earned - balance("deferred_revenue") - balance("customer_credit") == (
        invoiced_net - credited_net - never_earned
    )
