"""Activities that move money: invoices, payments, credit notes, write-offs, revenue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import activity

from domain.billing import InvoiceDraft
from domain.invoices import CreditNote, Invoice, Payment
from domain.messages import EmailRequest

from .errors import refusals_are_final

if TYPE_CHECKING:
    from adapters.email.outbox import Outbox
    from adapters.finance.invoices import InvoiceBook


class IssueInvoice(BaseModel):
    deal_id: str
    draft: InvoiceDraft
    issued_at: datetime
    day: timedelta


class WriteOff(BaseModel):
    number: str
    at: datetime
    actor: str
    reason: str


class IssueCreditNote(BaseModel):
    number: str
    amount: Decimal
    reason: str
    at: datetime
    actor: str
    request_key: str
    # What a signed change order takes back was never earned: the deal's revenue was
    # reallocated to the changed contract, so it all comes out of deferred revenue.
    unearned: bool = False


class CreditNoteIssued(BaseModel):
    note: CreditNote
    invoice: Invoice


class CreditUndelivered(BaseModel):
    """A cancelled deal asks its invoice to take back what was billed and not delivered."""

    number: str
    reason: str
    at: datetime
    actor: str
    request_key: str


class UndeliveredCredited(BaseModel):
    note: CreditNote | None  # None: everything billed was delivered (or nothing is owed)
    invoice: Invoice


class RecognizeRevenue(BaseModel):
    deal_id: str
    key: str
    memo: str
    amount: Decimal
    currency: str
    at: datetime


class CloseCancelled(BaseModel):
    deal_id: str
    at: datetime


class PaymentCommit(BaseModel):
    """A payment and its receipt: one transaction."""

    payment: Payment
    receipt: EmailRequest


class FinanceActivities:
    def __init__(self, invoices: InvoiceBook, outbox: Outbox) -> None:
        self.invoices = invoices
        self.outbox = outbox

    @activity.defn(name="commit_payment")
    def commit_payment(self, cmd: PaymentCommit) -> Invoice:
        with refusals_are_final():
            invoice = self.invoices.record_payment(cmd.payment, self.outbox, cmd.receipt)
        self.outbox.wake.set()
        return invoice

    @activity.defn(name="queue_email")
    def queue_email(self, request: EmailRequest) -> None:
        """An e-mail on its own (a dunning letter), into the outbox."""
        with self.invoices.engine.begin() as conn:
            self.outbox.add(conn, request, datetime.now(UTC))
        self.outbox.wake.set()

    @activity.defn(name="issue_invoice")
    def issue_invoice(self, cmd: IssueInvoice) -> Invoice:
        with refusals_are_final():
            return self.invoices.issue(cmd.deal_id, cmd.draft, cmd.issued_at, cmd.day)

    @activity.defn(name="record_payment")
    def record_payment(self, payment: Payment) -> Invoice:
        with refusals_are_final():
            return self.invoices.record_payment(payment)

    @activity.defn(name="write_off_invoice")
    def write_off_invoice(self, cmd: WriteOff) -> Invoice:
        return self.invoices.write_off(cmd.number, cmd.at, cmd.actor, cmd.reason)

    @activity.defn(name="issue_credit_note")
    def issue_credit_note(self, cmd: IssueCreditNote) -> CreditNoteIssued:
        note, invoice = self.invoices.credit_note(
            cmd.number, cmd.amount, cmd.reason, cmd.at, cmd.actor, cmd.request_key, cmd.unearned
        )
        return CreditNoteIssued(note=note, invoice=invoice)

    @activity.defn(name="credit_undelivered")
    def credit_undelivered(self, cmd: CreditUndelivered) -> UndeliveredCredited:
        note, invoice = self.invoices.credit_undelivered(
            cmd.number, cmd.reason, cmd.at, cmd.actor, cmd.request_key
        )
        return UndeliveredCredited(note=note, invoice=invoice)

    @activity.defn(name="recognize_revenue")
    def recognize_revenue(self, cmd: RecognizeRevenue) -> None:
        self.invoices.recognize(cmd.deal_id, cmd.key, cmd.memo, cmd.amount, cmd.currency, cmd.at)

    @activity.defn(name="close_cancelled_deal")
    def close_cancelled_deal(self, cmd: CloseCancelled) -> None:
        self.invoices.close_cancelled(cmd.deal_id, cmd.at)
