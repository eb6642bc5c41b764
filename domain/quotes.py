"""Quotes: what the customer is offered, priced from the price book in exact Decimal.

Pricing rule, per line, each amount rounded once, half away from zero, to the currency's
minor unit:  gross = unit_price x quantity;  discount = gross x discount_pct / 100;
net = gross - discount;  tax = net x tax_rate / 100;  total = net + tax.
The rate is the one domain/tax.py determines for the customer (the product's own rate at home).
The quote's subtotal, discount_total, tax_total and total are exact sums of its lines.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .billing_plans import PERIOD_MONTHS, BillingPeriod, BillingPlan
from .catalogue import Percent, PriceBook, PriceBookEntry, ProductKind, Sku
from .errors import QuoteInvalid
from .money import Currency, ExactDecimal, exact, round_money
from .tax import TaxCategory, TaxContext, default_category, determine

Quantity = Annotated[ExactDecimal, Field(gt=0, le=1_000_000, decimal_places=3)]


class QuoteLineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Sku
    quantity: Quantity
    discount_pct: Percent = Decimal(0)
    # Subscriptions only: how often the line is invoiced over its term (default monthly).
    billing_period: BillingPeriod | None = None
    # Subscriptions only: renew at each term's end unless cancelled (else the owner gets a
    # renewal quote before it ends).
    auto_renew: bool = False


class QuoteRequest(BaseModel):
    """What a rep asks to quote; prices come from the price book, never from the client."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: Currency
    lines: list[QuoteLineRequest] = Field(min_length=1, max_length=200)
    billing_plan: BillingPlan
    payment_terms_days: int = Field(default=30, ge=0, le=365)
    valid_days: int = Field(default=30, ge=1, le=365)


class QuoteStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"


class QuoteLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    name: str
    kind: ProductKind
    term_months: int | None = None
    billing_period: BillingPeriod | None = None  # subscriptions: invoiced once per period
    auto_renew: bool = False  # subscriptions: renewed at each term's end unless cancelled
    quantity: Decimal
    unit_price: Decimal
    discount_pct: Decimal
    gross: Decimal
    discount: Decimal
    net: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    # domain/tax.py: the line's category and the legal note its invoices carry. Quotes priced
    # before they were kept read as their rate says (S, or Z at 0 %).
    tax_category: TaxCategory = TaxCategory.STANDARD  # by its rate when not given
    tax_note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _category_by_rate(cls, data: object) -> object:
        return with_default_category(data)


def with_default_category(data: object) -> object:
    """A stored line without a tax category gets the one its rate implies."""
    if isinstance(data, dict) and data.get("tax_category") is None and "tax_rate" in data:
        return {**data, "tax_category": default_category(Decimal(str(data["tax_rate"])))}
    return data


class Quote(BaseModel):
    """A priced, versioned offer. Amounts are exact sums of the lines."""

    model_config = ConfigDict(frozen=True)

    version: int
    currency: str
    lines: list[QuoteLine]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    billing_plan: BillingPlan
    payment_terms_days: int
    valid_days: int
    issued_at: datetime
    valid_until: datetime
    status: QuoteStatus = QuoteStatus.OPEN
    # The number people read and quote back ("Q-2026-000042-v2"), given when it is saved.
    number: str | None = None

    @property
    def max_discount_pct(self) -> Decimal:
        """The largest line discount (the overall discount can never exceed it)."""
        return max(line.discount_pct for line in self.lines)

    @property
    def net_total(self) -> Decimal:
        return self.total - self.tax_total


