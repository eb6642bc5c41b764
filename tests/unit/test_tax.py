"""Tax determination: each rule of domain/tax.py (docs/tax.md), and the checks of VAT ids,
IBANs and the seller's profile."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.billing import bill_share
from domain.billing_plans import Upfront
from domain.catalogue import PriceBook, PriceBookEntry, ProductKind
from domain.customers import CustomerDetails, CustomerDetailsIn, apply_details
from domain.errors import InvalidInput, QuoteInvalid
from domain.invoices import Invoice, credit_by_category, split_credit
from domain.quotes import Quote, QuoteLine, QuoteLineRequest, QuoteRequest, price_quote
from domain.tax import (
    EXPORT_GOODS,
    EXPORT_SERVICES,
    REVERSE_CHARGE_GOODS,
    REVERSE_CHARGE_SERVICES,
    CustomerKind,
    CustomerTax,
    SellerProfile,
    TaxCategory,
    TaxContext,
    breakdown,
    determine,
)
from domain.vat_rates import EU_STANDARD_RATES
from tests.unit.examples import ISSUED_AT

SERVICE, GOOD = ProductKind.SERVICE, ProductKind.GOOD
FR_VAT = "FR40303265045"  # valid check digits
RATE = Decimal("19")


def sale_to(**buyer: object) -> TaxContext:
    return TaxContext(seller_country="DE", buyer=CustomerTax.model_validate(buyer))


def quote_of(book: PriceBook, tax: TaxContext) -> Quote:
    lines = [QuoteLineRequest(sku=e.sku, quantity=Decimal(1)) for e in book.entries]
    request = QuoteRequest(currency="EUR", lines=lines, billing_plan=Upfront())
    return price_quote(request, book, 1, ISSUED_AT, tax=tax)


def invoice_of(prices: dict[str, tuple[str, str]]) -> Invoice:
    """The upfront invoice of a quote with one line per SKU: (unit price, domestic rate)."""
    book = PriceBook(
        entries=[
            PriceBookEntry(
                sku=sku,
                name=sku,
                kind=GOOD,
                unit_price=Decimal(price),
                currency="EUR",
                tax_rate=Decimal(rate),
            )
            for sku, (price, rate) in prices.items()
        ]
    )
    draft = bill_share(quote_of(book, sale_to(country="DE")), "upfront", Decimal(100), [], "all")
    return Invoice(
        number="INV-1",
        deal_id="d",
        billing_key="upfront",
        currency="EUR",
        lines=draft.lines,
        net_total=draft.net_total,
        tax_total=draft.tax_total,
        total=draft.total,
        issued_at=ISSUED_AT,
        due_date=ISSUED_AT,
    )


def test_a_domestic_sale_is_taxed_at_the_products_rate():
    tax = determine(sale_to(country="DE", vat_id="DE136695976"), RATE, SERVICE)
    assert (tax.category, tax.rate, tax.note) == (TaxCategory.STANDARD, RATE, None)


def test_a_domestic_product_at_zero_is_zero_rated():
    tax = determine(sale_to(country="DE"), Decimal(0), GOOD)
    assert (tax.category, tax.rate) == (TaxCategory.ZERO_RATED, Decimal(0))


def test_a_customer_with_no_country_yet_is_taxed_as_at_home():
    tax = determine(sale_to(), RATE, SERVICE)
    assert (tax.category, tax.rate) == (TaxCategory.STANDARD, RATE)


def test_without_a_context_the_products_rate_holds_as_before():
    assert determine(None, Decimal("20"), GOOD).rate == Decimal("20")


@pytest.mark.parametrize(
    ("kind", "note"), [(SERVICE, REVERSE_CHARGE_SERVICES), (GOOD, REVERSE_CHARGE_GOODS)]
)
def test_an_eu_business_with_a_valid_vat_id_is_reverse_charged(kind, note):
    tax = determine(sale_to(country="FR", vat_id=FR_VAT), RATE, kind)
    assert (tax.category, tax.rate, tax.note) == (TaxCategory.REVERSE_CHARGE, Decimal(0), note)
    assert "Article 196" in REVERSE_CHARGE_SERVICES and "Article 138" in REVERSE_CHARGE_GOODS


def test_an_eu_consumer_pays_the_destination_rate_under_the_one_stop_shop():
    tax = determine(sale_to(country="FR", kind="consumer"), RATE, SERVICE)
    assert (tax.category, tax.rate, tax.country) == (TaxCategory.STANDARD, Decimal(20), "FR")
    assert tax.note is not None and "One-Stop Shop" in tax.note


def test_a_business_without_a_vat_id_abroad_in_the_eu_is_taxed_as_a_consumer():
    tax = determine(sale_to(country="HU"), RATE, SERVICE)
    assert (tax.category, tax.rate) == (TaxCategory.STANDARD, Decimal(27))


def test_an_invalid_vat_id_does_not_earn_the_reverse_charge():
    tax = determine(sale_to(country="FR", vat_id="FR40303265046"), RATE, SERVICE)
    assert (tax.category, tax.rate) == (TaxCategory.STANDARD, Decimal(20))


def test_a_vat_id_of_another_member_state_does_not_earn_the_reverse_charge():
    tax = determine(sale_to(country="AT", vat_id=FR_VAT), RATE, SERVICE)
    assert (tax.category, tax.rate) == (TaxCategory.STANDARD, Decimal(20))


def test_a_reduced_rate_product_is_not_sold_to_an_eu_consumer_abroad():
    with pytest.raises(ValueError, match="reduced"):
        determine(sale_to(country="FR", kind="consumer"), Decimal(7), GOOD)


@pytest.mark.parametrize(("kind", "note"), [(GOOD, EXPORT_GOODS), (SERVICE, EXPORT_SERVICES)])
@pytest.mark.parametrize("who", ["business", "consumer"])
def test_outside_the_eu_is_an_export_at_zero(kind, note, who):
    tax = determine(sale_to(country="US", kind=who), RATE, kind)
    assert (tax.category, tax.rate, tax.note) == (TaxCategory.EXPORT, Decimal(0), note)
    assert "Article 146" in EXPORT_GOODS


def test_greece_is_gr_in_the_rate_table_and_el_in_its_vat_ids():
    tax = determine(sale_to(country="GR", vat_id="EL094259216"), RATE, SERVICE)
    assert tax.category is TaxCategory.REVERSE_CHARGE
    assert EU_STANDARD_RATES["GR"] == Decimal(24) and len(EU_STANDARD_RATES) == 27


def test_a_quote_is_priced_at_the_determined_rate():
    entry = PriceBookEntry(
        sku="A", name="A", kind=GOOD, unit_price=Decimal("100.00"), currency="EUR", tax_rate=RATE
    )
    quote = quote_of(PriceBook(entries=[entry]), sale_to(country="FR", kind="consumer"))
    (line,) = quote.lines
    assert (line.tax_category, line.tax_rate, line.tax) == ("S", Decimal(20), Decimal("20.00"))
    export = quote_of(PriceBook(entries=[entry]), sale_to(country="CH"))
    assert (export.tax_total, export.lines[0].tax_category) == (Decimal(0), TaxCategory.EXPORT)


def test_a_quote_that_no_rule_can_tax_names_its_line():
    entry = PriceBookEntry(
        sku="BOOK",
        name="B",
        kind=GOOD,
        unit_price=Decimal("10.00"),
        currency="EUR",
        tax_rate=Decimal(7),
    )
    with pytest.raises(QuoteInvalid) as refused:
        quote_of(PriceBook(entries=[entry]), sale_to(country="FR", kind="consumer"))
    assert refused.value.field == ("lines", 0, "sku")


def test_a_stored_line_without_a_category_reads_as_its_rate_says():
    line = {
        "sku": "A",
        "name": "A",
        "kind": "good",
        "quantity": "1",
        "unit_price": "1",
        "discount_pct": "0",
        "gross": "1",
        "discount": "0",
        "net": "1",
        "tax": "0",
        "total": "1",
    }
    assert QuoteLine.model_validate({**line, "tax_rate": "20"}).tax_category == "S"
    assert QuoteLine.model_validate({**line, "tax_rate": "0"}).tax_category == "Z"


def test_the_breakdown_sums_per_category_and_rate_with_its_notes():
    quote = quote_of(
        PriceBook(
            entries=[
                PriceBookEntry(
                    sku=s,
                    name=s,
                    kind=k,
                    unit_price=Decimal("10.00"),
                    currency="EUR",
                    tax_rate=RATE,
                )
                for s, k in (("A", GOOD), ("B", SERVICE))
            ]
        ),
        sale_to(country="FR", vat_id=FR_VAT),
    )
    (group,) = breakdown(quote.lines)
    assert (group.category, group.base, group.tax) == ("AE", Decimal("20.00"), Decimal(0))
    assert group.note == f"{REVERSE_CHARGE_GOODS}; {REVERSE_CHARGE_SERVICES}"


def test_a_credit_is_taken_back_from_each_category_by_its_rate():
    invoice = invoice_of({"A": ("100.00", "20"), "B": ("100.00", "0")})
    parts = credit_by_category(invoice, Decimal("110.00"))
    assert [(p.rate, p.base, p.tax) for p in parts] == [
        (Decimal(20), Decimal("50.00"), Decimal("10.00")),
        (Decimal(0), Decimal("50.00"), Decimal(0)),
    ]
    assert split_credit(invoice, Decimal("110.00")) == (Decimal("100.00"), Decimal("10.00"))


def test_a_one_rate_credit_splits_as_before_in_the_invoices_proportion():
    invoice = invoice_of({"A": ("33.33", "19")})
    assert split_credit(invoice, Decimal("10.00")) == (Decimal("8.40"), Decimal("1.60"))


# --- VAT ids, IBANs, the seller ---


def test_a_vat_id_is_kept_compact_and_checked_against_the_country():
    details = apply_details(
        CustomerDetails(), CustomerDetailsIn(country="FR", vat_id="FR 403 032 650 45")
    )
    assert details.vat_id == FR_VAT
    for country, vat_id in (("FR", "FR40303265046"), ("DE", FR_VAT)):
        with pytest.raises(InvalidInput) as refused:
            apply_details(CustomerDetails(), CustomerDetailsIn(country=country, vat_id=vat_id))
        assert refused.value.field == ("vat_id",)


def test_a_change_of_country_is_checked_against_the_vat_id_kept():
    details = apply_details(CustomerDetails(), CustomerDetailsIn(country="FR", vat_id=FR_VAT))
    with pytest.raises(InvalidInput):
        apply_details(details, CustomerDetailsIn(country="IT"))


def test_a_consumer_has_no_vat_id():
    with pytest.raises(InvalidInput) as refused:
        apply_details(
            CustomerDetails(),
            CustomerDetailsIn(country="FR", vat_id=FR_VAT, kind=CustomerKind.CONSUMER),
        )
    assert refused.value.field == ("vat_id",)


def test_a_vat_id_outside_the_eu_is_kept_as_given():
    change = CustomerDetailsIn(country="CH", vat_id="CHE-116.281.710 MWST")
    assert apply_details(CustomerDetails(), change).vat_id == "CHE-116.281.710 MWST"


def test_the_seller_profile_is_checked_and_its_bic_found_from_the_iban():
    seller = SellerProfile(
        name="S",
        address="A",
        country="DE",
        vat_id="DE 136695976",
        iban="DE89 3704 0044 0532 0130 00",
    )
    assert (seller.vat_id, seller.iban, seller.bic) == (
        "DE136695976",
        "DE89370400440532013000",
        "COBADEFFXXX",
    )
    for bad in ({"iban": "DE89370400440532013001"}, {"vat_id": "DE136695977"}, {"country": "CH"}):
        with pytest.raises(ValidationError):
            SellerProfile.model_validate(
                {
                    "name": "S",
                    "address": "A",
                    "country": "DE",
                    "vat_id": "DE136695976",
                    "iban": "DE89370400440532013000",
                    **bad,
                }
            )
