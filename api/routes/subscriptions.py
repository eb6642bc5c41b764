"""Subscriptions: their history, upgrades and downgrades, cancellation at term end, renewal."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from workflows.subscription_billing import SubscriptionView

from ..commands import subscriptions
from ..commands.subscriptions import QuantityChangeIn, SubscriptionActionIn, SubscriptionOut
from ..deps import CurrentUser, ServicesDep
from ..idempotency import IdempotencyDep

router = APIRouter(tags=["subscriptions"])

SubscriptionId = Annotated[str, Path(min_length=1, max_length=120)]


@router.get("/subscriptions")
def list_subscriptions(
    user: CurrentUser,
    services: ServicesDep,
    deal_id: Annotated[str | None, Query(max_length=40)] = None,
) -> list[SubscriptionOut]:
    """The subscriptions of the deals the user may see (of one deal with `deal_id`)."""
    return subscriptions.subscriptions(services, user, deal_id)


@router.get("/subscriptions/{subscription_id}")
def get_subscription(
    subscription_id: SubscriptionId, user: CurrentUser, services: ServicesDep
) -> SubscriptionOut:
    return subscriptions.subscription(services, user, subscription_id)


@router.post("/subscriptions/{subscription_id}/changes", response_model=SubscriptionView)
def change_quantity(
    subscription_id: SubscriptionId,
    body: QuantityChangeIn,
    user: CurrentUser,
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Upgrade or downgrade from today, prorated by the day: the days invoiced already are
    charged now (more) or credited against the next invoices (less)."""
    send = subscriptions.change_quantity(services, user, subscription_id, body)
    return idempotency.respond(body, 200, send)


@router.post("/subscriptions/{subscription_id}/cancel")
def cancel_at_term_end(
    subscription_id: SubscriptionId,
    body: SubscriptionActionIn,
    user: CurrentUser,
    services: ServicesDep,
) -> SubscriptionView:
    """It runs to its term's end and does not renew."""
    return subscriptions.cancel_at_term_end(services, user, subscription_id, body)


@router.post("/subscriptions/{subscription_id}/renew")
def renew(
    subscription_id: SubscriptionId,
    body: SubscriptionActionIn,
    user: CurrentUser,
    services: ServicesDep,
) -> SubscriptionView:
    """Renew at its term's end, at the renewal quote (for one that does not auto-renew)."""
    return subscriptions.renew(services, user, subscription_id, body)
