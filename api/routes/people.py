"""The caller's tasks, territories, and customers with their contacts, deals, value and
credit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from adapters.storage.views.customers import CustomerPage, CustomerSummary
from adapters.storage.views.paging import Page
from domain.credit import CreditStanding, CreditTermsIn
from domain.customer_credit import Refund, RefundIn
from domain.customers import CustomerDetailsIn
from domain.tasks import Task

from ..commands import customers, leads, tasks
from ..deps import CurrentUser, PageCursor, PageLimit, ServicesDep

router = APIRouter(tags=["people"])


@router.get("/tasks")
def my_tasks(
    user: CurrentUser,
    services: ServicesDep,
    deal_id: str | None = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Page[Task]:
    """Most urgent first: overdue and soonest due, then the oldest."""
    return tasks.tasks_page(services, user, datetime.now(UTC), deal_id, limit, cursor)


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
    rep = leads.set_territory(services, user, country, body.username)
    return {"country": country, "username": rep}


@router.get("/territories")
def list_territories(user: CurrentUser, services: ServicesDep) -> dict[str, str]:
    return leads.territories(services, user)


@router.get("/customers")
def list_customers(
    user: CurrentUser,
    services: ServicesDep,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Page[CustomerSummary]:
    """By name; `next_cursor` asks for the page after this one."""
    return customers.list_customers(services, user, limit, cursor)


@router.get("/customers/{customer_id}")
def get_customer(customer_id: str, user: CurrentUser, services: ServicesDep) -> CustomerPage:
    """A rep sees only their own deals of the customer. `credit_standing` is judged now."""
    return customers.customer(services, user, customer_id)


@router.put("/customers/{customer_id}/credit")
def set_credit_terms(
    customer_id: str, body: CreditTermsIn, user: CurrentUser, services: ServicesDep
) -> CreditStanding:
    """Finance (and admins) set the customer's credit limit and payment terms."""
    return customers.set_credit_terms(services, user, customer_id, body)


@router.post("/customers/{customer_id}/refunds", status_code=201)
def refund_credit(
    customer_id: str, body: RefundIn, user: CurrentUser, services: ServicesDep
) -> Refund:
    """Finance pays back credit the customer holds; refused beyond it (idempotent by
    `reference`)."""
    return customers.refund_credit(services, user, customer_id, body)


@router.patch("/customers/{customer_id}")
def update_customer(
    customer_id: str, body: CustomerDetailsIn, user: CurrentUser, services: ServicesDep
) -> CustomerPage:
    """Address, country, VAT id, business or consumer: what invoices show and tax follows."""
    return customers.update_details(services, user, customer_id, body)
