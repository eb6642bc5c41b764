"""Capturing leads: one by one, or a CSV import. Each lead starts its deal."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from domain.access import Action
from domain.deal import DealInput, DealState, ReassignCommand, Reassignment
from domain.errors import Conflict, InvalidInput
from domain.leads import Lead
from domain.policy import DealPolicy
from domain.users import Actor, Role
from workflows.deal import DealWorkflow
from workflows.ids import deal_workflow_id

from ..deps import CurrentUser, Services, ServicesDep, require, visible_deal
from ..idempotency import IdempotencyDep
from ..lead_import import MAX_BYTES, RowError, parse_leads
from ..schemas import LeadCreated, LeadIn

router = APIRouter(tags=["leads"])
SELLING_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)


def seller(username: str, services: Services, field: str = "owner") -> str:
    user = services.users.active_in(username, SELLING_ROLES)
    if user is None:
        raise InvalidInput(f"{username} is not an active seller", field=(field,))
    return user.username


def deal_owner(body: LeadIn, user: Actor, services: Services) -> str:
    """Whoever enters the lead owns it, unless a manager names another seller."""
    if body.owner is None or body.owner == user.username:
        return user.username
    require(user, Action.ASSIGN_OWNER)
    return seller(body.owner, services)


def new_policy(services: Services, day_seconds: float | None = None) -> DealPolicy:
    day = timedelta(seconds=day_seconds) if day_seconds else services.settings.day
    return DealPolicy(day=day)


@router.post("/leads", status_code=201, response_model=LeadCreated)
def create_lead(
    body: LeadIn, user: CurrentUser, services: ServicesDep, idempotency: IdempotencyDep
) -> JSONResponse:
    """A lead of a contact with an open deal is refused (409) and names that deal."""
    require(user, Action.CREATE_LEAD)
    owner = deal_owner(body, user, services)
    if body.day_seconds is not None:
        require(user, Action.MANAGE_PRODUCTS)  # admins only: it changes every timer

    def start() -> LeadCreated:
        deal_id = idempotency.derived_id()
        open_deal = services.reads.open_deals_by_email([body.email]).get(body.email.lower())
        if open_deal not in (None, deal_id):
            raise Conflict(f"this contact already has an open deal: {open_deal}")
        deal = DealInput(
            deal_id=deal_id,
            lead=Lead.model_validate(body.model_dump(exclude={"owner", "day_seconds"})),
            owner=owner,
            created_by=user.username,
            policy=new_policy(services, body.day_seconds),
        )
        state = services.temporal.open_deal(deal)
        assert state.customer is not None and state.score is not None
        return LeadCreated(
            deal_id=deal.deal_id,
            workflow_id=deal_workflow_id(deal.deal_id),
            stage=state.stage,
            owner=state.owner,
            customer=state.customer,
            score=state.score,
        )

    return idempotency.respond(body, 201, start)


class ImportedDeal(BaseModel):
    row: int
    deal_id: str
    owner: str


class DuplicateRow(BaseModel):
    row: int
    email: str
    open_deal: str | None = None  # the contact's open deal
    same_as_row: int | None = None  # an earlier row of this file


class ImportResult(BaseModel):
    created: int
    duplicates: int
    errors: list[RowError]
    deals: list[ImportedDeal]
    duplicate_rows: list[DuplicateRow]


@router.post("/leads/import", response_model=ImportResult)
def import_leads(
    file: Annotated[UploadFile, File(description="CSV with the columns of POST /leads")],
    user: CurrentUser,
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Every valid, new row starts a deal owned by the assignment rules (territory, then
    round-robin); bad rows and duplicates are reported, never half-imported."""
    require(user, Action.CREATE_LEAD)
    data = file.file.read(MAX_BYTES + 1)

    def run_import() -> ImportResult:
        parsed, errors = parse_leads(data)
        open_deals = services.reads.open_deals_by_email([p.lead.email for p in parsed])
        first_row: dict[str, int] = {}
        fresh, duplicates = [], []
        for item in parsed:
            key = item.lead.email.lower()
            if key in first_row:
                duplicates.append(DuplicateRow(row=item.row, email=key, same_as_row=first_row[key]))
            elif key in open_deals:
                duplicates.append(DuplicateRow(row=item.row, email=key, open_deal=open_deals[key]))
            else:
                first_row[key] = item.row
                fresh.append(item)
        owners = services.assignment.owners_for([item.lead.country for item in fresh])
        policy = new_policy(services)
        deals = [
            DealInput(
                deal_id=idempotency.derived_id(item.lead.email.lower()),
                lead=item.lead,
                owner=owner,
                created_by=user.username,
                policy=policy,
                notify_owner=False,
            )
            for item, owner in zip(fresh, owners, strict=True)
        ]
        services.temporal.start_deals(deals)
        return ImportResult(
            created=len(deals),
            duplicates=len(duplicates),
            errors=errors,
            deals=[
                ImportedDeal(row=item.row, deal_id=deal.deal_id, owner=deal.owner)
                for item, deal in zip(fresh, deals, strict=True)
            ],
            duplicate_rows=duplicates,
        )

    return idempotency.respond(data, 200, run_import)


@router.post("/deals/{deal_id}/owner")
def reassign(
    deal_id: str, body: Reassignment, user: CurrentUser, services: ServicesDep
) -> DealState:
    visible_deal(deal_id, user, services)
    require(user, Action.ASSIGN_OWNER)
    seller(body.owner, services)
    state: DealState = services.temporal.update_deal(
        deal_id, DealWorkflow.reassign, ReassignCommand(body=body, actor=user)
    )
    return state
