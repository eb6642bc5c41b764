"""Customers with their lifetime value; a rep sees only the customers (and contacts) of
their own deals, and only their own deals of a customer: a customer they have no deal with
is a 404 to them."""

from __future__ import annotations

from adapters.storage.views.customers import CustomerPage, CustomerSummary
from domain.errors import NotFound
from domain.users import Actor

from ..services import Services
from .authorization import owner_scope


def list_customers(services: Services, user: Actor, limit: int) -> list[CustomerSummary]:
    return services.views.customers.summaries(limit, owner_scope(user))


def customer(services: Services, user: Actor, customer_id: str) -> CustomerPage:
    page = services.views.customers.page(customer_id, owner_scope(user))
    if page is None:
        raise NotFound("customer not found")
    return page