def line_amounts(
    unit_price: Decimal, quantity: Decimal, discount_pct: Decimal, tax_rate: Decimal, currency: str
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """Gross, discount, net and tax of a line, by the pricing rule above."""
    with exact():
        gross = round_money(unit_price * quantity, currency)
        discount = round_money(gross * discount_pct / 100, currency)
        net = gross - discount
        tax = round_money(net * tax_rate / 100, currency)
    return gross, discount, net, tax


def price_line(
    request: QuoteLineRequest,
    book: PriceBook,
    currency: str,
    index: int,
    tax: TaxContext | None = None,
) -> QuoteLine:
    entry = book.find(request.sku, currency)
    if entry is None:
        known = request.sku in book.skus()
        reason = f"no {currency} price for {request.sku}" if known else f"unknown SKU {request.sku}"
        raise QuoteInvalid(reason, field=("lines", index, "sku"))
    if not entry.active:
        raise QuoteInvalid(f"{request.sku} is not sold any more", field=("lines", index, "sku"))
    period = _billing_period(request, entry, index)
    try:
        line_tax = determine(tax, entry.tax_rate, entry.kind)
    except ValueError as refused:
        raise QuoteInvalid(f"{entry.sku}: {refused}", field=("lines", index, "sku")) from None
    gross, discount, net, amount = line_amounts(
        entry.unit_price, request.quantity, request.discount_pct, line_tax.rate, currency
    )
    return QuoteLine(
        sku=entry.sku,
        name=entry.name,
        kind=entry.kind,
        term_months=entry.term_months,
        billing_period=period,
        auto_renew=request.auto_renew,
        quantity=request.quantity,
        unit_price=entry.unit_price,
        discount_pct=request.discount_pct,
        gross=gross,
        discount=discount,
        net=net,
        tax_rate=line_tax.rate,
        tax=amount,
        total=net + amount,
        tax_category=line_tax.category,
        tax_note=line_tax.note,
    )


def _billing_period(
    request: QuoteLineRequest, entry: PriceBookEntry, index: int
) -> BillingPeriod | None:
    """A subscription is invoiced monthly unless the line says otherwise; the periods must
    divide its term. Other lines are billed by the deal's plan and take no period."""
    field = ("lines", index, "billing_period")
    if entry.kind is not ProductKind.SUBSCRIPTION or entry.term_months is None:
        if request.billing_period is not None:
            raise QuoteInvalid(
                f"{entry.sku} is not a subscription: it has no billing period", field=field
            )
        if request.auto_renew:
            raise QuoteInvalid(
                f"{entry.sku} is not a subscription: it does not renew",
                field=("lines", index, "auto_renew"),
            )
        return None
    period = request.billing_period or "monthly"
    if entry.term_months % PERIOD_MONTHS[period]:
        raise QuoteInvalid(
            f"a {entry.term_months}-month term cannot be billed {period}", field=field
        )
    return period


def price_quote(
    request: QuoteRequest,
    book: PriceBook,
    version: int,
    issued_at: datetime,
    day: timedelta = timedelta(days=1),
    tax: TaxContext | None = None,
) -> Quote:
    """Price `request` from `book`, taxed by `tax` (domain/tax.py; None: each product's own
    rate, as quotes were priced before); raise QuoteInvalid naming the field at fault."""
    seen: set[str] = set()
    for index, line in enumerate(request.lines):
        if line.sku in seen:
            raise QuoteInvalid(
                f"{line.sku} appears twice; give one line per SKU", field=("lines", index, "sku")
            )
        seen.add(line.sku)
    lines = [
        price_line(line, book, request.currency, i, tax) for i, line in enumerate(request.lines)
    ]
    subtotal = sum((line.gross for line in lines), Decimal(0))
    discount_total = sum((line.discount for line in lines), Decimal(0))
    tax_total = sum((line.tax for line in lines), Decimal(0))
    return Quote(
        version=version,
        currency=request.currency,
        lines=lines,
        subtotal=subtotal,
        discount_total=discount_total,
        tax_total=tax_total,
        total=subtotal - discount_total + tax_total,
        billing_plan=request.billing_plan,
        payment_terms_days=request.payment_terms_days,
        valid_days=request.valid_days,
        issued_at=issued_at,
        valid_until=issued_at + day * request.valid_days,
    )
