"""The EN 16931 e-invoice: an issued invoice as UN/CEFACT CII XML, Factur-X profile EN16931.

`EInvoice` says what the invoice says (the v2 invoice view: seller, buyer, lines with their
VAT category, the VAT breakdown, terms, bank account); `cii_xml` writes it with drafthorse.
The model refuses a document whose sums disagree (the BR-CO rules), so a served XML is
consistent by construction; the official XSD and Schematron check it in the tests
(tests/integration/test_einvoice_validation.py). Pure: no clock, no files, no network.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Annotated, Self

from drafthorse.models.accounting import ApplicableTradeTax, TradeAllowanceCharge
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration, TradeParty
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .money import Currency, exact, round_money
from .tax import TaxCategory

# BT-24: the Factur-X profile EN16931 (also known as COMFORT) is the bare CEN identifier.
EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"
COMMERCIAL_INVOICE = "380"  # UNTDID 1001
SEPA_CREDIT_TRANSFER = "58"  # UNTDID 4461
CREDIT_TRANSFER = "30"
UNIT_ONE = "C62"  # UN/ECE Rec 20: "one", for goods, services and subscriptions alike

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]


# What a zero-rate category must say about itself (BR-AE-10, BR-IC-10, BR-G-10, BR-O-10,
# BR-E-10): the VATEX code, and the standard text when the breakdown gives none. Exemptions
# have one code per legal ground, so an exempt row gives its ground in its note.
EXEMPTIONS: dict[TaxCategory, tuple[str | None, str]] = {
    TaxCategory.EXEMPT: (None, "Exempt from VAT"),
    TaxCategory.REVERSE_CHARGE: ("VATEX-EU-AE", "Reverse charge"),
    TaxCategory.INTRA_COMMUNITY: ("VATEX-EU-IC", "Intra-Community supply"),
    TaxCategory.EXPORT: ("VATEX-EU-G", "Export outside the EU"),
    TaxCategory.OUTSIDE_SCOPE: ("VATEX-EU-O", "Not subject to VAT"),
}
# Categories whose rate must be 0 (BR-AE-5, BR-IC-5, BR-G-5, BR-O-5, BR-Z-5, BR-E-5).
ZERO_RATE = {c for c in TaxCategory if c is not TaxCategory.STANDARD}


class Party(BaseModel):
    """Seller or buyer as the invoice names them (v2 `{name, address, country, vat_id}`).

    `address` is the street part, one line per line (at most three); postcode and city
    have fields of their own in CII, so they are given apart when known."""

    model_config = ConfigDict(frozen=True)

    name: Text
    address: str = Field(default="", max_length=500)
    postcode: str | None = Field(default=None, max_length=20)
    city: str | None = Field(default=None, max_length=100)
    country: CountryCode
    # BR-CO-9: a VAT identifier starts with the country's ISO 3166 code (Greece: EL).
    vat_id: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Za-z+*.]{2,13}$")


class Seller(BaseModel):
    """Who issues the invoices and where they are paid (from settings, config.py)."""

    model_config = ConfigDict(frozen=True)

    party: Party
    iban: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$")
    bic: str | None = Field(default=None, pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")


class Line(BaseModel):
    """One invoice line: net is what it adds to the invoice; quantity x unit price minus
    net, if anything, is shown as a line allowance (`allowance_reason`)."""

    model_config = ConfigDict(frozen=True)

    sku: Text
    description: Text
    quantity: Annotated[Decimal, Field(gt=0)]
    unit_price: Annotated[Decimal, Field(ge=0)]
    net: Decimal
    category: TaxCategory
    rate: Annotated[Decimal, Field(ge=0, le=100)]
    allowance_reason: Text = "Discount"


class TaxSubtotal(BaseModel):
    """One row of the VAT breakdown (BG-23): per category and rate, its base and tax."""

    model_config = ConfigDict(frozen=True)

    category: TaxCategory
    rate: Annotated[Decimal, Field(ge=0, le=100)]
    base: Decimal
    tax: Decimal
    note: str | None = Field(default=None, max_length=500)

    @property
    def exemption(self) -> tuple[str | None, str] | None:
        """(VATEX code if any, reason text) for a category that must give a reason."""
        found = EXEMPTIONS.get(self.category)
        if found is None:
            return None
        return found[0], self.note or found[1]


class EInvoice(BaseModel):
    """What an EN 16931 invoice says, built from the v2 invoice view."""

    model_config = ConfigDict(frozen=True)

    number: Text
    issued_on: date
    due_date: date | None = None
    delivered_on: date | None = None  # BT-72, when the invoice bills one delivery
    currency: Currency
    seller: Party
    buyer: Party
    lines: list[Line] = Field(min_length=1)
    tax_breakdown: list[TaxSubtotal] = Field(min_length=1)
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    paid: Decimal = Decimal(0)
    payment_terms: str | None = Field(default=None, max_length=500)
    iban: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$")
    bic: str | None = Field(default=None, pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")
    buyer_reference: str | None = Field(default=None, max_length=200)  # BT-10
    quote_reference: str | None = Field(default=None, max_length=200)  # BT-14
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """The sums EN 16931 checks (BR-CO-10, -14, -15, -16, BR-S/AE/G-8), checked first
        here, so a wrong invoice is a bug found when the document is made, not by a
        customer's validator."""
        if sum((line.net for line in self.lines), Decimal(0)) != self.net_total:
            raise ValueError("the lines' nets do not add up to net_total")
        if sum((t.tax for t in self.tax_breakdown), Decimal(0)) != self.tax_total:
            raise ValueError("the tax breakdown does not add up to tax_total")
        if self.net_total + self.tax_total != self.total:
            raise ValueError("net_total + tax_total is not total")
        if not Decimal(0) <= self.paid <= self.total:
            raise ValueError("paid must be between 0 and total")
        bases = {(t.category, t.rate): t.base for t in self.tax_breakdown}
        if len(bases) != len(self.tax_breakdown) or bases != _bases(self.lines):
            raise ValueError("the tax breakdown's bases are not the lines' nets by category")
        for category, rate in bases:
            if category in ZERO_RATE and rate != 0:
                raise ValueError(f"VAT category {category} has rate 0, not {rate}")
        return self


