"""What a legally complete invoice takes from outside its draft, read in its own transaction:
the seller as configured, the buyer as the customer's record stands, the accepted quote's
number. Kept on the invoice, so a later change of either party never rewrites it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from adapters.storage.tables import customers, deals, quotes
from domain.quotes import QuoteStatus
from domain.tax import Party, SellerProfile


def issue_details(
    conn: Connection, deal_id: str, seller: SellerProfile | None, issued_at: datetime
) -> dict[str, Any]:
    """The invoice columns of its parties, tax point, bank details and quote number.
    The tax point is the issue date: every invoice here is issued when its supply (a
    delivery, a milestone, a period begun) or its advance payment falls due."""
    buyer = conn.execute(
        select(
            customers.c.customer_id,
            customers.c.name,
            customers.c.address,
            customers.c.country,
            customers.c.vat_id,
        )
        .join(deals, deals.c.customer_id == customers.c.customer_id)
        .where(deals.c.deal_id == deal_id)
    ).one()
    number = conn.execute(
        select(quotes.c.number)
        .where(quotes.c.deal_id == deal_id, quotes.c.status == QuoteStatus.ACCEPTED)
        .order_by(quotes.c.version.desc())
        .limit(1)
    ).scalar()
    party = Party(
        name=buyer.name, address=buyer.address, country=buyer.country, vat_id=buyer.vat_id
    )
    return {
        "customer_id": buyer.customer_id,
        "seller": None if seller is None else seller.party.model_dump(mode="json"),
        "buyer": party.model_dump(mode="json"),
        "tax_point_date": issued_at.date(),
        "iban": None if seller is None else seller.iban,
        "bic": None if seller is None else seller.bic,
        "quote_number": number,
    }
