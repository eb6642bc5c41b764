"""The price book: products and their list price per currency, written and read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert

from domain.catalogue import PriceBook, PriceBookEntry

from .tables import product_prices, products


class Catalogue:
    """Products and prices: admins save them, quotes are priced from them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, entry: PriceBookEntry) -> None:
        """Create or change a product and its price in the entry's currency."""
        product = {
            "name": entry.name,
            "kind": entry.kind,
            "tax_rate": entry.tax_rate,
            "term_months": entry.term_months,
            "active": entry.active,
        }
        with self.engine.begin() as conn:
            conn.execute(
                insert(products)
                .values(sku=entry.sku, created_at=datetime.now(UTC), **product)
                .on_conflict_do_update(index_elements=["sku"], set_=product)
            )
            conn.execute(
                insert(product_prices)
                .values(
                    sku=entry.sku,
                    currency=entry.currency,
                    unit_price=entry.unit_price,
                )
                .on_conflict_do_update(
                    index_elements=["sku", "currency"], set_={"unit_price": entry.unit_price}
                )
            )

    def seed(self, entries: Iterable[PriceBookEntry]) -> None:
        """Add entries that are missing; leave existing prices as they are."""
        with self.engine.begin() as conn:
            for entry in entries:
                conn.execute(
                    insert(products)
                    .values(
                        sku=entry.sku,
                        name=entry.name,
                        kind=entry.kind,
                        tax_rate=entry.tax_rate,
                        term_months=entry.term_months,
                        active=entry.active,
                        created_at=datetime.now(UTC),
                    )
                    .on_conflict_do_nothing()
                )
                conn.execute(
                    insert(product_prices)
                    .values(
                        sku=entry.sku,
                        currency=entry.currency,
                        unit_price=entry.unit_price,
                    )
                    .on_conflict_do_nothing()
                )

    def price_book(
        self, currency: str | None = None, skus: set[str] | None = None, active_only: bool = False
    ) -> PriceBook:
        query = (
            select(products, product_prices.c.currency, product_prices.c.unit_price)
            .join(product_prices, product_prices.c.sku == products.c.sku)
            .order_by(products.c.sku, product_prices.c.currency)
        )
        if currency is not None:
            query = query.where(product_prices.c.currency == currency)
        if skus is not None:
            query = query.where(products.c.sku.in_(sorted(skus)))
        if active_only:
            query = query.where(products.c.active.is_(True))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return PriceBook(entries=[PriceBookEntry.model_validate(dict(r._mapping)) for r in rows])
