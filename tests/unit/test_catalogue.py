"""The price book: prices in whole minor units, one entry per product and currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.catalogue import DEV_PRICE_BOOK, PriceBook, PriceBookEntry, ProductKind
from tests.unit.examples import entry


def entry_body(**overrides):
    return {
        "sku": "GW-100",
        "name": "Edge gateway",
        "kind": "good",
        "unit_price": "349.90",
        "currency": "EUR",
        "tax_rate": "20",
        **overrides,
    }


@pytest.mark.parametrize(
    ("price", "currency"), [("1.005", "EUR"), ("100.5", "JPY"), ("1.0001", "KWD")]
)
def test_a_price_below_the_minor_unit_of_its_currency_is_refused(price, currency):
    with pytest.raises(ValidationError, match="more decimals than"):
        PriceBookEntry.model_validate(entry_body(unit_price=price, currency=currency))


@pytest.mark.parametrize("price", ["-0.01", "1000000000000.01", 349.9])
def test_a_price_is_an_exact_amount_from_zero_to_a_trillion(price):
    with pytest.raises(ValidationError):
        PriceBookEntry.model_validate(entry_body(unit_price=price))


def test_a_free_product_may_be_listed():
    assert PriceBookEntry.model_validate(entry_body(unit_price="0")).unit_price == 0


@pytest.mark.parametrize("rate", ["-1", "100.0001", "12.00001"])
def test_a_tax_rate_is_a_percentage_with_at_most_four_decimals(rate):
    with pytest.raises(ValidationError):
        PriceBookEntry.model_validate(entry_body(tax_rate=rate))


def test_a_subscription_needs_a_term():
    with pytest.raises(ValidationError, match="needs term_months"):
        PriceBookEntry.model_validate(entry_body(kind="subscription"))


@pytest.mark.parametrize("sku", ["", "-GW", "GW 100", "GW/100", "x" * 41])
def test_a_sku_is_a_short_code_of_letters_digits_dots_dashes_and_underscores(sku):
    with pytest.raises(ValidationError):
        PriceBookEntry.model_validate(entry_body(sku=sku))


def test_a_product_is_found_by_sku_and_currency():
    book = PriceBook(entries=[entry("A", "10.00", "EUR"), entry("A", "11.00", "USD")])
    found = book.find("A", "USD")
    assert found is not None and found.unit_price == Decimal("11.00")


def test_a_product_without_a_price_in_that_currency_is_not_found():
    assert PriceBook(entries=[entry("A", "10.00", "EUR")]).find("A", "JPY") is None


def test_the_skus_of_a_book_are_those_of_its_entries():
    book = PriceBook(entries=[entry("A", "1.00", "EUR"), entry("A", "1", "JPY"), entry("B", "2")])
    assert book.skus() == {"A", "B"}


def test_the_dev_price_book_has_one_entry_per_product_and_currency():
    keys = [(e.sku, e.currency) for e in DEV_PRICE_BOOK]
    assert len(keys) == len(set(keys))


def test_every_dev_subscription_has_a_term():
    assert all(e.term_months for e in DEV_PRICE_BOOK if e.kind is ProductKind.SUBSCRIPTION)
