"""Pricing a quote from the price book: exact sums, one rounding per amount, clear refusals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from pydantic import ValidationError

from domain.billing_plans import Upfront
from domain.catalogue import PriceBook
from domain.errors import QuoteInvalid
from domain.money import MINOR_UNITS
from domain.quotes import Quote, QuoteLineRequest, QuoteRequest, price_quote
from tests.unit.examples import (
    ISSUED_AT,
    entry,
    half_away_from_zero,
    line,
    one_line_quote,
    quote,
    quotes,
    scaled,
)


def amounts(priced: Quote) -> list[Decimal]:
    per_line = [
        amount
        for item in priced.lines
        for amount in (item.gross, item.discount, item.net, item.tax, item.total)
    ]
    return [*per_line, priced.subtotal, priced.discount_total, priced.tax_total, priced.total]


# --- invariants ---


@given(quotes())
def test_total_is_subtotal_less_discounts_plus_tax(priced):
    assert priced.total == priced.subtotal - priced.discount_total + priced.tax_total


@given(quotes())
def test_quote_amounts_are_exact_sums_of_the_lines(priced):
    assert priced.subtotal == sum(item.gross for item in priced.lines)
    assert priced.discount_total == sum(item.discount for item in priced.lines)
    assert priced.tax_total == sum(item.tax for item in priced.lines)
    assert priced.total == sum(item.total for item in priced.lines)


@given(quotes())
def test_each_line_total_is_net_plus_tax_and_net_is_gross_less_discount(priced):
    for item in priced.lines:
        assert item.net == item.gross - item.discount
        assert item.total == item.net + item.tax


@given(quotes())
def test_no_amount_of_a_quote_is_negative(priced):
    assert all(amount >= 0 for amount in amounts(priced))


@given(quotes())
def test_every_amount_has_exactly_the_minor_unit_precision_of_the_currency(priced):
    places = MINOR_UNITS[priced.currency]
    assert {amount.as_tuple().exponent for amount in amounts(priced)} == {-places}


@given(quotes())
def test_each_line_amount_is_rounded_once_half_away_from_zero(priced):
    places = MINOR_UNITS[priced.currency]
    unit = Fraction(10) ** places
    for item in priced.lines:
        gross = half_away_from_zero(Fraction(item.unit_price) * Fraction(item.quantity) * unit)
        discount = half_away_from_zero(gross * Fraction(item.discount_pct) / 100)
        tax = half_away_from_zero((gross - discount) * Fraction(item.tax_rate) / 100)
        assert (item.gross, item.discount, item.tax) == (
            scaled(gross, places),
            scaled(discount, places),
            scaled(tax, places),
        )


@given(quotes())
def test_net_total_is_the_total_before_tax(priced):
    assert priced.net_total == sum(item.net for item in priced.lines)


# --- the rounding rule, by example ---


def test_line_discount_is_rounded_half_up_once():
    priced = one_line_quote("10.05", discount_pct="50", tax_rate="0")
    assert priced.lines[0].discount == Decimal("5.03")  # 5.025: half up, not to even


def test_discount_is_taken_from_the_rounded_gross():
    priced = one_line_quote("0.01", quantity="99.6", discount_pct="0.5", tax_rate="0")
    # gross 0.996 -> 1.00; 0.5 % of 1.00 is 0.005 -> 0.01 (of 0.996 it would round to 0.00)
    assert (priced.lines[0].gross, priced.lines[0].discount) == (Decimal("1.00"), Decimal("0.01"))


def test_tax_is_rounded_per_line_not_on_the_total():
    priced = quote(
        [entry("A", "0.05", tax_rate="10"), entry("B", "0.05", tax_rate="10")],
        [line("A", "1"), line("B", "1")],
    )
    assert priced.tax_total == Decimal("0.02")  # 0.005 + 0.005 rounded each, not 0.010


def test_tax_is_charged_on_the_discounted_net():
    priced = one_line_quote("100.00", quantity="3", discount_pct="10", tax_rate="20")
    item = priced.lines[0]
    assert (item.gross, item.discount, item.net, item.tax, item.total) == (
        Decimal("300.00"),
        Decimal("30.00"),
        Decimal("270.00"),
        Decimal("54.00"),
        Decimal("324.00"),
    )


def test_yen_amounts_have_no_decimals():
    priced = one_line_quote("333", quantity="3", discount_pct="10", tax_rate="10", currency="JPY")
    item = priced.lines[0]
    # gross 999; discount 99.9 -> 100; net 899; tax 89.9 -> 90
    assert (item.gross, item.discount, item.net, item.tax) == (
        Decimal("999"),
        Decimal("100"),
        Decimal("899"),
        Decimal("90"),
    )


def test_dinar_amounts_have_three_decimals():
    priced = one_line_quote("1.005", quantity="1", discount_pct="50", tax_rate="0", currency="KWD")
    assert priced.lines[0].discount == Decimal("0.503")  # 0.5025 -> 0.503


def test_amounts_are_rounded_once_even_at_the_largest_price_and_quantity_accepted():
    priced = one_line_quote(
        "999999999999.999",
        quantity="999999.999",
        discount_pct="33.3333",
        tax_rate="19.9999",
        currency="KWD",
    )
    gross = half_away_from_zero(Fraction("999999999999.999") * Fraction("999999.999") * 1000)
    discount = half_away_from_zero(gross * Fraction("33.3333") / 100)
    tax = half_away_from_zero((gross - discount) * Fraction("19.9999") / 100)
    item = priced.lines[0]
    assert (item.gross, item.discount, item.tax) == (
        scaled(gross, 3),
        scaled(discount, 3),
        scaled(tax, 3),
    )


# --- what a quote carries ---


def test_max_discount_is_the_largest_line_discount():
    priced = quote(
        [entry("A", "10.00"), entry("B", "10.00"), entry("C", "10.00")],
        [line("A", "1", "5"), line("B", "1", "12.5"), line("C", "1")],
    )
    assert priced.max_discount_pct == Decimal("12.5")


def test_quote_is_valid_for_its_valid_days_in_policy_days():
    request = QuoteRequest(
        currency="EUR", lines=[line("A", "1")], billing_plan=Upfront(), valid_days=14
    )
    book = PriceBook(entries=[entry("A", "10.00")])
    priced = price_quote(request, book, version=3, issued_at=ISSUED_AT, day=timedelta(hours=1))
    assert (priced.version, priced.valid_until) == (3, ISSUED_AT + timedelta(hours=14))


def test_a_line_carries_the_price_book_name_and_unit_price():
    priced = one_line_quote("12.34")
    assert (priced.lines[0].name, priced.lines[0].unit_price) == ("Product ITEM", Decimal("12.34"))


# --- refusals while pricing ---


def refusal(entries, lines, currency="EUR") -> QuoteInvalid:
    with pytest.raises(QuoteInvalid) as refused:
        quote(entries, lines, currency)
    return refused.value


def test_unknown_sku_is_refused_naming_its_line():
    refused = refusal([entry("A", "1.00")], [line("A", "1"), line("NOPE", "1")])
    assert refused.field == ("lines", 1, "sku")
    assert "unknown SKU NOPE" in refused.message


def test_sku_without_a_price_in_the_quote_currency_is_refused():
    refused = refusal([entry("A", "1.00", "EUR")], [line("A", "1")], currency="USD")
    assert refused.field == ("lines", 0, "sku")
    assert "no USD price for A" in refused.message


def test_product_no_longer_sold_is_refused():
    refused = refusal([entry("OLD", "1.00", active=False)], [line("OLD", "1")])
    assert refused.field == ("lines", 0, "sku")
    assert "not sold any more" in refused.message


def test_sku_on_two_lines_is_refused_at_the_second():
    refused = refusal([entry("A", "1.00")], [line("A", "1"), line("A", "2")])
    assert refused.field == ("lines", 1, "sku")
    assert "appears twice" in refused.message


# --- request validation ---


def line_body(**overrides):
    return {"sku": "A", "quantity": "1", **overrides}


@pytest.mark.parametrize("quantity", ["0", "-1", "0.0001", "1000000.001"])
def test_quantity_must_be_positive_with_at_most_three_decimals_and_a_million_at_most(quantity):
    with pytest.raises(ValidationError):
        QuoteLineRequest.model_validate(line_body(quantity=quantity))


@pytest.mark.parametrize("discount", ["-0.0001", "100.0001", "101", "12.00001"])
def test_discount_is_a_percentage_from_0_to_100(discount):
    with pytest.raises(ValidationError):
        QuoteLineRequest.model_validate(line_body(discount_pct=discount))


@pytest.mark.parametrize("discount", ["0", "100", "33.3333"])
def test_discount_from_0_to_100_with_four_decimals_is_accepted(discount):
    assert QuoteLineRequest.model_validate(
        line_body(discount_pct=discount)
    ).discount_pct == Decimal(discount)


@pytest.mark.parametrize("field", ["quantity", "discount_pct"])
def test_float_amounts_are_refused(field):
    with pytest.raises(ValidationError, match="not floats"):
        QuoteLineRequest.model_validate(line_body(**{field: 1.5}))


def test_unknown_fields_on_a_line_are_refused():
    with pytest.raises(ValidationError):
        QuoteLineRequest.model_validate(line_body(unit_price="0.01"))


def request_body(**overrides):
    return {
        "currency": "EUR",
        "lines": [line_body()],
        "billing_plan": {"kind": "upfront"},
        **overrides,
    }


def test_unknown_fields_on_a_request_are_refused():
    with pytest.raises(ValidationError):
        QuoteRequest.model_validate(request_body(total="0.00"))


@pytest.mark.parametrize("currency", ["XXX", "EURO", "", "€"])
def test_unknown_currency_is_refused(currency):
    with pytest.raises(ValidationError, match="unsupported currency"):
        QuoteRequest.model_validate(request_body(currency=currency))


def test_currency_code_is_read_in_any_case():
    assert QuoteRequest.model_validate(request_body(currency="eur")).currency == "EUR"


def test_a_quote_needs_at_least_one_line():
    with pytest.raises(ValidationError):
        QuoteRequest.model_validate(request_body(lines=[]))


@pytest.mark.parametrize(
    "plan",
    [
        {"kind": "monthly"},
        {"kind": "milestones", "milestones": [{"percent": "60", "trigger": "signature"}]},
        {"kind": "milestones", "milestones": [{"percent": "100", "trigger": "invoice"}]},
        {"kind": "milestones", "milestones": []},
        {"kind": "installments", "count": 1, "every_days": 30},
        {"kind": "installments", "count": 3, "every_days": 0},
    ],
)
def test_billing_plan_that_cannot_be_billed_is_refused(plan):
    with pytest.raises(ValidationError):
        QuoteRequest.model_validate(request_body(billing_plan=plan))
