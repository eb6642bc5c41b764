"""The caller's tasks, and customers with their contacts, deals and lifetime value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from adapters.storage.reads import CustomerPage, CustomerSummary, Task
from domain.access import Action, sees_all_deals
from domain.errors import InvalidInput, NotFound
from domain.users import Role

from ..deps import CurrentUser, ServicesDep, require

router = APIRouter(tags=["people"])


@router.get("/tasks")
def my_tasks(
    user: CurrentUser,
    services: ServicesDep,
    deal_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Task]:
    """Most urgent first: overdue and soonest due, then the oldest."""
    if user.role is None:
        return []
    tasks = services.reads.tasks(user.username, user.role, datetime.now(UTC))
    if deal_id is not None:
        tasks = [t for t in tasks if t.deal_id == deal_id]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(tasks, key=lambda t: (t.due or far, t.since))[:limit]


class Territory(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)


@router.put("/territories/{country}")
def set_territory(
    country: Annotated[str, Path(pattern=r"^[A-Z]{2}$")],
    body: Territory,
    user: CurrentUser,
    services: ServicesDep,
) -> dict[str, str]:
    """Imported leads from `country` go to this rep (admins and managers set it)."""
    require(user, Action.ASSIGN_OWNER)
    rep = services.users.active_in(body.username, (Role.SALES_REP,))
    if rep is None:
        raise InvalidInput(f"{body.username} is not an active sales rep", field=("username",))
    services.assignment.set_territory(country, rep.username)
    return {"country": country, "username": rep.username}


@router.get("/territories")
def list_territories(user: CurrentUser, services: ServicesDep) -> dict[str, str]:
    return services.assignment.territories()


@router.get("/customers")
def list_customers(
    user: CurrentUser, services: ServicesDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[CustomerSummary]:
    return services.reads.customers(limit, None if sees_all_deals(user) else user.username)


@router.get("/customers/{customer_id}")
def get_customer(customer_id: str, user: CurrentUser, services: ServicesDep) -> CustomerPage:
    """A rep sees only their own deals of the customer."""
    page = services.reads.customer(customer_id, None if sees_all_deals(user) else user.username)
    if page is None:
        raise NotFound("customer not found")
    return page
