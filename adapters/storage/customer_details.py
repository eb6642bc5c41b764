"""Customers' addresses, countries, VAT ids and kinds in Postgres: set by finance, admins or
a deal's owner (each change an event in the customer's own audit chain), read when a quote
is taxed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from domain.customers import CustomerDetails, CustomerDetailsIn, apply_details
from domain.tax import CustomerTax

from .audit import append_event
from .credit import customer_chain
from .tables import customers, deals

_COLUMNS = (customers.c.address, customers.c.country, customers.c.vat_id, customers.c.kind)


def _details(row: Any) -> CustomerDetails:
    return CustomerDetails(
        address=row.address, country=row.country, vat_id=row.vat_id, kind=row.kind
    )


class CustomerDirectory:
    """The details invoices and the tax rules need of each customer."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def update(
        self, customer_id: str, change: CustomerDetailsIn, at: datetime, actor: str
    ) -> CustomerDetails | None:
        """Apply `change` (InvalidInput, naming the field, changes nothing); None for an
        unknown customer. The same details again change nothing and leave no event."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(*_COLUMNS).where(customers.c.customer_id == customer_id).with_for_update()
            ).first()
            if row is None:
                return None
            before = _details(row)
            after = apply_details(before, change)
            if after == before:
                return after
            conn.execute(
                update(customers)
                .where(customers.c.customer_id == customer_id)
                .values(**after.model_dump(mode="json"))
            )
            append_event(
                conn,
                customer_chain(customer_id),
                f"customer.details_set:{at.isoformat()}",
                at,
                actor,
                "customer.details_set",
                {
                    "customer_id": customer_id,
                    "before": before.model_dump(mode="json"),
                    "after": after.model_dump(mode="json"),
                },
            )
            return after

    def tax_of_deal(self, deal_id: str) -> CustomerTax:
        """The tax profile of the deal's customer, as it stands now."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(*_COLUMNS)
                .join(deals, deals.c.customer_id == customers.c.customer_id)
                .where(deals.c.deal_id == deal_id)
            ).one()
        return _details(row).tax
