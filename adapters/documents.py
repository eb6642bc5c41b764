"""Documents as PDF: the quote the customer receives and the invoices we send.

Rendered from the stored records with a fixed creation date, so the same record always
gives the same page. An invoice's PDF is Factur-X: its EN 16931 XML embedded (PDF/A-3),
the same XML that `GET /invoices/{number}.xml` serves; the Factur-X wrapper stamps the
time it was made in the file's metadata.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from schwifty import IBAN

from adapters.einvoice import einvoice_of, facturx_pdf
from adapters.storage.views import Views
from adapters.storage.views.invoices import InvoiceCustomer
from domain.einvoice import cii_xml
from domain.invoices import Invoice
from domain.messages import Attachment
from domain.quotes import Quote
from domain.tax import Party, SellerProfile

# DejaVu Sans (Debian's fonts-dejavu-core), embedded: PDF/A wants every font in the file,
# and the PDF core fonts are not. Where it is missing, the core fonts (Latin-1 only) and a
# plain PDF.
FONTS = Path("/usr/share/fonts/truetype/dejavu")
CORE_FONT = "Helvetica"


def _embeddable_fonts() -> tuple[Path, Path] | None:
    regular, bold = FONTS / "DejaVuSans.ttf", FONTS / "DejaVuSans-Bold.ttf"
    return (regular, bold) if regular.is_file() and bold.is_file() else None


class _Document(FPDF):
    def __init__(self, title: str, created: datetime, seller: str) -> None:
        fonts = _embeddable_fonts()
        super().__init__(format="A4", enforce_compliance="PDF/A-3B" if fonts else None)
        self.face = CORE_FONT
        if fonts is not None:
            self.add_font("DejaVu", "", fonts[0])
            self.add_font("DejaVu", "B", fonts[1])
            self.face = "DejaVu"
        self.set_creation_date(created)
        self.set_title(self.printable(title))
        self.set_author(self.printable(seller))
        self.set_auto_page_break(True, margin=15)
        self.add_page()
        self.set_font(self.face, "B", 16)
        self.cell(0, 10, self.printable(title), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.face, size=10)

    def printable(self, value: object) -> str:
        # The core fonts speak Latin-1; anything else prints as '?' rather than failing.
        if self.face != CORE_FONT:
            return str(value)
        return str(value).encode("latin-1", "replace").decode("latin-1")

    def line_of(self, text: str) -> None:
        self.cell(0, 6, self.printable(text), new_x="LMARGIN", new_y="NEXT")

    def rows(
        self, header: tuple[str, ...], rows: Iterable[tuple[object, ...]], widths: tuple[int, ...]
    ) -> None:
        self.set_font(self.face, size=8)
        align = ("LEFT", "LEFT", *["RIGHT"] * (len(header) - 2))
        with self.table(col_widths=widths, text_align=align) as table:
            table.row([self.printable(h) for h in header])
            for row in rows:
                table.row([self.printable(cell) for cell in row])
        self.set_font(self.face, size=10)


def quote_pdf(
    quote: Quote, deal_id: str, customer: str, contact: str, seller: SellerProfile
) -> bytes:
    doc = _Document(
        f"Quote {quote.number or f'{deal_id}/v{quote.version}'}", quote.issued_at, seller.name
    )
    doc.line_of(f"From: {seller.name}, {seller.address}, VAT id {seller.vat_id}")
    doc.line_of(f"To: {customer}, attn. {contact}")
    doc.line_of(f"Issued: {quote.issued_at:%Y-%m-%d}   Valid until: {quote.valid_until:%Y-%m-%d}")
    doc.ln(4)
    doc.rows(
        ("SKU", "Item", "Qty", "Unit price", "Discount", "Net", "Tax", "Total"),
        (
            (
                line.sku,
                line.name,
                line.quantity,
                line.unit_price,
                f"{line.discount} ({line.discount_pct} %)",
                line.net,
                f"{line.tax} ({line.tax_category} {line.tax_rate} %)",
                line.total,
            )
            for line in quote.lines
        ),
        (24, 40, 10, 20, 24, 20, 24, 22),
    )
    doc.ln(4)
    for label, amount in (
        ("Subtotal", quote.subtotal),
        ("Discount", quote.discount_total),
        ("Tax", quote.tax_total),
        ("Total", quote.total),
    ):
        doc.line_of(f"{label}: {amount} {quote.currency}")
    for note in dict.fromkeys(line.tax_note for line in quote.lines if line.tax_note):
        doc.multi_cell(0, 5, doc.printable(note), new_x="LMARGIN", new_y="NEXT")
    doc.ln(2)
    doc.line_of(
        f"Billing: {quote.billing_plan.kind.replace('_', ' ')}; "
        f"payment terms {quote.payment_terms_days} days"
    )
    return bytes(doc.output())


def _party(label: str, party: Party | None, fallback: str) -> list[str]:
    if party is None:
        return [f"{label}: {fallback}"]
    lines = [f"{label}: {party.name}"]
    if party.address:
        lines.append(f"    {party.address}" + (f" ({party.country})" if party.country else ""))
    elif party.country:
        lines.append(f"    {party.country}")
    if party.vat_id:
        lines.append(f"    VAT id: {party.vat_id}")
    return lines


def invoice_pdf(invoice: Invoice, customer: str, seller: SellerProfile) -> bytes:
    """Everything Article 226 Directive 2006/112/EC asks of an invoice: number, dates, both
    parties with addresses and VAT ids, lines, tax per rate/category with its legal note."""
    doc = _Document(f"Invoice {invoice.number}", invoice.issued_at, seller.name)
    for text in (
        *_party("From", invoice.seller or seller.party, seller.name),
        *_party("To", invoice.buyer, customer),
    ):
        doc.line_of(text)
    tax_point = invoice.tax_point_date or invoice.issued_at.date()
    doc.line_of(
        f"Invoice date: {invoice.issued_at:%Y-%m-%d}   Tax point: {tax_point:%Y-%m-%d}   "
        f"Due: {invoice.due_date:%Y-%m-%d}"
    )
    doc.line_of(f"Your quote: {invoice.quote_number or invoice.deal_id}")
    doc.ln(4)
    doc.rows(
        ("SKU", "Description", "Qty", "Unit price", "Net", "VAT", "Tax", "Total"),
        (
            (
                line.sku,
                line.description,
                line.quantity,
                line.unit_price,
                line.net,
                f"{line.tax_category} {line.tax_rate} %",
                line.tax,
                line.total,
            )
            for line in invoice.lines
        ),
        (22, 50, 10, 20, 20, 18, 20, 20),
    )
    doc.ln(2)
    doc.rows(
        ("VAT category", "Rate", "Base", "Tax"),
        ((g.category, f"{g.rate} %", g.base, g.tax) for g in invoice.tax_breakdown),
        (40, 30, 40, 40),
    )
    for group in invoice.tax_breakdown:
        if group.note:
            doc.multi_cell(
                0,
                5,
                doc.printable(f"{group.category}: {group.note}"),
                new_x="LMARGIN",
                new_y="NEXT",
            )
    doc.ln(2)
    for label, amount in (
        ("Net", invoice.net_total),
        ("Tax", invoice.tax_total),
        ("Total", invoice.total),
        ("Paid", invoice.paid),
        ("Credited", invoice.credited),
        ("Balance", invoice.balance),
    ):
        doc.line_of(f"{label}: {amount} {invoice.currency}")
    doc.ln(2)
    terms = invoice.payment_terms_days
    doc.line_of(
        (f"Payment terms: {terms} days net. " if terms is not None else "")
        + f"Please pay by {invoice.due_date:%Y-%m-%d} quoting {invoice.number}."
    )
    iban, bic = invoice.iban or seller.iban, invoice.bic or seller.bic
    doc.line_of(f"Bank: IBAN {IBAN(iban).formatted}" + (f", BIC {bic}" if bic else ""))
    return bytes(doc.output())


class Documents:
    """Finds a stored quote or invoice and renders it, for e-mails and downloads."""

    def __init__(self, views: Views, seller: SellerProfile) -> None:
        self.views = views
        self.seller = seller

    def quote(self, deal_id: str, version: int) -> bytes | None:
        state = self.views.deals.state(deal_id)
        if state is None:
            return None
        quote = next((q for q in state.quotes if q.version == version), None)
        if quote is None or state.customer is None:
            return None
        return quote_pdf(
            quote,
            deal_id,
            state.customer.name,
            str(state.contact.get("name")),
            self.seller,
        )

    def invoice(self, number: str) -> bytes | None:
        """The invoice's PDF, Factur-X: the page with its e-invoice embedded."""
        found = self._einvoice(number)
        if found is None:
            return None
        invoice, customer, xml = found
        page = invoice_pdf(invoice, customer.name, self.seller)
        return facturx_pdf(page, xml, self.seller.name, number)

    def invoice_xml(self, number: str) -> bytes | None:
        """The invoice as EN 16931 CII XML (Factur-X profile EN16931)."""
        found = self._einvoice(number)
        return None if found is None else found[2]

    def _einvoice(self, number: str) -> tuple[Invoice, InvoiceCustomer, bytes] | None:
        found = self.views.invoices.get(number)
        if found is None:
            return None
        customer = self.views.invoices.customer(number)
        return found.invoice, customer, cii_xml(einvoice_of(found.invoice, customer, self.seller))

    def attachment(self, ref: Attachment) -> tuple[str, bytes]:
        """The file an e-mail carries; a missing record is a bug, not a retry."""
        if ref.kind == "quote":
            assert ref.deal_id is not None and ref.version is not None
            content = self.quote(ref.deal_id, ref.version)
            name = f"quote-{ref.deal_id[:8]}-v{ref.version}.pdf"
        else:
            assert ref.number is not None
            content = self.invoice(ref.number)
            name = f"{ref.number}.pdf"
        if content is None:
            raise LookupError(f"nothing to attach for {ref}")
        return name, content
