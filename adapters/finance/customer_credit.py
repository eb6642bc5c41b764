"""Money held for customers (domain/customer_credit.py): received from overpayments, owed
back for goods paid for and never delivered, taken by the customer's next invoice when it is
issued, or refunded. Each move is one row keyed so a retry writes nothing twice, with its
ledger entry and audit event in the same transaction."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select, update
from sqlalchemy.dialects.postgresql import insert

from adapters.storage.audit import append_event
from adapters.storage.credit import customer_chain
from adapters.storage.tables import customer_credit_moves, customers, invoices, payments
from adapters.storage.views.rows import invoice_from_row
from domain.customer_credit import (
    CreditBalance,
    CreditMove,
    Refund,
    RefundIn,
    check_refund,
    check_refund_repeat,
    credit_to_apply,
)
from domain.errors import NotFound
from domain.invoices import Invoice, InvoiceStatus, settled_status
from domain.ledger import (
    credit_applied_entry,
    credit_owed_entry,
    credit_refund_entry,
    overpayment_entry,
)

from .ledger import post_entry

CUSTOMER_NOT_FOUND = "customer not found"


class CreditBalances:
    """What each customer holds, per currency, and the moves that change it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def balances(self, customer_id: str) -> list[CreditBalance]:
        """Every currency the customer holds more than nothing in."""
        total = func.sum(customer_credit_moves.c.amount)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(customer_credit_moves.c.currency, total.label("amount"))
                .where(customer_credit_moves.c.customer_id == customer_id)
                .group_by(customer_credit_moves.c.currency)
                .having(total > 0)
                .order_by(customer_credit_moves.c.currency)
            ).all()
        return [CreditBalance(amount=r.amount, currency=r.currency) for r in rows]

    def refund(self, customer_id: str, body: RefundIn, at: datetime, actor: str) -> Refund:
        """Pay credit back, at most what is held (once per reference)."""
        key = f"refund:{body.reference}"
        with self.engine.begin() as conn:
            if not _lock_customer(conn, customer_id):
                raise NotFound(CUSTOMER_NOT_FOUND)
            earlier = conn.execute(
                select(customer_credit_moves).where(customer_credit_moves.c.key == key)
            ).first()
            if earlier is not None:
                done = _refund(earlier)
                check_refund_repeat(done, customer_id, body)
                return done
            check_refund(held(conn, customer_id, body.currency), body)
            _move(
                conn,
                key,
                customer_id,
                body.currency,
                -body.amount,
                CreditMove.REFUNDED,
                body.reference,
                at,
                actor,
            )
            post_entry(
                conn, credit_refund_entry(body.reference, body.amount, body.currency), at, None
            )
            append_event(
                conn,
                customer_chain(customer_id),
                key,
                at,
                actor,
                "customer.credit_refunded",
                {"reference": body.reference, "amount": body.amount, "currency": body.currency},
            )
        return Refund(
            reference=body.reference,
            customer_id=customer_id,
            amount=body.amount,
            currency=body.currency,
        )


def receive_in(
    conn: Connection,
    customer_id: str,
    bank_ref: str,
    amount: Decimal,
    currency: str,
    at: datetime,
    actor: str,
) -> None:
    """An overpayment becomes the customer's credit (once per bank reference)."""
    key = f"received:{bank_ref}"
    if not _move(
        conn, key, customer_id, currency, amount, CreditMove.RECEIVED, bank_ref, at, actor
    ):
        return
    post_entry(conn, overpayment_entry(bank_ref, amount, currency, customer_id), at, None)
    append_event(
        conn,
        customer_chain(customer_id),
        key,
        at,
        actor,
        "customer.credit_received",
        {"bank_ref": bank_ref, "amount": amount, "currency": currency},
    )


