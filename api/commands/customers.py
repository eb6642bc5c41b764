"""Customers with their lifetime value and credit standing; a rep sees only the customers
(and contacts) of their own deals, and only their own deals of a customer: a customer they
have no deal with is a 404 to them. Finance (and admins) set a customer's credit terms;
finance pays back the credit a customer holds."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.storage.views.customers import CustomerPage, CustomerSummary
from adapters.storage.views.paging import Page
from domain.access import Action, can
from domain.credit import CreditStanding, CreditTermsIn
from domain.customer_credit import Refund, RefundIn
from domain.customers import CustomerDetailsIn
from domain.errors import NotFound
from domain.users import Actor

from ..services import Services
from .authorization import authorize, owner_scope

CUSTOMER_NOT_FOUND = "customer not found"


def list_customers(
    services: Services, user: Actor, limit: int, cursor: str | None = None
) -> Page[CustomerSummary]:
    """By name; a rep: the customers of their own deals only."""
    return services.views.customers.summaries(limit, cursor, owner_scope(user))


def customer(services: Services, user: Actor, customer_id: str) -> CustomerPage:
    page = services.views.customers.page(customer_id, owner_scope(user))
    if page is None:
        raise NotFound(CUSTOMER_NOT_FOUND)
    standing = services.credit.standing(customer_id, datetime.now(UTC))
    credit = services.credit_balances.balances(customer_id)
    return page.model_copy(update={"credit_standing": standing, "credit": credit})


def refund_credit(services: Services, user: Actor, customer_id: str, body: RefundIn) -> Refund:
    """Pay back credit the customer holds (docs/cash.md); the same reference again answers
    as the first time."""
    authorize(user, Action.REFUND_CREDIT)
    return services.credit_balances.refund(customer_id, body, datetime.now(UTC), user.username)


def set_credit_terms(
    services: Services, user: Actor, customer_id: str, body: CreditTermsIn
) -> CreditStanding:
    """Set the customer's limit and payment terms (audited); its standing under them."""
    authorize(user, Action.SET_CREDIT_TERMS)
    now = datetime.now(UTC)
    if not services.credit.set_terms(customer_id, body.terms(), now, user.username):
        raise NotFound(CUSTOMER_NOT_FOUND)
    standing = services.credit.standing(customer_id, now)
    assert standing is not None  # it was found just now; customers are never deleted
    return standing


def update_details(
    services: Services, user: Actor, customer_id: str, body: CustomerDetailsIn
) -> CustomerPage:
    """Set the customer's address, country, VAT id or kind (audited): finance and admins
    for any customer, reps and managers for the customers of deals they own. Quotes priced
    from then on are taxed by them; quotes and invoices already made keep theirs."""
    authorize(user, Action.EDIT_CUSTOMER, user.username)  # 403 for roles that never may
    owner = None if can(user, Action.EDIT_CUSTOMER) else user.username
    if services.views.customers.page(customer_id, owner) is None:
        raise NotFound(CUSTOMER_NOT_FOUND)
    if services.customers.update(customer_id, body, datetime.now(UTC), user.username) is None:
        raise NotFound(CUSTOMER_NOT_FOUND)
    return customer(services, user, customer_id)
