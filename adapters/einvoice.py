"""The stored invoice as an EN 16931 e-invoice, and its PDF as Factur-X.

`einvoice_of` is the one place that maps what is stored to domain.einvoice's model;
`facturx_pdf` embeds the CII XML into the invoice PDF with the `factur-x` library
(PDF/A-3 metadata, the XML as `factur-x.xml`, profile EN16931).
"""

from __future__ import annotations

import re

from facturx import generate_from_binary

from domain.einvoice import EInvoice, Line, Party, TaxSubtotal
from domain.invoices import Invoice
from domain.tax import Party as TaxParty
from domain.tax import SellerProfile

from .storage.views.invoices import InvoiceCustomer

VAT_ID = re.compile(r"[A-Z]{2}[0-9A-Za-z+*.]{2,13}")


def einvoice_of(invoice: Invoice, customer: InvoiceCustomer, seller: SellerProfile) -> EInvoice:
    """The invoice as the e-invoice says it: its lines with their tax categories, the seller
    and buyer as the invoice was issued to them (invoices from before those snapshots: the
    seller's settings and the customer's name and country), its tax breakdown with the
    legal notes, terms, bank account and quote number."""
    lines = [
        Line(
            sku=line.sku,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            net=line.net,
            category=line.tax_category,
            rate=line.tax_rate,
        )
        for line in invoice.lines
    ]
    buyer = invoice.buyer or TaxParty(name=customer.name, country=customer.country)
    terms = invoice.payment_terms_days
    return EInvoice(
        number=invoice.number,
        issued_on=invoice.issued_at.date(),
        due_date=invoice.due_date.date(),
        # A delivery's invoice is issued in the delivery's own transaction.
        delivered_on=(
            invoice.issued_at.date() if invoice.billing_key.startswith("delivery:") else None
        ),
        currency=invoice.currency,
        seller=_party(invoice.seller or seller.party, seller.country),
        # A customer without a country is taken to be in the seller's (docs/tax.md).
        buyer=_party(buyer, seller.country),
        lines=lines,
        tax_breakdown=[
            TaxSubtotal(
                category=row.category,
                rate=row.rate,
                base=row.base,
                tax=row.tax,
                note=row.note,
            )
            for row in invoice.tax_breakdown
        ],
        net_total=invoice.net_total,
        tax_total=invoice.tax_total,
        total=invoice.total,
        paid=invoice.paid,
        payment_terms=f"Payable within {terms} days of the invoice date" if terms else None,
        iban=invoice.iban or seller.iban,
        bic=invoice.bic or seller.bic,
        quote_reference=invoice.quote_number,
    )


def _party(party: TaxParty, country: str) -> Party:
    """A stored party as CII names it; a VAT id that is not in the EN 16931 form (a country
    prefix, then letters and digits) is left out rather than failing the whole invoice."""
    vat_id = (party.vat_id or "").replace(" ", "").upper() or None
    if vat_id is not None and not VAT_ID.fullmatch(vat_id):
        vat_id = None
    return Party(
        name=party.name,
        address=party.address or "",
        country=party.country or country,
        vat_id=vat_id,
    )


def facturx_pdf(pdf: bytes, xml: bytes, seller: str, number: str) -> bytes:
    """`pdf` with `xml` embedded as Factur-X (PDF/A-3, profile EN16931).

    The XML is not checked here: every shape of it is validated against the official XSD
    and Schematron in the tests, and a check here would only turn a bug into a 500."""
    content: bytes = generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,
        pdf_metadata={
            "author": seller,
            "keywords": "Factur-X, Invoice",
            "title": f"{seller}: Invoice {number}",
            "subject": f"Factur-X invoice {number} issued by {seller}",
        },
        lang="en-GB",
    )
    return content
