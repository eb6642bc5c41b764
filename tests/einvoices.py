"""Three e-invoices of the kinds l2c issues: domestic, intra-EU reverse charge, export."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.einvoice import EInvoice, Line, Party, Seller, TaxSubtotal
from domain.tax import SellerProfile, TaxCategory

# The seller as the settings give it (config.py): what stored invoices are mapped with.
PROFILE = SellerProfile(
    name="l2c Demo GmbH",
    address="Musterstraße 1, 10115 Berlin",
    country="DE",
    vat_id="DE136695976",
    iban="DE89370400440532013000",
)
SELLER = Seller(
    party=Party(
        name="l2c Demo GmbH",
        address="Musterstraße 1",
        postcode="10115",
        city="Berlin",
        country="DE",
        vat_id="DE123456789",
    ),
    iban="DE02120300000000202051",
    bic="BYLADEM1001",
)


def line(sku: str, quantity: str, unit_price: str, net: str, category: str, rate: str) -> Line:
    return Line(
        sku=sku,
        description=f"Product {sku}",
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        net=Decimal(net),
        category=TaxCategory(category),
        rate=Decimal(rate),
    )


def _invoice(number: str, currency: str, buyer: Party, lines: list[Line], **more: Any) -> EInvoice:
    fields: dict[str, Any] = {
        "number": number,
        "issued_on": date(2026, 11, 30),
        "due_date": date(2026, 12, 30),
        "delivered_on": date(2026, 11, 30),
        "currency": currency,
        "seller": SELLER.party,
        "buyer": buyer,
        "lines": lines,
        "payment_terms": "30 days net",
        "iban": SELLER.iban,
        "bic": SELLER.bic,
    }
    fields.update(more)
    return EInvoice.model_validate(fields)


def domestic() -> EInvoice:
    """German B2B at 19 % (S): a discounted line, a part already paid, the buyer's order."""
    buyer = Party(
        name="Kunde AG", address="Hauptstraße 5", postcode="80331", city="München", country="DE"
    )
    lines = [
        line("GW-100", "3", "349.90", "997.21", "S", "19"),  # 5 % off: 52.49
        line("ONBOARD", "1", "1500.00", "1500.00", "S", "19"),
    ]
    breakdown = [
        TaxSubtotal(category="S", rate=Decimal(19), base=Decimal("2497.21"), tax=Decimal("474.47"))
    ]
    return _invoice(
        "INV-2026-000001",
        "EUR",
        buyer,
        lines,
        tax_breakdown=breakdown,
        net_total=Decimal("2497.21"),
        tax_total=Decimal("474.47"),
        total=Decimal("2971.68"),
        paid=Decimal("500.00"),
        buyer_reference="PO-4711",
        quote_reference="Q-2026-0042",
    )


def reverse_charge() -> EInvoice:
    """To a Dutch business: VAT reverse-charged (AE), both VAT ids, the exemption reason."""
    buyer = Party(
        name="Klant BV",
        address="Damrak 1",
        postcode="1012 LG",
        city="Amsterdam",
        country="NL",
        vat_id="NL123456789B01",
    )
    breakdown = [
        TaxSubtotal(
            category="AE",
            rate=Decimal(0),
            base=Decimal("2000.00"),
            tax=Decimal("0.00"),
            note="Reverse charge: the recipient accounts for the VAT (Art. 196 VAT Directive)",
        )
    ]
    return _invoice(
        "INV-2026-000002",
        "EUR",
        buyer,
        [line("GW-100", "4", "500.00", "2000.00", "AE", "0")],
        tax_breakdown=breakdown,
        net_total=Decimal("2000.00"),
        tax_total=Decimal("0.00"),
        total=Decimal("2000.00"),
    )


def export() -> EInvoice:
    """To a US business in dollars: an export outside the EU (G), VAT 0."""
    buyer = Party(
        name="Customer Inc.",
        address="1 Main Street",
        postcode="10001",
        city="New York",
        country="US",
    )
    breakdown = [
        TaxSubtotal(category="G", rate=Decimal(0), base=Decimal("1200.00"), tax=Decimal("0.00"))
    ]
    return _invoice(
        "INV-2026-000003",
        "USD",
        buyer,
        [line("SUPPORT", "12", "100.00", "1200.00", "G", "0")],
        tax_breakdown=breakdown,
        net_total=Decimal("1200.00"),
        tax_total=Decimal("0.00"),
        total=Decimal("1200.00"),
    )
