"""The e-invoice model refuses sums EN 16931 would refuse; the XML says what the model says.
(The official XSD and Schematron run in tests/integration/test_einvoice_validation.py.)"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from lxml import etree
from pydantic import ValidationError

from domain.einvoice import EInvoice, breakdown_of, cii_xml
from domain.tax import TaxCategory
from tests.einvoices import domestic, export, line, reverse_charge

NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def changed(doc: EInvoice, **update: Any) -> EInvoice:
    return EInvoice.model_validate({**doc.model_dump(), **update})


def text(xml: bytes, path: str) -> list[str]:
    return [str(e.text) for e in etree.fromstring(xml).iterfind(path, NS)]


@pytest.mark.parametrize(
    ("update", "why"),
    [
        ({"net_total": Decimal("2497.20")}, "nets do not add up"),
        ({"tax_total": Decimal("474.48")}, "breakdown does not add up"),
        ({"total": Decimal("2971.69")}, "is not total"),
        ({"paid": Decimal("3000.00")}, "paid must be"),
    ],
)
def test_sums_that_disagree_are_refused(update: dict[str, Any], why: str):
    with pytest.raises(ValidationError, match=why):
        changed(domestic(), **update)


def test_a_breakdown_whose_base_is_not_the_lines_nets_is_refused():
    doc = domestic().model_dump()
    doc["tax_breakdown"][0]["base"] = Decimal("2497.00")
    with pytest.raises(ValidationError, match="bases are not the lines"):
        EInvoice.model_validate(doc)


def test_reverse_charge_and_export_are_at_rate_zero():
    doc = reverse_charge().model_dump()
    doc["lines"][0]["rate"] = doc["tax_breakdown"][0]["rate"] = Decimal(19)
    with pytest.raises(ValidationError, match="AE has rate 0"):
        EInvoice.model_validate(doc)


def test_the_breakdown_adds_line_taxes_per_category_and_rate():
    lines = [
        line("A", "1", "10.00", "10.00", "S", "19"),
        line("B", "1", "10.00", "10.00", "S", "7"),
        line("C", "1", "10.05", "10.05", "S", "19"),
    ]
    rows = breakdown_of(lines, [Decimal("1.90"), Decimal("0.70"), Decimal("1.91")])
    assert [(r.category, r.rate, r.base, r.tax) for r in rows] == [
        (TaxCategory.STANDARD, Decimal(19), Decimal("20.05"), Decimal("3.81")),
        (TaxCategory.STANDARD, Decimal(7), Decimal("10.00"), Decimal("0.70")),
    ]


def test_a_discount_shows_as_a_line_allowance_so_the_line_adds_up():
    xml = cii_xml(domestic())
    assert text(
        xml,
        ".//ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:ActualAmount",
    ) == ["52.49"]  # 3 x 349.90 - 997.21
    assert text(
        xml, ".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"
    ) == ["997.21", "1500.00"]


def test_what_was_paid_is_taken_off_what_is_due():
    xml = cii_xml(domestic())
    assert text(xml, ".//ram:TotalPrepaidAmount") == ["500.00"]
    assert text(xml, ".//ram:DuePayableAmount") == ["2471.68"]


def test_amounts_are_written_at_the_currencys_minor_unit():
    doc = export()
    assert text(cii_xml(doc), ".//ram:GrandTotalAmount") == ["1200.00"]
    assert text(cii_xml(doc), ".//ram:InvoiceCurrencyCode") == ["USD"]


def test_the_seller_is_paid_by_sepa_credit_transfer_to_its_iban():
    xml = cii_xml(domestic())
    assert text(xml, ".//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["58"]
    assert text(xml, ".//ram:IBANID") == ["DE02120300000000202051"]
    assert text(xml, ".//ram:BICID") == ["BYLADEM1001"]


def test_the_buyer_reference_and_the_quote_number_are_on_the_invoice():
    xml = cii_xml(domestic())
    assert text(xml, ".//ram:BuyerReference") == ["PO-4711"]
    assert text(xml, ".//ram:SellerOrderReferencedDocument/ram:IssuerAssignedID") == ["Q-2026-0042"]
