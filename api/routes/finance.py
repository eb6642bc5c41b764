"""Invoices, payments and the ledger."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from adapters.finance.ledger import RevenueReport
from adapters.storage.views.invoices import InvoiceFilter
from adapters.storage.views.paging import Page
from domain.invoices import CreditNoteIn, Invoice, InvoiceStatus, PaymentIn
from domain.ledger import TrialBalance

from ..commands import invoices, payments, reports
from ..commands.payments import WriteOffIn
from ..deps import CurrentUser, PageCursor, PageLimit, ServicesDep
from ..idempotency import IdempotencyDep
from ..schemas import PaymentOut

router = APIRouter(tags=["finance"])


def pdf(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


@router.get("/invoices")
def list_invoices(
    user: CurrentUser,
    services: ServicesDep,
    deal_id: str | None = None,
    customer_id: str | None = None,
    status: InvoiceStatus | None = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Page[Invoice]:
    """Newest first; `next_cursor` asks for the page after this one."""
    where = InvoiceFilter(deal_id=deal_id, customer_id=customer_id, status=status)
    return invoices.list_invoices(services, user, where, limit, cursor)


@router.get("/invoices/{number}.pdf", response_model=None)
def get_invoice_pdf(number: str, user: CurrentUser, services: ServicesDep) -> Response:
    return pdf(invoices.invoice_pdf(services, user, number), number)


@router.get("/invoices/{number}.xml", response_model=None)
def get_invoice_xml(number: str, user: CurrentUser, services: ServicesDep) -> Response:
    """The EN 16931 invoice: UN/CEFACT CII XML, Factur-X profile EN16931."""
    return Response(
        invoices.invoice_xml(services, user, number),
        media_type="application/xml",
        headers={"Content-Disposition": f'inline; filename="{number}.xml"'},
    )


@router.get("/invoices/{number}")
def get_invoice(number: str, user: CurrentUser, services: ServicesDep) -> Invoice:
    return invoices.invoice(services, user, number)


@router.post("/payments", status_code=201)
def record_payment(body: PaymentIn, user: CurrentUser, services: ServicesDep) -> PaymentOut:
    """Idempotent by bank `reference`: the same payment again answers as the first time."""
    return payments.record_payment(services, user, body)


@router.post("/invoices/{number}/credit-notes", status_code=201)
def issue_credit_note(
    number: str,
    body: CreditNoteIn,
    user: CurrentUser,
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Take back part or all of what an invoice still asks (Idempotency-Key: issued once)."""
    issue = payments.issue_credit_note(services, user, number, body, idempotency.derived_id)
    return idempotency.respond(body, 201, issue)


@router.post("/invoices/{number}/write-off")
def write_off(number: str, body: WriteOffIn, user: CurrentUser, services: ServicesDep) -> Invoice:
    """Finance gives up on what an invoice still asks, before dunning runs its course."""
    return payments.write_off(services, user, number, body)


@router.get("/revenue")
def revenue(
    user: CurrentUser,
    services: ServicesDep,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> RevenueReport:
    """Revenue recognized in the period, by month, and what is still deferred at its end."""
    return reports.revenue(services, user, from_, to)


@router.get("/ledger/trial-balance")
def trial_balance(user: CurrentUser, services: ServicesDep) -> TrialBalance:
    return reports.trial_balance(services, user)
