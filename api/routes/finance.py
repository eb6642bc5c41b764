"""Invoices, payments and the ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from adapters.finance.ledger import read_trial_balance
from domain.access import Action, can
from domain.errors import Conflict, NotFound, PaymentRefused
from domain.invoices import Invoice, InvoiceStatus, PaymentIn, check_payment
from domain.ledger import TrialBalance
from workflows.invoice import InvoiceWorkflow, PaymentCommand

from ..deps import CurrentUser, ServicesDep, require
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
        same = (earlier.invoice_number, earlier.amount, earlier.currency) == (
            body.invoice_number,
            body.amount,
            body.currency,
        )
        if not same:
            raise Conflict(f"reference {body.reference} was used for another payment")
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


@router.get("/ledger/trial-balance")
def trial_balance(user: CurrentUser, services: ServicesDep) -> TrialBalance:
    require(user, Action.VIEW_LEDGER)
    return read_trial_balance(services.engine)
