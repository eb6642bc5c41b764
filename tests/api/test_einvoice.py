"""GET /invoices/{number}.xml: a real deal's invoice as EN 16931 CII, and its PDF as Factur-X."""

from __future__ import annotations

from decimal import Decimal

import pytest
from facturx import get_facturx_xml_from_pdf
from lxml import etree

from tests.api.test_tax import CASES, invoiced
from tests.en16931 import assert_valid
from tests.flows import quote_body, to_fulfilment

NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def delivered_invoice(live, as_user) -> tuple[str, str]:
    """A deal billed on delivery, delivered in full: (deal id, its one invoice's number)."""
    rep, manager = as_user("rep1"), as_user("manager")
    deal_id = to_fulfilment(live, rep, manager, quote_body())["deal_id"]
    delivered = as_user("ops").post(
        f"/deals/{deal_id}/deliveries",
        json={
            "reference": f"DN-{deal_id[:8]}",
            "lines": [{"sku": "GW-100", "quantity": "3"}, {"sku": "ONBOARD", "quantity": "1"}],
        },
    )
    assert delivered.status_code == 200, delivered.text
    (invoice,) = as_user("finance").every("/invoices", params={"deal_id": deal_id})
    return deal_id, str(invoice["number"])


def test_a_deals_invoice_is_a_valid_en16931_einvoice_and_its_pdf_embeds_it(live, as_user):
    _, number = delivered_invoice(live, as_user)
    finance = as_user("finance")
    invoice = finance.get(f"/invoices/{number}").json()

    response = finance.get(f"/invoices/{number}.xml")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/xml"
    xml = response.content
    assert_valid(xml)  # the Factur-X EN16931 XSD and the EN 16931 Schematron
    root = etree.fromstring(xml)
    assert root.findtext(".//{*}ExchangedDocument/ram:ID", namespaces=NS) == number
    assert Decimal(str(root.findtext(".//ram:GrandTotalAmount", namespaces=NS))) == Decimal(
        invoice["total"]
    )
    assert root.findtext(".//ram:InvoiceCurrencyCode", namespaces=NS) == invoice["currency"]

    pdf = finance.get(f"/invoices/{number}.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    filename, embedded = get_facturx_xml_from_pdf(pdf.content, check_xsd=True)
    assert (filename, embedded) == ("factur-x.xml", xml)


def test_the_xml_is_for_those_who_may_read_the_invoice(live, as_user):
    _, number = delivered_invoice(live, as_user)
    assert as_user("rep1").get(f"/invoices/{number}.xml").status_code == 200  # the owner
    assert as_user("rep2").get(f"/invoices/{number}.xml").status_code == 404
    assert as_user("finance").get("/invoices/INV-NONE.xml").status_code == 404
    assert as_user(None).get(f"/invoices/{number}.xml").status_code == 401


@pytest.mark.parametrize("case", list(CASES))
def test_each_tax_case_invoiced_through_a_deal_is_a_valid_einvoice(live, as_user, case):
    """Domestic, reverse charge, EU consumer and export, as the tax rules priced them: the
    XSD and the Schematron pass, with the category, both parties' VAT ids where they have
    them, the exemption reason where the rate is zero, and the quote number."""
    details, category, rate = CASES[case]
    _, quote, invoice = invoiced(live, as_user, details)
    xml = as_user("finance").get(f"/invoices/{invoice['number']}.xml").content
    assert_valid(xml)
    root = etree.fromstring(xml)
    taxes = root.findall(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)
    assert [t.findtext("ram:CategoryCode", namespaces=NS) for t in taxes] == [category]
    assert Decimal(str(taxes[0].findtext("ram:RateApplicablePercent", namespaces=NS))) == rate
    if rate == 0:
        assert taxes[0].findtext("ram:ExemptionReason", namespaces=NS)
    buyer_vat = root.findtext(
        ".//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS
    )
    assert buyer_vat == details.get("vat_id")
    reference = ".//ram:SellerOrderReferencedDocument/ram:IssuerAssignedID"
    assert (
        invoice["quote_number"]
        and root.findtext(reference, namespaces=NS) == invoice["quote_number"]
    )
