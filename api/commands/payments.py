"""Money in and given up: payments (idempotent by bank reference), credit notes and
write-offs, each sent to the invoice's collection workflow."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from domain.access import Action
from domain.errors import NotFound, PaymentRefused
from domain.invoices import (
    CreditNote,
    CreditNoteIn,
    Invoice,
    InvoiceStatus,
    PaymentIn,
    check_credit,
    check_payment,
    check_repeat,
)
from domain.users import Actor
from workflows.invoice import (
    CreditNoteCommand,
    InvoiceWorkflow,
    PaymentCommand,
    WriteOffCommand,
)

from ..schemas import PaymentOut
from ..services import Services
from .authorization import authorize
from .invoices import INVOICE_NOT_FOUND

# A key for the credit note, the same for every retry of one request (Idempotency-Key).
RequestKeys = Callable[[str], str]


class WriteOffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


def record_payment(services: Services, user: Actor, body: PaymentIn) -> PaymentOut:
    """The same payment again (same `reference`) answers as the first time."""
    authorize(user, Action.RECORD_PAYMENT)
    views = services.views.invoices
    earlier = views.payment(body.reference)
    if earlier is not None:
        check_repeat(earlier, body)
    found = views.get(body.invoice_number)
    if found is None:
        raise PaymentRefused("no such invoice", field=("invoice_number",))
    if earlier is None:
        check_payment(found.invoice, body)
        invoice = services.temporal.update_invoice(
            body.invoice_number,
            InvoiceWorkflow.record_payment,
            PaymentCommand(payment=body, actor=user),
        )
        if invoice.status is not InvoiceStatus.OPEN:  # the deal may be won by it: show that
            services.temporal.deal_caught_up(invoice.deal_id)
    payment = views.payment(body.reference)
    after = views.get(body.invoice_number)
    assert payment is not None and after is not None
    return PaymentOut(payment=payment, invoice=after.invoice, balance=after.invoice.balance)


def issue_credit_note(
    services: Services, user: Actor, number: str, body: CreditNoteIn, request_keys: RequestKeys
) -> Callable[[], CreditNote]:
    """Check now; the returned call issues the note (once per Idempotency-Key). It takes
    back part or all of what the invoice still asks."""
    authorize(user, Action.ISSUE_CREDIT_NOTE)
    found = services.views.invoices.get(number)
    if found is None:
        raise NotFound(INVOICE_NOT_FOUND)
    check_credit(found.invoice, body.amount)

    def issue() -> CreditNote:
        return services.temporal.update_invoice(
            number,
            InvoiceWorkflow.issue_credit_note,
            CreditNoteCommand(body=body, actor=user, request_key=request_keys(number)),
        )

    return issue


def write_off(services: Services, user: Actor, number: str, body: WriteOffIn) -> Invoice:
    """Finance gives up on what an invoice still asks, before dunning runs its course."""
    authorize(user, Action.WRITE_OFF)
    if services.views.invoices.get(number) is None:
        raise NotFound(INVOICE_NOT_FOUND)
    return services.temporal.update_invoice(
        number, InvoiceWorkflow.write_off_now, WriteOffCommand(reason=body.reason, actor=user)
    )
