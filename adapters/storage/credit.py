"""Customers' credit in Postgres: the terms finance sets (each change an event in the
customer's own audit chain, `customer:<id>`), and the open invoices its standing is judged
by (domain/credit.py), each with the grace of its deal's policy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from domain.credit import CreditStanding, CreditTerms, Receivable, credit_standing
from domain.invoices import InvoiceStatus
from domain.money import Money
from domain.policy import DealPolicy

from .audit import append_event
from .tables import customers, deals, invoices
from .views.rows import invoice_from_row


def customer_chain(customer_id: str) -> str:
    """The audit chain of a customer's own changes (beside the chains of its deals)."""
    return f"customer:{customer_id}"


def _terms(row: Any) -> CreditTerms | None:
    if row.credit_limit is None:
        return None
    return CreditTerms(
        limit=Money.of(row.credit_limit, row.credit_currency),
        payment_terms_days=row.payment_terms_days,
    )


def _audited(terms: CreditTerms | None) -> dict[str, Any] | None:
    if terms is None:
        return None
    return {
        "credit_limit": str(terms.limit.amount),
        "currency": terms.limit.currency,
        "payment_terms_days": terms.payment_terms_days,
    }


class CustomerCredit:
    """Credit terms per customer, and the standing they give at a moment."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def set_terms(self, customer_id: str, terms: CreditTerms, at: datetime, actor: str) -> bool:
        """Set the terms, with an audit event of what they were and are; setting the same
        terms again changes nothing. False for an unknown customer."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(
                    customers.c.credit_limit,
                    customers.c.credit_currency,
                    customers.c.payment_terms_days,
                )
                .where(customers.c.customer_id == customer_id)
                .with_for_update()
            ).first()
            if row is None:
                return False
            before = _terms(row)
            if before == terms:
                return True
            conn.execute(
                update(customers)
                .where(customers.c.customer_id == customer_id)
                .values(
                    credit_limit=terms.limit.amount,
                    credit_currency=terms.limit.currency,
                    payment_terms_days=terms.payment_terms_days,
                )
            )
            append_event(
                conn,
                customer_chain(customer_id),
                f"credit.terms_set:{at.isoformat()}",
                at,
                actor,
                "customer.credit_terms_set",
                {"customer_id": customer_id, "before": _audited(before), "after": _audited(terms)},
            )
        return True

    def standing(
        self, customer_id: str, at: datetime, default_limit: Money | None = None
    ) -> CreditStanding | None:
        """The customer's standing at `at`; None for an unknown customer."""
        with self.engine.connect() as conn:
            return self._standing(conn, customer_id, at, default_limit)

    def deal_standing(
        self, deal_id: str, at: datetime, default_limit: Money | None = None
    ) -> CreditStanding:
        """The standing of the deal's customer. Without terms set by finance, `default_limit`
        applies: by default the deal's own policy limit, in the deal's currency."""
        with self.engine.connect() as conn:
            deal = conn.execute(
                select(deals.c.customer_id, deals.c.policy, deals.c.currency).where(
                    deals.c.deal_id == deal_id
                )
            ).one()
            if default_limit is None and deal.currency is not None:
                policy = DealPolicy.model_validate(deal.policy)
                default_limit = Money.of(policy.credit_limit, deal.currency)
            found = self._standing(conn, deal.customer_id, at, default_limit)
        assert found is not None  # a deal's customer exists (foreign key)
        return found

    def _standing(
        self, conn: Connection, customer_id: str, at: datetime, default_limit: Money | None
    ) -> CreditStanding | None:
        customer = conn.execute(
            select(
                customers.c.name,
                customers.c.credit_limit,
                customers.c.credit_currency,
                customers.c.payment_terms_days,
            ).where(customers.c.customer_id == customer_id)
        ).first()
        if customer is None:
            return None
        rows = conn.execute(
            select(invoices, deals.c.policy)
            .join(deals, deals.c.deal_id == invoices.c.deal_id)
            .where(invoices.c.customer_id == customer_id, invoices.c.status == InvoiceStatus.OPEN)
            .order_by(invoices.c.due_date, invoices.c.number)
        ).all()
        receivables = []
        for row in rows:
            invoice = invoice_from_row(row)
            receivables.append(
                Receivable(
                    number=invoice.number,
                    balance=Money.of(invoice.balance, invoice.currency),
                    due_date=invoice.due_date,
                    grace=DealPolicy.model_validate(row.policy).credit_grace(),
                )
            )
        return credit_standing(
            customer_id, customer.name, _terms(customer), receivables, at, default_limit
        )
