"""Invoices and payments as finance and owners read them, and AR aging by the domain's
buckets."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, select, text

from domain.invoices import Invoice, InvoiceStatus, Payment
from domain.kpis import AGING, AGING_BUCKETS

from ..tables import customers, deals, invoices, payments
from .paging import Page, after, key_of, page_of
from .rows import invoice_from_row


class OwnedInvoice(NamedTuple):
    """An invoice and the owner of its deal (who may see it)."""

    invoice: Invoice
    owner: str


class InvoiceCustomer(NamedTuple):
    """Whom an invoice bills, as the customers table knows them."""

    name: str
    country: str | None


class InvoiceFilter(BaseModel):
    """Which invoices a list shows; None matches any."""

    deal_id: str | None = None
    customer_id: str | None = None
    status: InvoiceStatus | None = None
    owner: str | None = None
    customer_name: str | None = None  # a part of the customer's name, any case
    overdue_on: date | None = None  # open and due before this day


class ListedInvoice(NamedTuple):
    """An invoice in a list, with the name of the customer it bills."""

    invoice: Invoice
    customer_name: str | None


# A list of invoices is ordered newest first by (issued_at, number).
_INVOICE_ORDER = (invoices.c.issued_at, invoices.c.number)
_INVOICE_KEY = (datetime, str)


def aging_case(days_late: str) -> str:
    """domain.kpis.AGING as a SQL CASE over the integer expression `days_late`."""
    bounded = [b for b in AGING if b.max_days_late is not None]
    (last,) = [b.name for b in AGING if b.max_days_late is None]
    whens = " ".join(f"WHEN {days_late} <= {b.max_days_late} THEN '{b.name}'" for b in bounded)
    return f"CASE {whens} ELSE '{last}' END"


# Days past due counted in whole UTC calendar days, as domain.kpis.days_past_due does.
_DAYS_LATE = "(CAST(:on AS date) - CAST(due_date AT TIME ZONE 'UTC' AS date))"
_AR_AGING = text(
    f"""
    SELECT currency, {aging_case(_DAYS_LATE)} AS bucket, sum(total - paid - credited) AS open
    FROM invoices WHERE status = 'open' AND issued_at < :end_of_day
    GROUP BY 1, 2"""
)


def ar_aging(conn: Connection, on: date) -> dict[str, dict[str, Decimal]]:
    """Open balances of invoices issued by the end of day `on`, per currency and bucket."""
    out: dict[str, dict[str, Decimal]] = {}
    end_of_day = datetime.combine(on + timedelta(days=1), time.min, UTC)
    for row in conn.execute(_AR_AGING, {"on": on, "end_of_day": end_of_day}):
        buckets = out.setdefault(row.currency, {b: Decimal("0.00") for b in AGING_BUCKETS})
        buckets[row.bucket] += Decimal(row.open)
    return out


class InvoiceViews:
    """Reads of invoices, payments and receivables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def listing(self, where: InvoiceFilter, limit: int, cursor: str | None) -> Page[ListedInvoice]:
        """Newest first, after the cursor's invoice, each with its customer's name: one
        statement, an index walk on (issued_at, number) whatever the page."""
        query = (
            select(invoices, customers.c.name.label("customer_name"))
            .join(deals, deals.c.deal_id == invoices.c.deal_id)
            .outerjoin(customers, customers.c.customer_id == invoices.c.customer_id)
        )
        for column, value in (
            (invoices.c.deal_id, where.deal_id),
            (invoices.c.customer_id, where.customer_id),
            (invoices.c.status, where.status),
            (deals.c.owner, where.owner),
        ):
            if value is not None:
                query = query.where(column == value)
        if where.customer_name:
            query = query.where(customers.c.name.icontains(where.customer_name, autoescape=True))
        if where.overdue_on is not None:
            due_before = datetime.combine(where.overdue_on, time.min, UTC)
            query = query.where(
                invoices.c.status == InvoiceStatus.OPEN, invoices.c.due_date < due_before
            )
        last = key_of(cursor, _INVOICE_KEY)
        if last is not None:
            query = query.where(after(_INVOICE_ORDER, last, descending=True))
        query = query.order_by(*(c.desc() for c in _INVOICE_ORDER)).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        found = [ListedInvoice(invoice_from_row(r), r.customer_name) for r in rows]
        return page_of(
            found, limit, lambda i: (i.invoice.issued_at, i.invoice.number), _INVOICE_KEY
        )

    def get(self, number: str) -> OwnedInvoice | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(invoices, deals.c.owner)
                .join(deals, deals.c.deal_id == invoices.c.deal_id)
                .where(invoices.c.number == number)
            ).first()
        return None if row is None else OwnedInvoice(invoice_from_row(row), row.owner)

    def customer(self, number: str) -> InvoiceCustomer:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(customers.c.name, customers.c.country)
                .join(invoices, invoices.c.customer_id == customers.c.customer_id)
                .where(invoices.c.number == number)
            ).one()
        return InvoiceCustomer(row.name, row.country)

    def payment(self, reference: str) -> Payment | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(payments).where(payments.c.reference == reference)).first()
        return None if row is None else Payment.model_validate(dict(row._mapping))

    def aging(self, on: date) -> dict[str, dict[str, Decimal]]:
        with self.engine.connect() as conn:
            return ar_aging(conn, on)
