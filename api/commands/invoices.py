"""Invoices as finance, ops and owners read them (reps: their own deals' only)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from adapters.storage.views.invoices import InvoiceFilter, ListedInvoice
from adapters.storage.views.paging import Page
from domain.access import Action, can
from domain.errors import NotFound
from domain.invoices import Invoice
from domain.users import Actor

from ..services import Services
from .authorization import authorize

INVOICE_NOT_FOUND = "invoice not found"


def list_invoices(
    services: Services, user: Actor, where: InvoiceFilter, limit: int, cursor: str | None = None
) -> Page[Invoice]:
    """A page of invoices, newest first (reps: their own deals' only)."""
    found = invoice_listing(services, user, where, limit, cursor)
    return Page[Invoice](items=[i.invoice for i in found.items], next_cursor=found.next_cursor)


def invoice_listing(
    services: Services, user: Actor, where: InvoiceFilter, limit: int, cursor: str | None
) -> Page[ListedInvoice]:
    """A page of the invoice list with customer names (the UI's list and its export)."""
    authorize(user, Action.VIEW_INVOICES, user.username)  # reps: their own deals' invoices
    owner = None if can(user, Action.VIEW_INVOICES) else user.username
    return services.views.invoices.listing(where.model_copy(update={"owner": owner}), limit, cursor)


def invoice(services: Services, user: Actor, number: str) -> Invoice:
    found = services.views.invoices.get(number)
    if found is None or not can(user, Action.VIEW_INVOICES, found.owner):
        raise NotFound(INVOICE_NOT_FOUND)
    return found.invoice


def invoice_pdf(services: Services, user: Actor, number: str) -> bytes:
    invoice(services, user, number)
    content = services.documents.invoice(number)
    if content is None:
        raise NotFound(INVOICE_NOT_FOUND)
    return content


def invoice_xml(services: Services, user: Actor, number: str) -> bytes:
    """The EN 16931 e-invoice, for whoever may read the invoice."""
    invoice(services, user, number)
    content = services.documents.invoice_xml(number)
    if content is None:
        raise NotFound(INVOICE_NOT_FOUND)
    return content


def ar_aging(services: Services, user: Actor, on: date) -> dict[str, dict[str, Decimal]] | None:
    """Open receivables by days past due, for those who read KPIs (None for others)."""
    if not can(user, Action.VIEW_KPIS):
        return None
    return services.views.invoices.aging(on)
