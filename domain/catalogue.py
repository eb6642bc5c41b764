"""The price book: what we sell, at what list price per currency, taxed how."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .money import Currency, ExactDecimal, has_minor_precision

Sku = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Percent = Annotated[ExactDecimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)]


class ProductKind(StrEnum):
    GOOD = "good"
    SERVICE = "service"
    SUBSCRIPTION = "subscription"


class PriceBookEntry(BaseModel):
    """One product's list price in one currency, as a quote is priced from it.

    `tax_rate` is a percentage: "20" means 20 %.
    """

    model_config = ConfigDict(frozen=True)

    sku: Sku
    name: str = Field(min_length=1, max_length=200)
    kind: ProductKind
    unit_price: Annotated[ExactDecimal, Field(ge=0, le=10**12)]
    currency: Currency
    tax_rate: Percent
    term_months: int | None = Field(default=None, ge=1, le=120)
    active: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> PriceBookEntry:
        if not has_minor_precision(self.unit_price, self.currency):
            raise ValueError(f"unit_price has more decimals than {self.currency} allows")
        if self.kind is ProductKind.SUBSCRIPTION and self.term_months is None:
            raise ValueError("a subscription needs term_months")
        return self


class PriceBook(BaseModel):
    """The entries a quote may use, keyed by (sku, currency)."""

    entries: list[PriceBookEntry] = Field(default_factory=list)

    def find(self, sku: str, currency: str) -> PriceBookEntry | None:
        for entry in self.entries:
            if entry.sku == sku and entry.currency == currency:
                return entry
        return None

    def skus(self) -> set[str]:
        return {entry.sku for entry in self.entries}


DEV_PRICE_BOOK: tuple[PriceBookEntry, ...] = (
    PriceBookEntry(
        sku="L2C-SEAT",
        name="l2c seat licence (annual)",
        kind=ProductKind.SUBSCRIPTION,
        unit_price=Decimal("480.00"),
        currency="EUR",
        tax_rate=Decimal("20"),
        term_months=12,
    ),
    PriceBookEntry(
        sku="L2C-SEAT",
        name="l2c seat licence (annual)",
        kind=ProductKind.SUBSCRIPTION,
        unit_price=Decimal("520.00"),
        currency="USD",
        tax_rate=Decimal("0"),
        term_months=12,
    ),
    PriceBookEntry(
        sku="ONBOARD",
        name="Onboarding workshop (day)",
        kind=ProductKind.SERVICE,
        unit_price=Decimal("1200.00"),
        currency="EUR",
        tax_rate=Decimal("20"),
    ),
    PriceBookEntry(
        sku="ONBOARD",
        name="Onboarding workshop (day)",
        kind=ProductKind.SERVICE,
        unit_price=Decimal("1300.00"),
        currency="USD",
        tax_rate=Decimal("0"),
    ),
    PriceBookEntry(
        sku="GW-100",
        name="Edge gateway GW-100",
        kind=ProductKind.GOOD,
        unit_price=Decimal("349.90"),
        currency="EUR",
        tax_rate=Decimal("20"),
    ),
    PriceBookEntry(
        sku="GW-100",
        name="Edge gateway GW-100",
        kind=ProductKind.GOOD,
        unit_price=Decimal("379.00"),
        currency="USD",
        tax_rate=Decimal("0"),
    ),
    PriceBookEntry(
        sku="SENSOR-T",
        name="Temperature sensor pack (10)",
        kind=ProductKind.GOOD,
        unit_price=Decimal("89.99"),
        currency="EUR",
        tax_rate=Decimal("20"),
    ),
    PriceBookEntry(
        sku="SUPPORT-GOLD",
        name="Gold support (annual)",
        kind=ProductKind.SUBSCRIPTION,
        unit_price=Decimal("2400.00"),
        currency="EUR",
        tax_rate=Decimal("20"),
        term_months=12,
    ),
)
