"""Notes on deals and customers, and their activity timelines."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from domain.notes import ActivityItem, Note, NoteIn

from ..commands import notes
from ..deps import CurrentUser, ServicesDep
from ..idempotency import IdempotencyDep

router = APIRouter(tags=["notes"])


@router.post("/deals/{deal_id}/notes", status_code=201, response_model=Note)
def add_deal_note(
    deal_id: str,
    body: NoteIn,
    user: CurrentUser,
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    write = notes.add_deal_note(services, user, deal_id, body, idempotency.derived_id())
    return idempotency.respond(body, 201, write)


@router.get("/deals/{deal_id}/notes")
def deal_notes(deal_id: str, user: CurrentUser, services: ServicesDep) -> list[Note]:
    return notes.deal_notes(services, user, deal_id)


@router.get("/deals/{deal_id}/activity")
def deal_activity(deal_id: str, user: CurrentUser, services: ServicesDep) -> list[ActivityItem]:
    """Notes, e-mails sent and stage changes of the deal, newest first."""
    return notes.deal_activity(services, user, deal_id)


@router.post("/customers/{customer_id}/notes", status_code=201, response_model=Note)
def add_customer_note(
    customer_id: str,
    body: NoteIn,
    user: CurrentUser,
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    write = notes.add_customer_note(services, user, customer_id, body, idempotency.derived_id())
    return idempotency.respond(body, 201, write)


@router.get("/customers/{customer_id}/notes")
def customer_notes(customer_id: str, user: CurrentUser, services: ServicesDep) -> list[Note]:
    return notes.customer_notes(services, user, customer_id)


@router.get("/customers/{customer_id}/activity")
def customer_activity(
    customer_id: str, user: CurrentUser, services: ServicesDep
) -> list[ActivityItem]:
    """The customer's notes and what happened on the deals of it the caller may see."""
    return notes.customer_activity(services, user, customer_id)[1]
