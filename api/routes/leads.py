"""POST /leads: capture a lead, which starts its deal."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from domain.access import Action
from domain.deal import DealInput
from domain.errors import InvalidInput
from domain.leads import Lead
from domain.policy import DealPolicy
from domain.users import Actor, Role
from workflows.ids import deal_workflow_id

from ..deps import CurrentUser, Services, ServicesDep, require
from ..idempotency import IdempotencyDep
from ..schemas import LeadCreated, LeadIn

router = APIRouter(tags=["leads"])
SELLING_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)


def deal_owner(body: LeadIn, user: Actor, services: Services) -> str:
    """Whoever enters the lead owns it, unless a manager names another seller."""
    if body.owner is None or body.owner == user.username:
        return user.username
    require(user, Action.ASSIGN_OWNER)
    owner = services.users.get(body.owner)
    if owner is None or not owner.active or owner.role not in SELLING_ROLES:
        raise InvalidInput(f"{body.owner} is not an active seller", field=("owner",))
    return owner.username


@router.post("/leads", status_code=201, response_model=LeadCreated)
def create_lead(
    body: LeadIn, user: CurrentUser, services: ServicesDep, idempotency: IdempotencyDep
) -> JSONResponse:
    require(user, Action.CREATE_LEAD)
    owner = deal_owner(body, user, services)

    def start() -> LeadCreated:
        deal = DealInput(
            deal_id=idempotency.derived_id(),
            lead=Lead.model_validate(body.model_dump(exclude={"owner"})),
            owner=owner,
            created_by=user.username,
            policy=DealPolicy(day=services.settings.day),
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
