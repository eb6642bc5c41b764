"""Customers with their open deals and lifetime value; one customer with contacts and deals.

A list is one query whatever its length (the counts and sums are per-row subqueries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, select, text

from domain.credit import CreditStanding
from domain.customer_credit import CreditBalance
from domain.tax import CustomerKind

from ..tables import contacts
from .deals import DealFilter, DealSummary, DealViews
from .rows import from_json


class CustomerSummary(BaseModel):
    customer_id: str
    name: str
    email_domain: str | None
    country: str | None
    address: str | None = None
    vat_id: str | None = None
    kind: CustomerKind = CustomerKind.BUSINESS
    created_at: datetime
    open_deals: int
    lifetime_value: list[dict[str, Any]]


class CustomerPage(CustomerSummary):
    contacts: list[dict[str, Any]]
    deals: list[DealSummary]
    credit_standing: CreditStanding | None = None  # judged at the moment of reading
    credit: list[CreditBalance] = []  # money held for the customer (docs/cash.md)


CUSTOMER_DEALS_SHOWN = 200

# `:owner` NULL counts every owner's open deals.
_SUMMARIES = """
    SELECT c.customer_id, c.name, c.email_domain, c.country, c.address, c.vat_id, c.kind,
           c.created_at,
           (SELECT count(*) FROM deals d
             WHERE d.customer_id = c.customer_id AND d.closed_at IS NULL
               AND (CAST(:owner AS text) IS NULL OR d.owner = :owner)) AS open_deals,
           (SELECT coalesce(json_agg(json_build_object('amount', v.amount::text,
                                                       'currency', v.currency)
                                     ORDER BY v.currency), '[]')
              FROM (SELECT p.currency, sum(p.amount) AS amount
                      FROM payments p JOIN invoices i ON i.number = p.invoice_number
                     WHERE i.customer_id = c.customer_id
                     GROUP BY p.currency) v)::text AS lifetime_value
    FROM customers c
    """
# A rep sees the customers (and their contacts) of their own deals only: no lead poaching.
_VISIBLE = """
    WHERE (CAST(:owner AS text) IS NULL
           OR EXISTS (SELECT 1 FROM deals o WHERE o.customer_id = c.customer_id
                                              AND o.owner = :owner))
    """
_LIST = text(_SUMMARIES + _VISIBLE + " ORDER BY c.name LIMIT :limit")
_ONE = text(_SUMMARIES + _VISIBLE + " AND c.customer_id = :customer_id")


def _summary(row: Any) -> CustomerSummary:
    return CustomerSummary.model_validate(
        {**row._mapping, "lifetime_value": from_json(row.lifetime_value)}
    )


class CustomerViews:
    """Reads of customers; `owner` narrows them to the customers of that rep's deals, and
    the deals counted and shown to theirs."""

    def __init__(self, engine: Engine, deals: DealViews) -> None:
        self.engine = engine
        self.deals = deals

    def summaries(self, limit: int, owner: str | None = None) -> list[CustomerSummary]:
        with self.engine.connect() as conn:
            rows = conn.execute(_LIST, {"limit": limit, "owner": owner}).all()
        return [_summary(row) for row in rows]

    def page(self, customer_id: str, owner: str | None = None) -> CustomerPage | None:
        """The customer, its contacts, its deals (only `owner`'s when given) and what it paid."""
        with self.engine.connect() as conn:
            row = conn.execute(_ONE, {"customer_id": customer_id, "owner": owner}).first()
            if row is None:
                return None
            people = conn.execute(
                select(contacts.c.name, contacts.c.email, contacts.c.phone)
                .where(contacts.c.customer_id == customer_id)
                .order_by(contacts.c.created_at)
            ).all()
        found = self.deals.page(
            DealFilter(owner=owner, customer_id=customer_id), CUSTOMER_DEALS_SHOWN, None
        )
        return CustomerPage(
            **_summary(row).model_dump(),
            deals=found.items,
            contacts=[dict(p._mapping) for p in people],
        )
