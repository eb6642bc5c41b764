"""The seller's pages: capture a lead (one, or a CSV), the deals list with filters (open and
closed), a customer with its notes and timeline, and the deal page's sales actions (resend
the portal link, close lost, cancel, reassign, notes).

Each form calls the command its JSON route calls (leads.py, deals.py, portal.py, notes.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from adapters.storage.views.deals import DealFilter
from domain.access import Action, can
from domain.deal import CancelRequest, CloseLostRequest, DealState, Reassignment
from domain.errors import DomainError
from domain.leads import LeadSource
from domain.messages import PortalAction
from domain.notes import NoteIn
from domain.stages import OPEN_STAGES, DealStage
from domain.users import Actor

from ..commands import customers, deals, leads, notes, portal
from ..deps import CURSOR_MAX_LENGTH, PageCursor, ServicesDep
from ..lead_import import COLUMNS, MAX_BYTES
from ..schemas import LeadIn
from ..services import Services
from ..ui_auth import UiForm, UiUser
from .ui import act, page, redirect, ui_router
from .ui_forms import PostedForm, checked, form_ids, new_form_id, parse
from .ui_nav import SELLERS, nav_entry

router = ui_router()
nav_entry("/ui/deals", "Deals", order=15)
nav_entry("/ui/leads/new", "New lead", roles=SELLERS, order=16)
nav_entry("/ui/customers", "Customers", order=30)
Text = Annotated[str, Form(max_length=5000)]
Reason = Annotated[str, Form(max_length=2000)]
# Stages a seller can still win or lose the deal in (close-lost works until signature).
BEFORE_SIGNATURE = (DealStage.QUOTING, DealStage.PROPOSED, DealStage.AWAITING_APPROVAL)
LIST_PAGE = 50


# --- capturing leads -------------------------------------------------------------------


def _lead_form(
    request: Request,
    session: Any,
    services: Services,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    user = session.user
    context = {
        "values": values or {},
        "errors": errors or {},
        "sources": [s for s in LeadSource if s is not LeadSource.IMPORT],
        "sellers": leads.sellers(services, user) if can(user, Action.ASSIGN_OWNER) else [],
        "form_id": (values or {}).get("form_id") or new_form_id(),
    }
    return page(request, session, "sales/lead_new.html", context, status)


@router.get("/leads/new")
def new_lead(request: Request, session: UiUser, services: ServicesDep) -> HTMLResponse:
    return _lead_form(request, session, services)


@router.post("/leads", response_model=None)
def create_lead(
    request: Request, session: UiForm, services: ServicesDep, form: PostedForm
) -> Response:
    """The fields of POST /leads; a refusal shows the form again, naming the fields."""
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    fields: dict[str, Any] = {k: v for k, v in values.items() if k in LeadIn.model_fields}
    for flag in ("budget_confirmed", "decision_maker"):
        fields[flag] = flag in values or None
    body, errors = parse(LeadIn, fields)
    if body is None:
        return _lead_form(request, session, services, values, errors, 422)
    start = leads.create_lead(
        services, session.user, body, form_ids(session.user.username, values.get("form_id", ""))
    )
    try:
        created = start()
    except DomainError as err:
        field = ".".join(str(p) for p in err.field) if err.field else "form"
        return _lead_form(request, session, services, values, {field: err.message}, err.status)
    return redirect(
        f"/ui/deals/{created.deal_id}",
        "ok",
        f"Lead of {created.customer.name} created (score {created.score.score}), owner "
        f"{created.owner}.",
    )


@router.get("/leads/import")
def import_form(request: Request, session: UiUser) -> HTMLResponse:
    context = {"columns": COLUMNS, "max_mb": MAX_BYTES // 1024 // 1024, "form_id": new_form_id()}
    return page(request, session, "sales/lead_import.html", context)


@router.post("/leads/import")
def import_leads(
    request: Request,
    session: UiForm,
    services: ServicesDep,
    file: Annotated[UploadFile, File()],
    form_id: Annotated[str, Form(max_length=64)] = "",
) -> RedirectResponse:
    """The CSV import of POST /leads/import; then its page (progress and what was refused)."""
    data = file.file.read(MAX_BYTES + 1)
    result = leads.import_leads(
        services, session.user, data, form_ids(session.user.username, form_id or new_form_id())
    )()
    return RedirectResponse(f"/ui/imports/{result.import_id}", status_code=303)


@router.get("/imports/{import_id}")
def import_page(
    import_id: str, request: Request, session: UiUser, services: ServicesDep
) -> HTMLResponse:
    """An import's progress bar (the page reloads itself until every deal is started), the
    deals started so far (the first hundred) and the rows refused."""
    status = leads.import_status(services, session.user, import_id)
    context = {"status": status, "started": services.imports.started_deals(import_id, 100)}
    return page(request, session, "sales/lead_import_result.html", context)


# --- the deals list --------------------------------------------------------------------


def _day(value: date | None, after: bool = False) -> datetime | None:
    if value is None:
        return None
    return datetime.combine(value + timedelta(days=1) if after else value, time(), UTC)


class DealListQuery(BaseModel):
    """The deals list's filters as the page's form sends them (blank fields: any)."""

    model_config = ConfigDict(extra="ignore")

    owner: str | None = Field(default=None, max_length=64)
    stage: DealStage | None = None
    source: LeadSource | None = None
    min_amount: Decimal | None = Field(default=None, ge=0)
    max_amount: Decimal | None = Field(default=None, ge=0)
    status: Literal["open", "closed", "all"] = "all"
    reached: DealStage | None = None
    created_from: date | None = None
    created_to: date | None = None
    cursor: str | None = Field(default=None, max_length=CURSOR_MAX_LENGTH)

    def where(self) -> DealFilter:
        return DealFilter(
            owner=self.owner,
            stage=self.stage,
            source=self.source,
            min_amount=self.min_amount,
            max_amount=self.max_amount,
            closed={"open": False, "closed": True, "all": None}[self.status],
            reached=self.reached,
            created_from=_day(self.created_from),
            created_before=_day(self.created_to, after=True),
        )


@router.get("/deals")
def deals_list(request: Request, session: UiUser, services: ServicesDep) -> HTMLResponse:
    """A rep's own deals, open and closed; the team's for managers, with filters (the
    dashboard's charts link here too). A filter that is not valid is a 422 naming it."""
    asked = checked(DealListQuery, dict(request.query_params))
    found = deals.list_deals(services, session.user, asked.where(), LIST_PAGE, asked.cursor)
    query = {k: v for k, v in request.query_params.items() if k != "cursor" and v}
    context = {
        "deals": found.items,
        "next_cursor": found.next_cursor,
        "query": query,
        "filters": {**query, "status": asked.status},
        "stages": list(DealStage),
        "sources": list(LeadSource),
        "sellers": _sellers(services, session.user),
    }
    return page(request, session, "sales/deals.html", context)


def _sellers(services: Services, user: Actor) -> list[str]:
    return leads.sellers(services, user) if can(user, Action.ASSIGN_OWNER) else []


# --- customers -------------------------------------------------------------------------


@router.get("/customers")
def customers_list(
    request: Request, session: UiUser, services: ServicesDep, cursor: PageCursor = None
) -> HTMLResponse:
    """Customers by name (a rep: those of their own deals), a page at a time."""
    found = customers.list_customers(services, session.user, LIST_PAGE, cursor)
    context = {"customers": found.items, "next_cursor": found.next_cursor, "cursor": cursor}
    return page(request, session, "sales/customers.html", context)


@router.get("/customers/{customer_id}")
def customer_page(
    customer_id: str, request: Request, session: UiUser, services: ServicesDep
) -> HTMLResponse:
    customer, activity = notes.customer_activity(services, session.user, customer_id)
    context = {"customer": customer, "activity": activity, "note_form_id": new_form_id()}
    return page(request, session, "sales/customer.html", context)


@router.post("/customers/{customer_id}/notes")
def add_customer_note(
    customer_id: str,
    session: UiForm,
    services: ServicesDep,
    body: Text,
    form_id: Annotated[str, Form(max_length=64)] = "",
) -> RedirectResponse:
    def command() -> str:
        note = checked(NoteIn, {"body": body})
        notes.add_customer_note(
            services, session.user, customer_id, note, _note_id(session.user, form_id)
        )()
        return "Note added."

    return act(f"/ui/customers/{customer_id}", command)


def _note_id(user: Actor, form_id: str) -> str:
    return form_ids(user.username, form_id or new_form_id())("note")


# --- the deal page's sales actions -----------------------------------------------------


def sales_panel(services: Services, user: Actor, deal: DealState) -> dict[str, Any]:
    """What the deal page adds for sellers: the actions this user may take now, the
    deal's activity timeline, and a fresh form id for its note form."""
    owner = deal.owner
    quoting = can(user, Action.QUOTE, owner)
    return {
        "may_quote": quoting and deal.stage in (DealStage.QUOTING, DealStage.PROPOSED),
        "may_resend": quoting and deal.stage in (DealStage.PROPOSED, DealStage.AWAITING_SIGNATURE),
        "may_close_lost": can(user, Action.CLOSE_LOST, owner) and deal.stage in BEFORE_SIGNATURE,
        "may_cancel": can(user, Action.CANCEL, owner) and deal.stage in OPEN_STAGES,
        "sellers": _sellers(services, user) if deal.stage in OPEN_STAGES else [],
        "activity": notes.deal_activity(services, user, deal.deal_id),
        "note_form_id": new_form_id(),
    }


@router.post("/deals/{deal_id}/notes")
def add_deal_note(
    deal_id: str,
    session: UiForm,
    services: ServicesDep,
    body: Text,
    form_id: Annotated[str, Form(max_length=64)] = "",
) -> RedirectResponse:
    def command() -> str:
        note = checked(NoteIn, {"body": body})
        notes.add_deal_note(
            services, session.user, deal_id, note, _note_id(session.user, form_id)
        )()
        return "Note added."

    return act(f"/ui/deals/{deal_id}", command)


@router.post("/deals/{deal_id}/portal-link")
def resend_portal_link(
    deal_id: str,
    session: UiForm,
    services: ServicesDep,
    action: Annotated[PortalAction, Form()],
) -> RedirectResponse:
    def command() -> str:
        sent = portal.portal_link(services, session.user, deal_id, action)
        return f"The {sent.action} link (version {sent.version}) was sent again to {sent.sent_to}."

    return act(f"/ui/deals/{deal_id}", command)


@router.post("/deals/{deal_id}/close-lost")
def close_lost(
    deal_id: str, session: UiForm, services: ServicesDep, reason: Reason
) -> RedirectResponse:
    def command() -> str:
        answer = deals.close_lost(
            services, session.user, deal_id, checked(CloseLostRequest, {"reason": reason})
        )
        return f"The deal is now {answer.stage.value}."

    return act(f"/ui/deals/{deal_id}", command)


@router.post("/deals/{deal_id}/cancel")
def cancel(
    deal_id: str, session: UiForm, services: ServicesDep, reason: Reason
) -> RedirectResponse:
    def command() -> str:
        answer = deals.cancel(
            services, session.user, deal_id, checked(CancelRequest, {"reason": reason})
        )
        if answer.stage in OPEN_STAGES:
            return "The cancellation waits for finance's approval (the deal has invoices)."
        return f"The deal is now {answer.stage.value}."

    return act(f"/ui/deals/{deal_id}", command)


@router.post("/deals/{deal_id}/owner")
def reassign(
    deal_id: str,
    session: UiForm,
    services: ServicesDep,
    owner: Annotated[str, Form(max_length=64)],
    reason: Reason = "",
) -> RedirectResponse:
    def command() -> str:
        body = checked(Reassignment, {"owner": owner, "reason": reason})
        state = deals.reassign(services, session.user, deal_id, body)
        return f"The deal now belongs to {state.owner}."

    return act(f"/ui/deals/{deal_id}", command)
