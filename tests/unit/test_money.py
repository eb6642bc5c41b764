"""Money: exact decimals in a known currency, at its minor unit, rounded half away from zero."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.money import MINOR_UNITS, Money, has_minor_precision, minor_unit, round_money
from tests.unit.examples import CURRENCIES


@pytest.mark.parametrize(
    ("currency", "unit"), [("EUR", "0.01"), ("USD", "0.01"), ("JPY", "1"), ("KWD", "0.001")]
)
def test_the_minor_unit_of_a_currency(currency, unit):
    assert minor_unit(currency) == Decimal(unit)


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        ("2.345", "EUR", "2.35"),
        ("2.344", "EUR", "2.34"),
        ("-2.345", "EUR", "-2.35"),
        ("0.5", "JPY", "1"),
        ("1.5", "JPY", "2"),
        ("2.5", "JPY", "3"),
        ("-0.5", "JPY", "-1"),
        ("1.0005", "KWD", "1.001"),
    ],
)
def test_rounding_is_half_away_from_zero_never_to_even(amount, currency, rounded):
    assert round_money(Decimal(amount), currency) == Decimal(rounded)


@given(
    st.sampled_from(CURRENCIES),
    st.decimals(min_value=-(10**12), max_value=10**12, places=6, allow_nan=False),
)
def test_a_rounded_amount_has_exactly_the_minor_unit_and_is_within_half_of_it(currency, amount):
    rounded = round_money(amount, currency)
    assert rounded.as_tuple().exponent == -MINOR_UNITS[currency]
    assert abs(rounded - amount) <= minor_unit(currency) / 2
    assert has_minor_precision(rounded, currency)


@pytest.mark.parametrize(
    ("amount", "currency", "exact"),
    [("1.00", "EUR", True), ("1.001", "EUR", False), ("100", "JPY", True), ("100.5", "JPY", False)],
)
def test_minor_precision_means_no_digits_below_the_minor_unit(amount, currency, exact):
    assert has_minor_precision(Decimal(amount), currency) is exact


def test_money_of_rounds_to_the_minor_unit():
    assert Money.of("10.005", "EUR") == Money(amount=Decimal("10.01"), currency="EUR")


def test_money_adds_and_subtracts_in_one_currency():
    total = Money.of("10.50", "EUR") + Money.of("0.75", "EUR") - Money.of("1", "EUR")
    assert total == Money.of("10.25", "EUR")


def test_money_of_two_currencies_does_not_mix():
    with pytest.raises(ValueError, match="cannot mix EUR and USD"):
        Money.of(1, "EUR") + Money.of(1, "USD")


def test_zero_has_the_minor_unit_of_its_currency():
    assert str(Money.zero("KWD")) == "0.000 KWD"


def test_currency_codes_are_read_in_any_case():
    assert Money.of(1, "eur").currency == "EUR"


@pytest.mark.parametrize("currency", ["XXX", "BTC", "", "EURO"])
def test_an_unknown_currency_is_refused(currency):
    with pytest.raises(ValueError, match="unsupported currency"):
        Money.of(1, currency)


@pytest.mark.parametrize("amount", [1.1, "NaN", "Infinity"])
def test_money_is_never_a_float_nor_infinite(amount):
    with pytest.raises(ValidationError):
        Money(amount=amount, currency="EUR")