def _bases(lines: list[Line]) -> dict[tuple[TaxCategory, Decimal], Decimal]:
    bases: dict[tuple[TaxCategory, Decimal], Decimal] = defaultdict(Decimal)
    for line in lines:
        bases[(line.category, line.rate)] += line.net
    return dict(bases)


def breakdown_of(lines: list[Line], taxes: list[Decimal]) -> list[TaxSubtotal]:
    """The VAT breakdown of lines whose tax was rounded line by line (`taxes`, in order):
    per category and rate, the sum of nets and of taxes, so it adds up to the invoice."""
    rows: dict[tuple[TaxCategory, Decimal], tuple[Decimal, Decimal]] = {}
    for line, tax in zip(lines, taxes, strict=True):
        base, sum_tax = rows.get((line.category, line.rate), (Decimal(0), Decimal(0)))
        rows[(line.category, line.rate)] = (base + line.net, sum_tax + tax)
    return [
        TaxSubtotal(category=category, rate=rate, base=base, tax=tax)
        for (category, rate), (base, tax) in rows.items()
    ]


def cii_xml(doc: EInvoice) -> bytes:
    """The invoice as CII XML (UTF-8), Factur-X profile EN16931."""
    cii = Document()
    cii.context.guideline_parameter.id = EN16931_GUIDELINE
    cii.header.id = doc.number
    cii.header.type_code = COMMERCIAL_INVOICE
    cii.header.issue_date_time = doc.issued_on
    if doc.note:
        note = IncludedNote()
        note.content.add(doc.note)
        cii.header.notes.add(note)
    for number, line in enumerate(doc.lines, start=1):
        cii.trade.items.add(_line_item(number, line, doc.currency))
    _agreement(cii, doc)
    _delivery(cii, doc)
    _settlement(cii, doc)
    # No schema here (that would read files): tests validate against the official XSD.
    xml: bytes = cii.serialize(schema=None)
    return xml


def _money(amount: Decimal, currency: str) -> Decimal:
    """An amount at the currency's minor unit, in plain notation (never 1E+2)."""
    return Decimal(format(round_money(amount, currency), "f"))


def _plain(value: Decimal) -> Decimal:
    return Decimal(format(value.normalize(), "f"))


