"""Writing the price book: products and their list price per currency."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert

from domain.catalogue import PriceBookEntry

from .tables import product_prices, products


class Catalogue:
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
