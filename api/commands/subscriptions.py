"""Subscriptions of signed deals: read their history, change their quantity (prorated by
the day), cancel them at their term's end, or renew one that does not renew by itself.
The deal's owner and sales managers act; whoever may see the deal may read."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from domain import saas_kpis
from domain.access import Action
from domain.errors import NotFound
from domain.money import exact as exactly
from domain.money import round_money
from domain.quotes import Quantity
from domain.subscriptions import Subscription
from domain.users import Actor
from workflows.subscription_billing import (
    QuantityChange,
    SubscriptionBillingWorkflow,
    SubscriptionCommand,
    SubscriptionView,
)

from ..services import Services
from .authorization import authorize, visible_deal

NOT_FOUND = "no such subscription"


class QuantityChangeIn(BaseModel):
    """An upgrade or downgrade from today: the subscription's new quantity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quantity: Quantity


class SubscriptionActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(default="", max_length=2000)


class SubscriptionOut(BaseModel):
    """A subscription as it stands, and every state it has had."""

    subscription_id: str
    deal_id: str
    current: Subscription
    monthly_value: Decimal
    history: list[Subscription]


def subscriptions(
    services: Services, user: Actor, deal_id: str | None = None
) -> list[SubscriptionOut]:
    """A deal's subscriptions (or every one the user may see)."""
    found = services.views.subscriptions.by_deal(deal_id)
    return [_out(deal, states) for deal, states in found if _may_see(services, user, deal)]


def subscription(services: Services, user: Actor, subscription_id: str) -> SubscriptionOut:
    deal_id, states = _found(services, subscription_id)
    visible_deal(services, user, deal_id)
    return _out(deal_id, states)


def change_quantity(
    services: Services, user: Actor, subscription_id: str, body: QuantityChangeIn
) -> Callable[[], SubscriptionView]:
    """Authorize now; the returned call sends the change (once per Idempotency-Key)."""
    _authorize(services, user, subscription_id)
    change = QuantityChange(quantity=body.quantity, actor=user)
    return lambda: services.temporal.update_subscription(
        subscription_id, SubscriptionBillingWorkflow.change_quantity, change
    )


def cancel_at_term_end(
    services: Services, user: Actor, subscription_id: str, body: SubscriptionActionIn
) -> SubscriptionView:
    _authorize(services, user, subscription_id)
    return services.temporal.update_subscription(
        subscription_id,
        SubscriptionBillingWorkflow.cancel_at_term_end,
        SubscriptionCommand(actor=user, reason=body.reason),
    )


def renew(
    services: Services, user: Actor, subscription_id: str, body: SubscriptionActionIn
) -> SubscriptionView:
    _authorize(services, user, subscription_id)
    return services.temporal.update_subscription(
        subscription_id,
        SubscriptionBillingWorkflow.confirm_renewal,
        SubscriptionCommand(actor=user, reason=body.reason),
    )


def _authorize(services: Services, user: Actor, subscription_id: str) -> None:
    deal_id, _ = _found(services, subscription_id)
    deal = visible_deal(services, user, deal_id)
    authorize(user, Action.QUOTE, deal.owner)


def _found(services: Services, subscription_id: str) -> tuple[str, list[Subscription]]:
    found = services.views.subscriptions.states(subscription_id)
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


def _may_see(services: Services, user: Actor, deal_id: str) -> bool:
    try:
        visible_deal(services, user, deal_id)
    except NotFound:
        return False
    return True


def _out(deal_id: str, states: list[Subscription]) -> SubscriptionOut:
    current = states[-1]
    return SubscriptionOut(
        subscription_id=current.subscription_id,
        deal_id=deal_id,
        current=current,
        monthly_value=monthly_value(current),
        history=states,
    )


def monthly_value(state: Subscription) -> Decimal:
    """The state's monthly value (its term net over its months), to the minor unit."""
    value = saas_kpis.monthly_value(state)
    with exactly():
        return round_money(Decimal(value.numerator) / Decimal(value.denominator), state.currency)
