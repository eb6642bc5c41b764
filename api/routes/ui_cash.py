"""Finance's cash pages: the bank statement queue (upload a statement, the lines waiting
for a hand match), a statement's lines, and a customer's credit terms and standing.

Each form calls the command its JSON route (bank.py, people.py) calls, with the same checks.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from adapters.bank import MAX_BYTES
from domain.access import Action, can
from domain.credit import CreditTermsIn
from domain.errors import DomainError

from ..commands import bank_statements, customers
from ..commands.bank_statements import MatchIn
from ..deps import ServicesDep
from ..ui_auth import UiForm, UiUser
from .ui import act, page, redirect, ui_router
from .ui_forms import checked
from .ui_nav import nav_entry

router = ui_router()
nav_entry("/ui/bank-statements", "Bank", order=50, action=Action.VIEW_LEDGER)
QUEUE = "/ui/bank-statements"


@router.get("/bank-statements")
def statement_queue(request: Request, session: UiUser, services: ServicesDep) -> HTMLResponse:
    """The upload form, and every line no invoice was found for, oldest first."""
    waiting = bank_statements.queue(services, session.user)
    may_import = can(session.user, Action.RECORD_PAYMENT)
    return page(request, session, "back/bank_queue.html", {"waiting": waiting, "may": may_import})


@router.post("/bank-statements")
def import_statement(
    session: UiForm,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="camt.053 XML, or CSV (docs/cash.md)")],
) -> RedirectResponse:
    """The imported statement's page, saying what became of its lines; a refused file stays
    on the queue's page with the reason."""
    try:
        done = bank_statements.import_statement(
            services, session.user, file.file.read(MAX_BYTES + 1)
        )
    except DomainError as err:
        return redirect(QUEUE, "error", f"Refused ({err.status}): {err.message}")
    text = (
        f"Imported {done.lines} lines: {done.matched} matched, {done.unmatched} to match by "
        f"hand, {done.ignored} ignored."
    )
    return redirect(f"{QUEUE}/{done.statement_id}", "ok", text)


@router.get("/bank-statements/{statement_id}")
def statement_page(
    statement_id: str, request: Request, session: UiUser, services: ServicesDep
) -> HTMLResponse:
    found = bank_statements.statement(services, session.user, statement_id)
    may_match = can(session.user, Action.RECORD_PAYMENT)
    return page(request, session, "back/bank_statement.html", {"s": found, "may": may_match})


@router.post("/bank-statements/{statement_id}/lines/{n}/match")
def match_line(
    statement_id: str,
    n: Annotated[int, Path(ge=1)],
    session: UiForm,
    services: ServicesDep,
    invoice_number: Annotated[str, Form(max_length=40)],
) -> RedirectResponse:
    def command() -> str:
        body = checked(MatchIn, {"invoice_number": invoice_number.strip()})
        line = bank_statements.match_line(services, session.user, statement_id, n, body)
        return f"Line {n} matched to {line.invoice_number}: it is {line.status.value}."

    return act(f"{QUEUE}/{statement_id}", command)


@router.get("/customers/{customer_id}/credit")
def credit_page(
    customer_id: str, request: Request, session: UiUser, services: ServicesDep
) -> HTMLResponse:
    """The customer's credit standing now, the credit it holds, and finance's terms form."""
    found = customers.customer(services, session.user, customer_id)
    context = {"c": found, "may_set": can(session.user, Action.SET_CREDIT_TERMS)}
    return page(request, session, "back/credit.html", context)


@router.post("/customers/{customer_id}/credit")
def set_credit_terms(
    customer_id: str,
    session: UiForm,
    services: ServicesDep,
    credit_limit: Annotated[str, Form(max_length=40)],
    currency: Annotated[str, Form(max_length=3)],
    payment_terms_days: Annotated[str, Form(max_length=10)],
) -> RedirectResponse:
    def command() -> str:
        terms = {"credit_limit": credit_limit, "currency": currency}
        body = checked(CreditTermsIn, terms | {"payment_terms_days": payment_terms_days})
        standing = customers.set_credit_terms(services, session.user, customer_id, body)
        hold = "on credit hold" if standing.on_hold else "not on hold"
        return (
            f"Credit terms saved: limit {standing.limit} {standing.currency}, "
            f"{standing.payment_terms_days} days; the customer is {hold}."
        )

    return act(f"/ui/customers/{customer_id}/credit", command)
