"""Subscriptions billed per period: the periods of a term add up to the line to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing_periods import (
    billed_by_plan,
    invoiced_by_plan,
    period_invoices,
    split_evenly,
)
from domain.catalogue import PriceBookEntry, ProductKind
from domain.errors import QuoteInvalid
from domain.money import MINOR_UNITS, minor_unit
from domain.quotes import QuoteLineRequest
from tests.unit.examples import CURRENCIES, entry, quote, scaled


def subscription(sku: str = "SUB", price: str = "480.00", term: int = 12) -> PriceBookEntry:
    return PriceBookEntry(
        sku=sku,
        name=f"Subscription {sku}",
        kind=ProductKind.SUBSCRIPTION,
        unit_price=Decimal(price),
        currency="EUR",
        tax_rate=Decimal("20"),
        term_months=term,
    )


def sub_line(sku: str = "SUB", quantity: str = "1", period: str | None = None) -> QuoteLineRequest:
    return QuoteLineRequest.model_validate(
        {"sku": sku, "quantity": quantity, "billing_period": period}
    )


@pytest.mark.parametrize(
    ("period", "count", "days_apart"),
    [("monthly", 12, 30), ("quarterly", 4, 90), ("annual", 1, 360)],
)
def test_a_twelve_month_term_is_invoiced_once_per_period(period, count, days_apart):
    priced = quote([subscription(price="100.01")], [sub_line("SUB", "1", period)])
    line = priced.lines[0]
    periods = period_invoices(line, "EUR", 30)
    assert [p.index for p in periods] == list(range(1, count + 1))
    assert [p.starts_after_days for p in periods] == [days_apart * i for i in range(count)]
    assert sum(p.draft.total for p in periods) == line.total
    assert sum(p.draft.net_total for p in periods) == line.net
    assert sum(p.draft.tax_total for p in periods) == line.tax
    assert len({p.draft.billing_key for p in periods}) == count


def test_a_quarterly_year_of_100_01_is_four_invoices_to_the_cent():
    priced = quote([subscription(price="100.01")], [sub_line("SUB", "1", "quarterly")])
    nets = [p.draft.net_total for p in period_invoices(priced.lines[0], "EUR", 30)]
    assert nets == [Decimal("25.00"), Decimal("25.01"), Decimal("25.00"), Decimal("25.00")]


def test_a_subscription_is_billed_monthly_unless_the_line_says_otherwise():
    priced = quote([subscription()], [sub_line()])
    assert priced.lines[0].billing_period == "monthly"
    assert len(period_invoices(priced.lines[0], "EUR", 30)) == 12


def test_only_a_subscription_takes_a_billing_period():
    with pytest.raises(QuoteInvalid) as refused:
        quote([entry("GOOD", "10.00")], [sub_line("GOOD", "1", "monthly")])
    assert refused.value.field == ("lines", 0, "billing_period")


def test_the_periods_must_divide_the_term():
    with pytest.raises(QuoteInvalid) as refused:
        quote([subscription(term=6)], [sub_line("SUB", "1", "annual")])
    assert refused.value.field == ("lines", 0, "billing_period")
    assert "6-month term" in refused.value.message


def test_an_unknown_billing_period_is_refused():
    with pytest.raises(ValueError):
        sub_line("SUB", "1", "weekly")


def test_the_plan_bills_the_goods_and_leaves_the_subscriptions_to_their_periods():
    priced = quote(
        [entry("GOOD", "10.00"), subscription()],
        [QuoteLineRequest(sku="GOOD", quantity=2), sub_line()],
    )
    goods = billed_by_plan(priced)
    assert [line.sku for line in goods.lines] == ["GOOD"]
    assert goods.total == Decimal("24.00")
    assert not invoiced_by_plan(goods, [])


@given(
    currency=st.sampled_from(CURRENCIES),
    units=st.one_of(st.integers(0, 300), st.integers(0, 10**15)),
    parts=st.sampled_from([1, 4, 5, 12, 20, 60, 120]),
)
def test_a_split_adds_up_to_the_total_in_near_equal_shares(currency, units, parts):
    total = scaled(units, MINOR_UNITS[currency])
    shares = split_evenly(total, parts, currency)
    assert len(shares) == parts
    assert sum(shares, Decimal(0)) == total
    assert max(shares) - min(shares) <= minor_unit(currency)
    assert all(share >= 0 and share == share.quantize(minor_unit(currency)) for share in shares)
