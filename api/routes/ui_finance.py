"""Finance's invoice pages: the list (customer names, filters, paging, CSV export) and an
invoice with the forms that record a payment, issue a credit note or write it off.

Each form calls the command its JSON route in finance.py calls, with the same checks.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.storage.views.invoices import InvoiceFilter, ListedInvoice
from domain.access import Action, can
from domain.errors import NotAllowed
from domain.invoices import CreditNoteIn, InvoiceStatus, PaymentIn
from domain.kpis import AGING_BUCKETS

from ..commands import invoices as invoice_commands
from ..commands import payments
from ..commands.payments import WriteOffIn
from ..csv_export import Cell, csv_file
from ..deps import CURSOR_MAX_LENGTH, ServicesDep
from ..ui_auth import UiForm, UiUser
from .finance import pdf
from .ui import act, page, ui_router
from .ui_forms import PAGE_SIZE, checked
from .ui_reports import AGING_LABELS

router = ui_router()
# One credit note per rendered form, however often it is posted (a double click, a retry).
_FORM_KEYS = uuid.UUID("6f1d8c3e-6a8e-4c1b-9f53-0c2b7d3e9a41")
INVOICE_COLUMNS = (
    "number", "customer", "deal_id", "issued_at", "due_date", "currency",
    "net", "tax", "gross", "paid", "credited", "balance", "status",
)  # fmt: skip
EXPORT_LIMIT, EXPORT_PAGE = 10_000, 200
ShortText = Annotated[str, Form(max_length=2000)]


class InvoiceQuery(BaseModel):
    """The list's filters, as the page's query string carries them."""

    model_config = ConfigDict(extra="forbid")
    status: InvoiceStatus | None = None
    customer: str | None = Field(default=None, max_length=200)
    overdue: bool = False
    cursor: str | None = Field(default=None, max_length=CURSOR_MAX_LENGTH)

    @field_validator("status", "customer", mode="before")
    @classmethod
    def _any(cls, value: object) -> object:
        """An empty choice (the form's "any") filters nothing."""
        return None if value == "" else value

    def where(self) -> InvoiceFilter:
        today = datetime.now(UTC).date()
        return InvoiceFilter(
            status=self.status,
            customer_name=(self.customer or "").strip() or None,
            overdue_on=today if self.overdue else None,
        )

    def link(self, **change: Any) -> str:
        """This list's URL with some filters changed (empty ones left out)."""
        values = {**self.model_dump(exclude_defaults=True), **change}
        pairs = {k: v.value if hasattr(v, "value") else v for k, v in values.items() if v}
        return "?" + urlencode(pairs) if pairs else ""


Filters = Annotated[InvoiceQuery, Query()]


@router.get("/invoices")
def invoices(
    request: Request, session: UiUser, services: ServicesDep, filters: Filters
) -> HTMLResponse:
    """Finance sees every invoice (reps their own deals'); KPI readers also the AR aging."""
    user = session.user
    found = invoice_commands.invoice_listing(
        services, user, filters.where(), PAGE_SIZE, filters.cursor
    )
    context = {
        "invoices": found.items,
        "next_cursor": found.next_cursor,
        "filters": filters,
        "statuses": list(InvoiceStatus),
        "aging": invoice_commands.ar_aging(services, user, datetime.now(UTC).date()),
        "buckets": [(b, AGING_LABELS[b]) for b in AGING_BUCKETS],
    }
    return page(request, session, "back/invoices.html", context)


@router.get("/invoices/export.csv")
def export_invoices(session: UiUser, services: ServicesDep, filters: Filters) -> Response:
    """Every invoice the list's filters select (at most 10 000), one row each, newest first."""
    rows: list[list[Cell]] = []
    cursor: str | None = None
    while len(rows) < EXPORT_LIMIT:
        found = invoice_commands.invoice_listing(
            services, session.user, filters.where(), EXPORT_PAGE, cursor
        )
        rows += [_invoice_row(listed) for listed in found.items]
        cursor = found.next_cursor
        if cursor is None:
            break
    return csv_file("invoices", INVOICE_COLUMNS, rows[:EXPORT_LIMIT])


def _invoice_row(listed: ListedInvoice) -> list[Cell]:
    i = listed.invoice
    return [
        i.number, listed.customer_name, i.deal_id, i.issued_at, i.due_date.date(), i.currency,
        i.net_total, i.tax_total, i.total, i.paid, i.credited, i.balance, i.status,
    ]  # fmt: skip


@router.get("/ar-aging/export.csv")
def export_aging(session: UiUser, services: ServicesDep) -> Response:
    """Open balances by days past due, today: one row per currency."""
    aging = invoice_commands.ar_aging(services, session.user, datetime.now(UTC).date())
    if aging is None:
        raise NotAllowed("only managers, finance and admins read the AR aging")
    rows: list[list[Cell]] = [[c, *(b[k] for k in AGING_BUCKETS)] for c, b in sorted(aging.items())]
    return csv_file("ar-aging", ("currency", *AGING_BUCKETS), rows)


@router.get("/invoices/{number}.pdf")
def invoice_pdf(number: str, session: UiUser, services: ServicesDep) -> Response:
    return pdf(invoice_commands.invoice_pdf(services, session.user, number), number)


@router.get("/invoices/{number}")
def invoice_page(
    number: str, request: Request, session: UiUser, services: ServicesDep
) -> HTMLResponse:
    """The invoice, and for finance the forms that settle it."""
    user = session.user
    invoice = invoice_commands.invoice(services, user, number)
    context = {
        "invoice": invoice,
        "open": invoice.status is InvoiceStatus.OPEN and invoice.balance > 0,
        "may_pay": can(user, Action.RECORD_PAYMENT),
        "may_credit": can(user, Action.ISSUE_CREDIT_NOTE),
        "may_write_off": can(user, Action.WRITE_OFF),
        "form_key": secrets.token_hex(16),
        "today": datetime.now(UTC).date(),
    }
    return page(request, session, "back/invoice.html", context)


@router.post("/invoices/{number}/payments")
def record_payment(
    number: str,
    session: UiForm,
    services: ServicesDep,
    amount: Annotated[str, Form(max_length=40)],
    currency: Annotated[str, Form(max_length=3)],
    reference: Annotated[str, Form(max_length=100)],
) -> RedirectResponse:
    def command() -> str:
        paid = {"invoice_number": number, "amount": amount, "currency": currency}
        body = checked(PaymentIn, paid | {"reference": reference})
        done = payments.record_payment(services, session.user, body)
        return f"Payment {body.reference} recorded: {_left(done.balance, body.currency)}."

    return act(f"/ui/invoices/{number}", command)


@router.post("/invoices/{number}/credit-notes")
def issue_credit_note(
    number: str,
    session: UiForm,
    services: ServicesDep,
    amount: Annotated[str, Form(max_length=40)],
    reason: ShortText,
    form_key: Annotated[str, Form(min_length=16, max_length=64)],
) -> RedirectResponse:
    user = session.user

    def keys(part: str) -> str:
        return uuid.uuid5(_FORM_KEYS, f"{user.username}\x1f{form_key}\x1f{part}").hex

    def command() -> str:
        body = checked(CreditNoteIn, {"amount": amount, "reason": reason})
        note = payments.issue_credit_note(services, user, number, body, keys)()
        return f"Credit note {note.number} issued over {note.amount} {note.currency}."

    return act(f"/ui/invoices/{number}", command)


@router.post("/invoices/{number}/write-off")
def write_off(
    number: str, session: UiForm, services: ServicesDep, reason: ShortText
) -> RedirectResponse:
    def command() -> str:
        body = checked(WriteOffIn, {"reason": reason})
        invoice = payments.write_off(services, session.user, number, body)
        return f"Invoice {number} is {invoice.status.value.replace('_', ' ')}."

    return act(f"/ui/invoices/{number}", command)


def _left(balance: Decimal, currency: str) -> str:
    return "the invoice is paid" if balance == 0 else f"{balance} {currency} still open"