def owe_in(
    conn: Connection,
    customer_id: str,
    invoice: Invoice,
    note: str,
    amount: Decimal,
    at: datetime,
    actor: str,
) -> None:
    """What credit note `note` took back of `invoice` beyond what it still asked, the
    customer had paid: its credit (once per credit note). The payment moves off the
    invoice as a negative payment `owed:<note>`, so the invoice keeps what it kept."""
    key = f"owed:{note}"
    if not _move(
        conn, key, customer_id, invoice.currency, amount, CreditMove.OWED, note, at, actor
    ):
        return
    conn.execute(
        payments.insert().values(
            reference=key,
            invoice_number=invoice.number,
            deal_id=invoice.deal_id,
            amount=-amount,
            currency=invoice.currency,
            received_at=at,
            recorded_at=at,
            recorded_by=actor,
        )
    )
    post_entry(
        conn, credit_owed_entry(note, invoice.number, amount, invoice.currency), at, invoice.deal_id
    )
    append_event(
        conn,
        customer_chain(customer_id),
        key,
        at,
        actor,
        "customer.credit_owed",
        {
            "credit_note": note,
            "invoice": invoice.number,
            "deal_id": invoice.deal_id,
            "amount": amount,
            "currency": invoice.currency,
        },
    )


def apply_in(conn: Connection, invoice: Invoice, customer_id: str, at: datetime) -> Invoice:
    """A newly issued invoice takes what the customer holds in its currency, up to its
    balance: recorded as a payment `credit:<number>`, so the invoice shows it as paid."""
    if invoice.status is not InvoiceStatus.OPEN or held(conn, customer_id, invoice.currency) <= 0:
        return invoice  # most customers hold nothing: no lock for them
    _lock_customer(conn, customer_id)
    amount = credit_to_apply(held(conn, customer_id, invoice.currency), invoice.balance)
    if amount <= 0:
        return invoice
    number, reference = invoice.number, f"credit:{invoice.number}"
    if not _move(
        conn,
        f"applied:{number}",
        customer_id,
        invoice.currency,
        -amount,
        CreditMove.APPLIED,
        number,
        at,
        "system",
    ):
        return invoice
    conn.execute(
        payments.insert().values(
            reference=reference,
            invoice_number=number,
            deal_id=invoice.deal_id,
            amount=amount,
            currency=invoice.currency,
            received_at=at,
            recorded_at=at,
            recorded_by="system",
        )
    )
    paid = invoice.paid + amount
    status = settled_status(invoice.total, paid, invoice.credited)
    conn.execute(
        update(invoices).where(invoices.c.number == number).values(paid=paid, status=status)
    )
    post_entry(conn, credit_applied_entry(number, amount, invoice.currency), at, invoice.deal_id)
    append_event(
        conn,
        invoice.deal_id,
        f"credit-applied:{number}",
        at,
        "system",
        "invoice.credit_applied",
        {
            "invoice": number,
            "amount": amount,
            "currency": invoice.currency,
            "customer_id": customer_id,
        },
    )
    row = conn.execute(select(invoices).where(invoices.c.number == number)).one()
    return invoice_from_row(row)


def held(conn: Connection, customer_id: str, currency: str) -> Decimal:
    """The customer's credit in `currency` (lock the customer first to rely on it)."""
    total = conn.execute(
        select(func.coalesce(func.sum(customer_credit_moves.c.amount), 0)).where(
            customer_credit_moves.c.customer_id == customer_id,
            customer_credit_moves.c.currency == currency,
        )
    ).scalar_one()
    return Decimal(total)


def _move(
    conn: Connection,
    key: str,
    customer_id: str,
    currency: str,
    amount: Decimal,
    kind: CreditMove,
    source: str,
    at: datetime,
    actor: str,
) -> bool:
    """Write the move once; False when its key was written before."""
    inserted = conn.execute(
        insert(customer_credit_moves)
        .values(
            key=key,
            customer_id=customer_id,
            currency=currency,
            amount=amount,
            kind=kind,
            source=source,
            at=at,
            actor=actor,
        )
        .on_conflict_do_nothing()
        .returning(customer_credit_moves.c.key)
    ).first()
    return inserted is not None


def _lock_customer(conn: Connection, customer_id: str) -> bool:
    """Moves that take credit (applied, refunded) of one customer wait for one another."""
    found = conn.execute(
        select(customers.c.customer_id)
        .where(customers.c.customer_id == customer_id)
        .with_for_update()
    ).first()
    return found is not None


def _refund(row: Row[Any]) -> Refund:
    m = row._mapping
    return Refund(
        reference=m["source"],
        customer_id=m["customer_id"],
        amount=-m["amount"],
        currency=m["currency"],
    )
