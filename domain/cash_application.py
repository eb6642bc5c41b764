"""Cash application: which invoice a bank statement line pays, how much of it, and what is
left over as the customer's credit (docs/cash.md). Pure: the storage reads the invoices and
customers a statement names, these rules decide, the storage writes what they decided."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .customers import company_key
from .errors import InvalidInput, PaymentRefused
from .invoices import InvoiceStatus
from .money import MINOR_UNITS, ExactDecimal, has_minor_precision

# A bank's line reference as a payment reference (domain.invoices.PaymentIn); room is left
# for the suffix of a line that pays several invoices (`payment_reference`).
BankRef = Annotated[str, Field(min_length=1, max_length=90, pattern=r"^[\x21-\x7e][\x20-\x7e]*$")]
Amount = Annotated[ExactDecimal, Field(ge=0, le=10**12)]

# `INV-2026-000123` as payers write it: `inv 2026 000123`, `INV2026/000123`.
_INVOICE_NUMBER = re.compile(r"\bINV[\s\-/]?(\d{4})[\s\-/]?(\d{6})\b", re.IGNORECASE)


class StatementInvalid(InvalidInput):
    """A statement file that cannot be read; `field` names the line and value at fault."""


class Direction(StrEnum):
    CREDIT = "credit"  # money in
    DEBIT = "debit"  # money out


class LineStatus(StrEnum):
    MATCHED = "matched"
    UNMATCHED = "unmatched"
    IGNORED = "ignored"


class StatementLine(BaseModel):
    """One booked entry of a statement. `amount` is what the account was credited (or
    debited); `fee` what the bank kept of the payer's transfer, so the payer paid `gross`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n: int = Field(ge=1)  # 1-based position in the statement
    booking_date: date
    amount: Amount
    fee: Amount = Decimal(0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")  # any ISO 4217 code the bank books in
    direction: Direction
    reversal: bool = False  # the bank takes back an earlier entry
    reference: str = Field(default="", max_length=1000)
    counterparty: str = Field(default="", max_length=200)
    bank_ref: BankRef

    @property
    def gross(self) -> Decimal:
        return self.amount + self.fee


class ParsedStatement(BaseModel):
    """A statement file read: its identity (`key`: the same statement imported twice is one)
    and its lines in order."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1, max_length=200)
    format: Literal["camt.053", "csv"]
    account: str | None = None  # the IBAN, where the file names one
    lines: list[StatementLine] = Field(min_length=1, max_length=5000)


class Allocation(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_number: str
    amount: Decimal


class Decision(BaseModel):
    """What a line does: pays these invoices, leaves `credit` to the customer; or waits
    for finance (unmatched); or is none of cash application's business (ignored)."""

    model_config = ConfigDict(frozen=True)

    status: LineStatus
    reason: str
    customer_id: str | None = None
    invoice_number: str | None = None  # the (first) invoice the line was matched to
    allocations: list[Allocation] = []  # what it pays, each more than nothing
    credit: Decimal = Decimal(0)
    repeats: bool = False  # the bank reference was booked before: this line never is


class OpenItem(BaseModel):
    """An invoice as cash application sees it."""

    model_config = ConfigDict(frozen=True)

    number: str
    customer_id: str
    currency: str
    balance: Decimal
    status: InvoiceStatus
    due_date: datetime


class Book(BaseModel):
    """What a statement's lines are matched against: the invoices they name, the open ones
    of the customers they come from (by company key), and the references seen before."""

    invoices: dict[str, OpenItem] = {}
    customers: dict[str, str] = {}  # company key -> customer id
    seen: dict[str, str] = {}  # bank ref -> where it was seen ("statement S line n", ...)


def invoice_numbers(reference: str) -> list[str]:
    """The invoice numbers a remittance text names, in its order, each once."""
    found = [f"INV-{y}-{n}" for y, n in _INVOICE_NUMBER.findall(reference)]
    return list(dict.fromkeys(found))


def payment_reference(bank_ref: str, index: int) -> str:
    """The payment's reference for a line's `index`-th allocation: the bank's own for the
    first, so a line is one payment by the bank's reference wherever it can be."""
    return bank_ref if index == 0 else f"{bank_ref}#{index + 1}"


def decide_all(lines: list[StatementLine], book: Book) -> list[Decision]:
    """Each line in order; what a line pays lowers the balance the next lines see."""
    decisions = []
    for line in lines:
        decision = decide(line, book)
        decisions.append(decision)
        if line.bank_ref not in book.seen:
            book.seen[line.bank_ref] = f"line {line.n}"
        for a in decision.allocations:
            item = book.invoices[a.invoice_number]
            book.invoices[a.invoice_number] = item.model_copy(
                update={"balance": item.balance - a.amount}
            )
    return decisions


def decide(line: StatementLine, book: Book) -> Decision:
    """Money out is ignored, and so is a reference seen before or a currency never invoiced
    in; then the invoice numbers in the reference; else the customer's one open invoice of
    exactly the amount; else finance decides (unmatched)."""
    if line.direction is Direction.DEBIT or line.reversal:
        return _ignored("money out or a reversal: not a customer's payment")
    if line.bank_ref in book.seen:
        return Decision(
            status=LineStatus.IGNORED,
            reason=f"repeats {book.seen[line.bank_ref]}: booked once",
            repeats=True,
        )
    if line.currency not in MINOR_UNITS:
        return _ignored(f"{line.currency} is not a currency l2c invoices in")
    if not has_minor_precision(line.gross, line.currency):
        return _unmatched(f"more decimals than {line.currency} has")
    named = [book.invoices[n] for n in invoice_numbers(line.reference) if n in book.invoices]
    if named:
        return _by_numbers(line, named)
    return _by_customer_and_amount(line, book)


def _by_numbers(line: StatementLine, named: list[OpenItem]) -> Decision:
    """Pay the named invoices in the order named, each up to its balance; what is left
    is the customer's credit."""
    currencies = {item.currency for item in named}
    if currencies != {line.currency}:
        return _unmatched(f"names invoices in {', '.join(sorted(currencies))}")
    customers = {item.customer_id for item in named}
    if len(customers) > 1:
        return _unmatched("names invoices of several customers")
    allocations, left = allocate(line.gross, named)
    how = ", ".join(item.number for item in named)
    return Decision(
        status=LineStatus.MATCHED,
        reason=f"invoice number in the reference: {how}",
        customer_id=named[0].customer_id,
        invoice_number=named[0].number,
        allocations=allocations,
        credit=left,
    )


def _by_customer_and_amount(line: StatementLine, book: Book) -> Decision:
    customer_id = book.customers.get(company_key(line.counterparty)) if line.counterparty else None
    if customer_id is None:
        return _unmatched("no invoice number in the reference and no known customer")
    exact = [
        item
        for item in book.invoices.values()
        if item.customer_id == customer_id
        and item.status is InvoiceStatus.OPEN
        and item.currency == line.currency
        and item.balance == line.gross
    ]
    if len(exact) != 1:
        many = "several open invoices" if exact else "no open invoice"
        return _unmatched(f"{many} of the customer for exactly {line.gross} {line.currency}")
    return Decision(
        status=LineStatus.MATCHED,
        reason="the customer's one open invoice of exactly the amount",
        customer_id=customer_id,
        invoice_number=exact[0].number,
        allocations=[Allocation(invoice_number=exact[0].number, amount=line.gross)],
    )


def decide_by_hand(line: StatementLine, invoice: OpenItem) -> Decision:
    """Finance names the invoice an unmatched line pays: up to its balance, the rest is
    the customer's credit. Refused in another currency."""
    if invoice.currency != line.currency:
        raise PaymentRefused(
            f"invoice {invoice.number} is in {invoice.currency}, the line in {line.currency}",
            field=("invoice_number",),
        )
    allocations, left = allocate(line.gross, [invoice])
    return Decision(
        status=LineStatus.MATCHED,
        reason=f"matched by hand to {invoice.number}",
        customer_id=invoice.customer_id,
        invoice_number=invoice.number,
        allocations=allocations,
        credit=left,
    )


def allocate(amount: Decimal, items: list[OpenItem]) -> tuple[list[Allocation], Decimal]:
    """`amount` over the open `items` in order, each up to its balance; and what is left."""
    allocations = []
    for item in items:
        share = min(amount, item.balance) if item.status is InvoiceStatus.OPEN else Decimal(0)
        if share > 0:
            allocations.append(Allocation(invoice_number=item.number, amount=share))
            amount -= share
    return allocations, amount


def _ignored(reason: str) -> Decision:
    return Decision(status=LineStatus.IGNORED, reason=reason)


def _unmatched(reason: str) -> Decision:
    return Decision(status=LineStatus.UNMATCHED, reason=reason)