def _line_item(number: int, line: Line, currency: str) -> LineItem:
    item = LineItem()
    item.document.line_id = str(number)
    item.product.seller_assigned_id = line.sku
    item.product.name = line.description
    item.agreement.net.amount = _plain(line.unit_price)
    item.delivery.billed_quantity = (_plain(line.quantity), UNIT_ONE)
    item.settlement.trade_tax.type_code = "VAT"
    item.settlement.trade_tax.category_code = line.category.value
    item.settlement.trade_tax.rate_applicable_percent = _plain(line.rate)
    with exact():
        allowance = round_money(line.quantity * line.unit_price, currency) - line.net
    if allowance:
        adjustment = TradeAllowanceCharge()
        adjustment.indicator = allowance < 0  # a charge when the line costs more
        adjustment.actual_amount = _money(abs(allowance), currency)
        adjustment.reason = line.allowance_reason
        item.settlement.allowance_charge.add(adjustment)
    item.settlement.monetary_summation.total_amount = _money(line.net, currency)
    return item


def _party_into(target: TradeParty, party: Party, with_vat_id: bool = True) -> None:
    target.name = party.name
    address = target.address
    lines = [part.strip() for part in party.address.splitlines() if part.strip()]
    for field, text in zip(("line_one", "line_two", "line_three"), lines, strict=False):
        setattr(address, field, text)
    if party.postcode:
        address.postcode = party.postcode
    if party.city:
        address.city_name = party.city
    address.country_id = party.country
    if party.vat_id and with_vat_id:
        target.tax_registrations.add(TaxRegistration(id=("VA", party.vat_id)))


def _agreement(cii: Document, doc: EInvoice) -> None:
    agreement = cii.trade.agreement
    if doc.buyer_reference:
        agreement.buyer_reference = doc.buyer_reference
    _party_into(agreement.seller, doc.seller)
    _party_into(agreement.buyer, doc.buyer)
    if doc.quote_reference:
        agreement.seller_order.issuer_assigned_id = doc.quote_reference


def _delivery(cii: Document, doc: EInvoice) -> None:
    """Where and when the supply was made: to the buyer's address (the place of supply
    that decides reverse charge and export), on the delivery's date when one is billed."""
    delivery = cii.trade.delivery
    _party_into(delivery.ship_to, doc.buyer, with_vat_id=False)
    if doc.delivered_on:
        delivery.event.occurrence = doc.delivered_on


def _settlement(cii: Document, doc: EInvoice) -> None:
    settlement = cii.trade.settlement
    settlement.currency_code = doc.currency
    if doc.iban:
        means = PaymentMeans()
        means.type_code = SEPA_CREDIT_TRANSFER if _sepa(doc.iban) else CREDIT_TRANSFER
        means.payee_account.iban = doc.iban
        if doc.bic:
            means.payee_institution.bic = doc.bic
        settlement.payment_means.add(means)
    for row in doc.tax_breakdown:
        settlement.trade_tax.add(_tax(row, doc.currency))
    if doc.due_date or doc.payment_terms:
        terms = PaymentTerms()
        if doc.payment_terms:
            terms.description = doc.payment_terms
        if doc.due_date:
            terms.due = doc.due_date
        settlement.terms.add(terms)
    sums = settlement.monetary_summation
    sums.line_total = _money(doc.net_total, doc.currency)
    sums.tax_basis_total = (_money(doc.net_total, doc.currency), None)
    sums.tax_total = (_money(doc.tax_total, doc.currency), doc.currency)
    sums.grand_total = (_money(doc.total, doc.currency), None)
    if doc.paid:
        sums.prepaid_total = _money(doc.paid, doc.currency)
    sums.due_amount = _money(doc.total - doc.paid, doc.currency)


def _tax(row: TaxSubtotal, currency: str) -> ApplicableTradeTax:
    tax = ApplicableTradeTax()
    tax.calculated_amount = _money(row.tax, currency)
    tax.type_code = "VAT"
    exemption = row.exemption
    if exemption is not None:
        tax.exemption_reason = exemption[1]
    tax.basis_amount = _money(row.base, currency)
    tax.category_code = row.category.value
    if exemption is not None and exemption[0] is not None:
        tax.exemption_reason_code = exemption[0]
    tax.rate_applicable_percent = _plain(row.rate)
    return tax


# Countries of the Single Euro Payments Area, by IBAN prefix (credit transfer code 58).
_SEPA = set(
    [
        "AT",
        "BE",
        "BG",
        "CH",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GB",
        "GI",
        "GR",
        "HR",
        "HU",
        "IE",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MC",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "SM",
        "VA",
        "AD",
    ]
)


def _sepa(iban: str) -> bool:
    return iban[:2] in _SEPA
