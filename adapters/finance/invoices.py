"""Issuing invoices (numbers given once, gapless per year) and recording payments."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects.postgresql import insert

from adapters.storage.audit import append_event
from adapters.storage.tables import deals, invoice_sequences, invoices, payments
from domain.billing import InvoiceDraft, InvoiceLine
from domain.invoices import Invoice, InvoiceStatus, Payment
from domain.ledger import invoice_entry, payment_entry

from .ledger import post_entry


def _invoice(row: object) -> Invoice:
    data = dict(row._mapping)  # type: ignore[attr-defined]
    data["lines"] = [InvoiceLine.model_validate(line) for line in data["lines"]]
    return Invoice.model_validate(data)


def _next_number(conn: Connection, year: int) -> str:
    # The row lock on the year's counter serializes issuers; a rolled-back transaction
    # gives its number back, so numbers have no gaps.
    conn.execute(insert(invoice_sequences).values(year=year, last=0).on_conflict_do_nothing())
    last = conn.execute(
        update(invoice_sequences)
        .where(invoice_sequences.c.year == year)
        .values(last=invoice_sequences.c.last + 1)
        .returning(invoice_sequences.c.last)
    ).scalar_one()
    return f"INV-{year}-{last:06d}"


class InvoiceBook:
    """Invoices and payments, each posted to the ledger in the same transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def issue(
        self, deal_id: str, draft: InvoiceDraft, issued_at: datetime, day: timedelta
    ) -> Invoice:
        """The deal's invoice for `draft.billing_key`, issued now or found from before."""
        with self.engine.begin() as conn:
            existing = conn.execute(
                select(invoices).where(
                    invoices.c.deal_id == deal_id,
                    invoices.c.billing_key == draft.billing_key,
                )
            ).first()
            if existing is not None:
                return _invoice(existing)
            customer_id = conn.execute(
                select(deals.c.customer_id).where(deals.c.deal_id == deal_id)
            ).scalar_one()
            number = _next_number(conn, issued_at.year)
            invoice = Invoice(
                number=number,
                deal_id=deal_id,
                billing_key=draft.billing_key,
                currency=draft.currency,
                lines=draft.lines,
                net_total=draft.net_total,
                tax_total=draft.tax_total,
                total=draft.total,
                issued_at=issued_at,
                due_date=issued_at + day * draft.payment_terms_days,
                status=InvoiceStatus.PAID if draft.total == 0 else InvoiceStatus.OPEN,
            )
            conn.execute(
                invoices.insert().values(
                    number=number,
                    deal_id=deal_id,
                    customer_id=customer_id,
                    billing_key=draft.billing_key,
                    currency=draft.currency,
                    net_total=draft.net_total,
                    tax_total=draft.tax_total,
                    total=draft.total,
                    paid=Decimal(0),
                    status=invoice.status,
                    lines=[line.model_dump(mode="json") for line in draft.lines],
                    issued_at=issued_at,
                    due_date=invoice.due_date,
                )
            )
            entry = invoice_entry(number, draft)
            if entry is not None:
                post_entry(conn, entry, issued_at, deal_id)
            append_event(
                conn,
                deal_id,
                f"invoice:{draft.billing_key}",
                issued_at,
                "system",
                "invoice.issued",
                {
                    "number": number,
                    "total": draft.total,
                    "currency": draft.currency,
                    "due_date": invoice.due_date.isoformat(),
                },
            )
            return invoice

    def get(self, number: str) -> Invoice | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(invoices).where(invoices.c.number == number)).first()
        return None if row is None else _invoice(row)

    def record_payment(self, payment: Payment) -> Invoice:
        """Apply `payment` once (keyed by its bank reference); the invoice as it stands after."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(invoices)
                .where(invoices.c.number == payment.invoice_number)
                .with_for_update()
            ).one()
            inserted = conn.execute(
                insert(payments)
                .values(
                    reference=payment.reference,
                    invoice_number=payment.invoice_number,
                    deal_id=payment.deal_id,
                    amount=payment.amount,
                    currency=payment.currency,
                    received_at=payment.received_at,
                    recorded_at=payment.recorded_at,
                    recorded_by=payment.recorded_by,
                )
                .on_conflict_do_nothing()
                .returning(payments.c.reference)
            ).first()
            if inserted is None:
                return _invoice(row)
            paid = row.paid + payment.amount
            status = InvoiceStatus.PAID if paid >= row.total else InvoiceStatus.OPEN
            conn.execute(
                update(invoices)
                .where(invoices.c.number == payment.invoice_number)
                .values(paid=paid, status=status)
            )
            post_entry(
                conn,
                payment_entry(
                    payment.reference, payment.invoice_number, payment.amount, payment.currency
                ),
                payment.received_at,
                payment.deal_id,
            )
            append_event(
                conn,
                payment.deal_id,
                f"payment:{payment.reference}",
                payment.recorded_at,
                payment.recorded_by,
                "payment.recorded",
                {
                    "reference": payment.reference,
                    "invoice": payment.invoice_number,
                    "amount": payment.amount,
                    "currency": payment.currency,
                    "received_at": payment.received_at.isoformat(),
                },
            )
            updated = conn.execute(
                select(invoices).where(invoices.c.number == payment.invoice_number)
            ).one()
            return _invoice(updated)
