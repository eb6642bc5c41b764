"""Price books, quotes and hypothesis strategies shared by the unit tests."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from hypothesis import strategies as st

from domain.billing_plans import BillingPlan, Installments, Milestone, Milestones, Upfront
from domain.catalogue import PriceBook, PriceBookEntry, ProductKind
from domain.money import MINOR_UNITS
from domain.quotes import Quote, QuoteLineRequest, QuoteRequest, price_quote

ISSUED_AT = datetime(2030, 1, 15, 9, 30, tzinfo=UTC)
CURRENCIES = sorted(MINOR_UNITS)


def entry(
    sku: str,
    unit_price: str | Decimal,
    currency: str = "EUR",
    tax_rate: str | Decimal = "20",
    *,
    active: bool = True,
) -> PriceBookEntry:
    return PriceBookEntry(
        sku=sku,
        name=f"Product {sku}",
        kind=ProductKind.GOOD,
        unit_price=Decimal(unit_price),
        currency=currency,
        tax_rate=Decimal(tax_rate),
        active=active,
    )


def line(sku: str, quantity: str | Decimal, discount_pct: str | Decimal = "0") -> QuoteLineRequest:
    return QuoteLineRequest(sku=sku, quantity=Decimal(quantity), discount_pct=Decimal(discount_pct))


def quote(
    entries: list[PriceBookEntry],
    lines: list[QuoteLineRequest],
    currency: str = "EUR",
    plan: BillingPlan | None = None,
) -> Quote:
    request = QuoteRequest(currency=currency, lines=lines, billing_plan=plan or Upfront())
    return price_quote(request, PriceBook(entries=entries), version=1, issued_at=ISSUED_AT)


def one_line_quote(
    unit_price: str,
    quantity: str = "1",
    discount_pct: str = "0",
    tax_rate: str = "20",
    currency: str = "EUR",
    plan: BillingPlan | None = None,
) -> Quote:
    return quote(
        [entry("ITEM", unit_price, currency, tax_rate)],
        [line("ITEM", quantity, discount_pct)],
        currency,
        plan,
    )


def half_away_from_zero(amount: Fraction) -> int:
    """The whole number nearest `amount` (>= 0), halves going up: the oracle for rounding."""
    return math.floor(amount + Fraction(1, 2))


def scaled(units: int, places: int) -> Decimal:
    """`units` counted in steps of 10**-places, as an exact Decimal with that many places."""
    return Decimal(units).scaleb(-places)


# --- strategies ---


# Small prices (a few minor units) make rounding matter; large ones, up to the largest unit
# price a price book accepts (10**12), check that the arithmetic stays exact.
def minor_amounts(places: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, 300), st.integers(0, 10 ** (12 + places)))


percents = st.one_of(
    st.sampled_from([0, 10, 20, 50, 100]).map(Decimal),
    st.integers(0, 1_000_000).map(lambda units: scaled(units, 4)),
)
quantities = st.one_of(
    st.integers(1, 20).map(Decimal),
    st.integers(1, 1_000_000_000).map(lambda units: scaled(units, 3)),
)


@st.composite
def priced_lines(
    draw: st.DrawFn, currency: str, max_lines: int = 5
) -> tuple[list[PriceBookEntry], list[QuoteLineRequest]]:
    count = draw(st.integers(1, max_lines))
    places = MINOR_UNITS[currency]
    entries, lines = [], []
    for index in range(count):
        sku = f"SKU-{index}"
        price = scaled(draw(minor_amounts(places)), places)
        entries.append(entry(sku, price, currency, draw(percents)))
        lines.append(line(sku, draw(quantities), draw(percents)))
    return entries, lines


@st.composite
def quotes(
    draw: st.DrawFn, plans: st.SearchStrategy[BillingPlan] | None = None, max_lines: int = 5
) -> Quote:
    currency = draw(st.sampled_from(CURRENCIES))
    entries, lines = draw(priced_lines(currency, max_lines))
    plan = draw(plans) if plans is not None else Upfront()
    return quote(entries, lines, currency, plan)


@st.composite
def milestone_plans(draw: st.DrawFn) -> Milestones:
    """Shares that add up to exactly 100 %, with their triggers in any order."""
    whole = 1_000_000  # 100 % in steps of 0.0001 %
    if draw(st.booleans()):  # equal shares, the likeliest to round the same way each time
        count = draw(st.sampled_from([2, 4, 5, 8, 10]))
        cuts = [whole * i // count for i in range(1, count)]
    else:
        count = draw(st.integers(1, 12))
        cuts = sorted(
            draw(
                st.lists(
                    st.integers(1, whole - 1), min_size=count - 1, max_size=count - 1, unique=True
                )
            )
        )
    bounds = [0, *cuts, whole]
    triggers = st.sampled_from(["signature", "delivery_complete"])
    return Milestones(
        milestones=[
            Milestone(percent=scaled(high - low, 4), trigger=draw(triggers))
            for low, high in zip(bounds, bounds[1:], strict=False)
        ]
    )


installment_plans = st.builds(
    Installments, count=st.integers(2, 60), every_days=st.integers(1, 366)
)
