"""Issued invoices and the payments against them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, computed_field

from .billing import InvoiceLine
from .errors import Conflict, PaymentRefused
from .money import (
    Currency,
    ExactDecimal,
    exact,
    has_minor_precision,
    minor_unit,
    round_money,
)
from .tax import Party, TaxBreakdownLine, breakdown, default_category


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    WRITTEN_OFF = "written_off"
    CREDITED = "credited"


class Invoice(BaseModel):
    """An issued invoice as shared/API.md v2 answers it, lines included: what the EN 16931
    e-invoice is made from. The parties, tax point, terms, bank details and quote number are
    as they stood at issue (None on invoices issued before they were kept)."""

    model_config = ConfigDict(frozen=True)

    number: str
    deal_id: str
    billing_key: str
    currency: str
    lines: list[InvoiceLine]
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    issued_at: datetime
    due_date: datetime
    paid: Decimal = Decimal(0)
    credited: Decimal = Decimal(0)
    status: InvoiceStatus = InvoiceStatus.OPEN
    customer_id: str | None = None
    seller: Party | None = None
    buyer: Party | None = None
    tax_point_date: date | None = None  # when the supply is taxed: the issue date (docs/tax.md)
    payment_terms_days: int | None = None
    iban: str | None = None
    bic: str | None = None
    quote_number: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def balance(self) -> Decimal:
        return self.total - self.paid - self.credited

    @computed_field  # type: ignore[prop-decorator]
    @property
    def subtotal(self) -> Decimal:
        """The sum of the lines' net amounts (EN 16931 BT-106)."""
        return self.net_total

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tax_breakdown(self) -> list[TaxBreakdownLine]:
        """Base and tax per category and rate, with the legal note each needs (BG-23)."""
        return breakdown(self.lines)


def settled_status(total: Decimal, paid: Decimal, credited: Decimal) -> InvoiceStatus:
    """Open while money is owed; paid once settled with any payment; credited if only
    credit notes settled it."""
    if paid + credited < total:
        return InvoiceStatus.OPEN
    return InvoiceStatus.PAID if paid > 0 or credited == 0 else InvoiceStatus.CREDITED


class PaymentIn(BaseModel):
    """A payment as finance records it (shared/API.md `POST /payments`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    invoice_number: str = Field(min_length=1, max_length=40)
    amount: Annotated[ExactDecimal, Field(gt=0, le=10**12)]
    currency: Currency
    reference: str = Field(min_length=1, max_length=100, pattern=r"^[\x21-\x7e][\x20-\x7e]*$")
    received_at: datetime | None = None


class Payment(BaseModel):
    model_config = ConfigDict(frozen=True)

    reference: str
    invoice_number: str
    deal_id: str
    amount: Decimal
    currency: str
    received_at: datetime
    recorded_at: datetime
    recorded_by: str


def check_repeat(earlier: Payment, payment: PaymentIn) -> None:
    """A bank reference names one payment: sent again it must say the same, or it's refused."""
    if (earlier.invoice_number, earlier.amount, earlier.currency) != (
        payment.invoice_number,
        payment.amount,
        payment.currency,
    ):
        raise Conflict(f"reference {payment.reference} was used for another payment")


def check_payment(invoice: Invoice, payment: PaymentIn) -> None:
    """Refuse another currency, sub-cent amounts and more than the open balance."""
    if payment.currency != invoice.currency:
        raise PaymentRefused(
            f"invoice {invoice.number} is in {invoice.currency}", field=("currency",)
        )
    if not has_minor_precision(payment.amount, payment.currency):
        raise PaymentRefused(f"more decimals than {payment.currency} has", field=("amount",))
    if invoice.status is not InvoiceStatus.OPEN:
        raise PaymentRefused(
            f"invoice {invoice.number} is {invoice.status}", field=("invoice_number",)
        )
    if payment.amount > invoice.balance:
        raise PaymentRefused(
            f"{payment.amount} is more than the open balance {invoice.balance}", field=("amount",)
        )


