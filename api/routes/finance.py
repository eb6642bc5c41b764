"""Invoices, payments and the ledger."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from adapters.finance.ledger import RevenueReport, read_revenue, read_trial_balance
from domain.access import Action, can
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
from domain.ledger import TrialBalance
from workflows.invoice import (
    CreditNoteCommand,
    InvoiceWorkflow,
    PaymentCommand,
    WriteOffCommand,
)

from ..deps import CurrentUser, ServicesDep, require
from ..idempotency import IdempotencyDep
from ..schemas import PaymentOut

router = APIRouter(tags=["finance"])


@router.get("/invoices")
def list_invoices(
    user: CurrentUser,
    services: ServicesDep,
    deal_id: str | None = None,
    customer_id: str | None = None,
    status: InvoiceStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Invoice]:
    require(user, Action.VIEW_INVOICES, user.username)  # reps: their own deals' invoices
    owner = None if can(user, Action.VIEW_INVOICES) else user.username
    return services.reads.invoices(
        deal_id=deal_id, customer_id=customer_id, status=status, owner=owner, limit=limit
    )


@router.get("/invoices/{number}.pdf", response_model=None)
def get_invoice_pdf(number: str, user: CurrentUser, services: ServicesDep) -> Response:
    found = services.reads.invoice(number)
    if found is None or not can(user, Action.VIEW_INVOICES, found[1]):
        raise NotFound("invoice not found")
    content = services.documents.invoice(number)
    assert content is not None
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
    )


@router.get("/invoices/{number}")
def get_invoice(number: str, user: CurrentUser, services: ServicesDep) -> Invoice:
    found = services.reads.invoice(number)
    if found is None or not can(user, Action.VIEW_INVOICES, found[1]):
        raise NotFound("invoice not found")
    return found[0]


@router.post("/payments", status_code=201)
def record_payment(body: PaymentIn, user: CurrentUser, services: ServicesDep) -> PaymentOut:
    """Idempotent by bank `reference`: the same payment again answers as the first time."""
    require(user, Action.RECORD_PAYMENT)
    earlier = services.reads.payment(body.reference)
    if earlier is not None:
        check_repeat(earlier, body)
    found = services.reads.invoice(body.invoice_number)
    if found is None:
        raise PaymentRefused("no such invoice", field=("invoice_number",))
    if earlier is None:
        check_payment(found[0], body)
        services.temporal.update_invoice(
            body.invoice_number,
            InvoiceWorkflow.record_payment,
            PaymentCommand(payment=body, actor=user),
        )
    payment = services.reads.payment(body.reference)
    invoice = services.reads.invoice(body.invoice_number)
    assert payment is not None and invoice is not None
    return PaymentOut(payment=payment, invoice=invoice[0], balance=invoice[0].balance)


@router.post("/invoices/{number}/credit-notes", status_code=201)
def issue_credit_note(
    number: str,
    body: CreditNoteIn,
    user: CurrentUser,
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Take back part or all of what an invoice still asks (Idempotency-Key: issued once)."""
    require(user, Action.RECORD_PAYMENT)
    found = services.reads.invoice(number)
    if found is None:
        raise NotFound("invoice not found")
    check_credit(found[0], body.amount)

    def issue() -> CreditNote:
        note: CreditNote = services.temporal.update_invoice(
            number,
            InvoiceWorkflow.issue_credit_note,
            CreditNoteCommand(body=body, actor=user, request_key=idempotency.derived_id(number)),
        )
        return note

    return idempotency.respond(body, 201, issue)


class WriteOffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/invoices/{number}/write-off")
def write_off(number: str, body: WriteOffIn, user: CurrentUser, services: ServicesDep) -> Invoice:
    """Finance gives up on what an invoice still asks, before dunning runs its course."""
    require(user, Action.RECORD_PAYMENT)
    if services.reads.invoice(number) is None:
        raise NotFound("invoice not found")
    invoice: Invoice = services.temporal.update_invoice(
        number, InvoiceWorkflow.write_off_now, WriteOffCommand(reason=body.reason, actor=user)
    )
    return invoice


@router.get("/revenue")
def revenue(
    user: CurrentUser,
    services: ServicesDep,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> RevenueReport:
    """Revenue recognized in the period, by month, and what is still deferred at its end."""
    require(user, Action.VIEW_LEDGER)
    return read_revenue(services.engine, from_, to)


@router.get("/ledger/trial-balance")
def trial_balance(user: CurrentUser, services: ServicesDep) -> TrialBalance:
    require(user, Action.VIEW_LEDGER)
    return read_trial_balance(services.engine)
