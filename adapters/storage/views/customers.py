"""Customers with their open deals and lifetime value; one customer with contacts and deals.

A page of the list is one statement whatever its length: the counts and sums are grouped
over the page's customers, not asked per row."""

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
from .paging import Page, key_of, page_of
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

# A rep sees the customers (and their contacts) of their own deals only: no lead poaching.
# `:owner` NULL sees every customer and counts every owner's open deals.
_VISIBLE = """
    (CAST(:owner AS text) IS NULL
     OR EXISTS (SELECT 1 FROM deals o WHERE o.customer_id = c.customer_id
                                        AND o.owner = :owner))
    """
# The customers wanted first (`chosen`), then their open deals and what they paid, each
# aggregated over those customers at once: one statement, and no work per row beyond them.
_SUMMARIES = """
    , open AS (
        SELECT d.customer_id, count(*) AS n FROM chosen JOIN deals d USING (customer_id)
         WHERE d.closed_at IS NULL AND (CAST(:owner AS text) IS NULL OR d.owner = :owner)
         GROUP BY d.customer_id),
      paid AS (
        SELECT v.customer_id,
               json_agg(json_build_object('amount', v.amount::text, 'currency', v.currency)
                        ORDER BY v.currency) AS lifetime_value
          FROM (SELECT i.customer_id, p.currency, sum(p.amount) AS amount
                  FROM chosen JOIN invoices i USING (customer_id)
                  JOIN payments p ON p.invoice_number = i.number
                 GROUP BY i.customer_id, p.currency) v
         GROUP BY v.customer_id)
    SELECT chosen.*, coalesce(open.n, 0) AS open_deals,
           coalesce(paid.lifetime_value, '[]')::text AS lifetime_value
    FROM chosen
    LEFT JOIN open USING (customer_id)
    LEFT JOIN paid USING (customer_id)
    """
_COLUMNS = (
    "c.customer_id, c.name, c.email_domain, c.country, c.address, c.vat_id, c.kind, c.created_at"
)
# By name, then id; a page starts after the cursor's (name, customer_id).
_LIST = text(
    f"""
    WITH chosen AS (
        SELECT {_COLUMNS} FROM customers c
         WHERE {_VISIBLE}
           AND (CAST(:after_name AS text) IS NULL
                OR (c.name, c.customer_id) > (:after_name, :after_id))
         ORDER BY c.name, c.customer_id LIMIT :limit)
    {_SUMMARIES}
    ORDER BY chosen.name, chosen.customer_id
    """
)
_ONE = text(
    f"""
    WITH chosen AS (
        SELECT {_COLUMNS} FROM customers c
         WHERE {_VISIBLE} AND c.customer_id = :customer_id)
    {_SUMMARIES}
    """
)
_CUSTOMER_KEY = (str, str)


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

    def summaries(
        self, limit: int, cursor: str | None = None, owner: str | None = None
    ) -> Page[CustomerSummary]:
        """By name, after the cursor's customer: one statement per page."""
        last = key_of(cursor, _CUSTOMER_KEY) or (None, None)
        with self.engine.connect() as conn:
            rows = conn.execute(
                _LIST,
                {"limit": limit + 1, "owner": owner, "after_name": last[0], "after_id": last[1]},
            ).all()
        found = [_summary(row) for row in rows]
        return page_of(found, limit, lambda c: (c.name, c.customer_id), _CUSTOMER_KEY)

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
