"""Capturing leads: one by one, or a CSV import. Each lead starts its deal."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse

from domain.deal import DealState, Reassignment

from ..commands import deals, leads
from ..commands.leads import ImportResult, ImportStatus
from ..deps import CurrentUser, ServicesDep
from ..idempotency import IdempotencyDep
from ..lead_import import MAX_BYTES
from ..schemas import LeadCreated, LeadIn

router = APIRouter(tags=["leads"])


@router.post("/leads", status_code=201, response_model=LeadCreated)
def create_lead(
    body: LeadIn, user: CurrentUser, services: ServicesDep, idempotency: IdempotencyDep
) -> JSONResponse:
    """A lead of a contact with an open deal is refused (409) and names that deal."""
    start = leads.create_lead(services, user, body, idempotency.derived_id)
    return idempotency.respond(body, 201, start)


@router.post("/leads/import", status_code=202, response_model=ImportResult)
def import_leads(
    file: Annotated[UploadFile, File(description="CSV with the columns of POST /leads")],
    user: CurrentUser,
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Every valid, new row starts a deal owned by the assignment rules (territory, then
    round-robin); bad rows and duplicates are reported, never half-imported. Answers at
    once (202): the deals start in the background, followed at `progress_url`."""
    data = file.file.read(MAX_BYTES + 1)
    run_import = leads.import_leads(services, user, data, idempotency.derived_id)
    return idempotency.respond(data, 202, run_import)


@router.get("/imports/{import_id}", response_model=ImportStatus)
def import_status(import_id: str, user: CurrentUser, services: ServicesDep) -> ImportStatus:
    """How far an import is: deals started so far, and its report (errors, duplicates)."""
    return leads.import_status(services, user, import_id)


@router.post("/deals/{deal_id}/owner")
def reassign(
    deal_id: str, body: Reassignment, user: CurrentUser, services: ServicesDep
) -> DealState:
    return deals.reassign(services, user, deal_id, body)
