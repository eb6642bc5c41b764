"""The stored invoice as an EN 16931 e-invoice, and its PDF as Factur-X.

`einvoice_of` is the one place that maps what is stored to domain.einvoice's model;
`facturx_pdf` embeds the CII XML into the invoice PDF with the `factur-x` library
(PDF/A-3 metadata, the XML as `factur-x.xml`, profile EN16931).
"""

from __future__ import annotations

from facturx import generate_from_binary

from domain.einvoice import (
    EInvoice,
    Line,
    Party,
    Seller,
    TaxCategory,
    breakdown_of,
)
from domain.invoices import Invoice

from .storage.views.invoices import InvoiceCustomer


def einvoice_of(invoice: Invoice, customer: InvoiceCustomer, seller: Seller) -> EInvoice:
    """The invoice as the e-invoice says it. `TODO(tax)` marks each value that the tax
    fields (invoice line categories, seller/buyer snapshots, breakdown, terms) replace."""
    lines = [
        Line(
            sku=line.sku,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            net=line.net,
            # TODO(tax): the line's own tax category; until then a rate says S, none Z.
            category=TaxCategory.STANDARD if line.tax_rate else TaxCategory.ZERO_RATED,
            rate=line.tax_rate,
        )
        for line in invoice.lines
    ]
    return EInvoice(
        number=invoice.number,
        issued_on=invoice.issued_at.date(),
        due_date=invoice.due_date.date(),
        # A delivery's invoice is issued in the delivery's own transaction.
        delivered_on=(
            invoice.issued_at.date() if invoice.billing_key.startswith("delivery:") else None
        ),
        currency=invoice.currency,
        seller=seller.party,  # TODO(tax): the invoice's seller snapshot
        # TODO(tax): the buyer snapshot (address, vat_id); a customer without a country
        # is taken to be in the seller's.
        buyer=Party(name=customer.name, country=customer.country or seller.party.country),
        lines=lines,
        # TODO(tax): the invoice's tax_breakdown (with its notes)
        tax_breakdown=breakdown_of(lines, [line.tax for line in invoice.lines]),
        net_total=invoice.net_total,
        tax_total=invoice.tax_total,
        total=invoice.total,
        paid=invoice.paid,
        payment_terms=None,  # TODO(tax): the payment terms' text
        iban=seller.iban,  # TODO(tax): the invoice's IBAN/BIC
        bic=seller.bic,
        quote_reference=None,  # TODO(tax): the human quote number
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