class CreditNoteIn(BaseModel):
    """A credit note against an invoice (shared/API.md `POST /invoices/{number}/credit-notes`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Annotated[ExactDecimal, Field(gt=0, le=10**12)]
    reason: str = Field(min_length=1, max_length=2000)


class CreditNote(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: str
    invoice_number: str
    deal_id: str
    currency: str
    amount: Decimal
    net: Decimal
    tax: Decimal
    reason: str
    issued_at: datetime
    issued_by: str
    tax_breakdown: list[TaxBreakdownLine] = Field(default_factory=list)  # what it takes back


def check_credit(invoice: Invoice, amount: Decimal) -> None:
    """A credit note may take back at most what is still owed, to the cent."""
    if not has_minor_precision(amount, invoice.currency):
        raise PaymentRefused(f"more decimals than {invoice.currency} has", field=("amount",))
    if invoice.status is not InvoiceStatus.OPEN:
        raise PaymentRefused(f"invoice {invoice.number} is {invoice.status}", field=("amount",))
    if amount > invoice.balance:
        raise PaymentRefused(
            f"{amount} is more than the open balance {invoice.balance}", field=("amount",)
        )


def split_credit(invoice: Invoice, amount: Decimal) -> tuple[Decimal, Decimal]:
    """The net and tax parts of a credit: the sums of `credit_by_category`."""
    parts = credit_by_category(invoice, amount)
    net = sum((p.base for p in parts), Decimal(0))
    return net, amount - net


def credit_by_category(invoice: Invoice, amount: Decimal) -> list[TaxBreakdownLine]:
    """A credit of `amount` (tax included) taken back from each category and rate of the
    invoice in proportion to its gross; in each, the net part by that rate (the tax takes
    the cent). The last category takes what is left, so the parts add up to `amount`."""
    groups = [g for g in _tax_groups(invoice) if g.gross != 0]
    parts: list[TaxBreakdownLine] = []
    left = amount
    for index, group in enumerate(groups):
        with exact():
            share = (
                left
                if index == len(groups) - 1
                else round_money(amount * group.gross / invoice.total, invoice.currency)
            )
            net = round_money(share * group.base / group.gross, invoice.currency)
        left -= share
        parts.append(group.model_copy(update={"base": net, "tax": share - net}))
    return parts


def _tax_groups(invoice: Invoice) -> list[TaxBreakdownLine]:
    """The invoice's breakdown; one group of its totals when its lines do not add up to
    them (an invoice known by its totals only)."""
    groups = invoice.tax_breakdown
    if (
        sum((g.base for g in groups), Decimal(0)),
        sum((g.tax for g in groups), Decimal(0)),
    ) == (invoice.net_total, invoice.tax_total):
        return groups
    with exact():
        rate = invoice.tax_total * 100 / invoice.net_total if invoice.net_total else Decimal(0)
    return [
        TaxBreakdownLine(
            category=default_category(invoice.tax_total),
            rate=round_money(rate, "EUR"),
            base=invoice.net_total,
            tax=invoice.tax_total,
        )
    ]


def credit_for_net(invoice: Invoice, net: Decimal, up_to: Decimal | None = None) -> Decimal:
    """The largest credit (tax included) whose net part, split as `split_credit` splits it,
    is at most `net`: what takes back `net` of unearned revenue with its tax. Never more
    than `up_to` (the open balance unless told); nothing for an invoice without net."""
    limit = invoice.balance if up_to is None else up_to
    if net <= 0 or invoice.net_total <= 0 or limit <= 0:
        return Decimal(0)
    cent = minor_unit(invoice.currency)
    with exact():
        amount = round_money(net * invoice.total / invoice.net_total, invoice.currency)
    amount = min(amount, limit)
    while amount > 0 and split_credit(invoice, amount)[0] > net:
        amount -= cent
    while amount < limit and split_credit(invoice, amount + cent)[0] <= net:
        amount += cent
    return max(amount, Decimal(0))


def undelivered_limit(invoice: Invoice) -> Decimal:
    """The most a credit for goods never delivered may take back of the invoice: all it
    billed and no credit note took back yet, paid or not; of a written-off invoice only
    what was paid (the balance was given up, its VAT relieved at the write-off)."""
    if invoice.status is InvoiceStatus.WRITTEN_OFF:
        return max(invoice.paid, Decimal(0))
    return max(invoice.total - invoice.credited, Decimal(0))


def owed_back(invoice: Invoice, credit: Decimal) -> Decimal:
    """The part of a credit the customer had already paid, so is owed back (its credit):
    beyond the open balance of an open invoice; all of it on a paid or written-off one."""
    if invoice.status is InvoiceStatus.OPEN:
        return max(credit - invoice.balance, Decimal(0))
    return credit


def credited_status(invoice: Invoice, paid: Decimal, credited: Decimal) -> InvoiceStatus:
    """After a credit note: a written-off invoice stays written off, others as settled."""
    if invoice.status is InvoiceStatus.WRITTEN_OFF:
        return invoice.status
    return settled_status(invoice.total, paid, credited)


def credit_exposure(invoices: list[Invoice], currency: str) -> Decimal:
    """What a customer owes in `currency`: the balances of its open invoices."""
    return sum(
        (i.balance for i in invoices if i.status is InvoiceStatus.OPEN and i.currency == currency),
        Decimal(0),
    )
