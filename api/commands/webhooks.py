"""Webhook endpoints and their delivery log, for admins (docs/webhooks.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from adapters.webhooks.store import CreatedEndpoint, Delivery, DeliveryLog, Endpoint
from domain.access import Action
from domain.users import Actor
from domain.webhooks import EventType, check_endpoint_url

from ..services import Services
from .authorization import authorize


class EndpointIn(BaseModel):
    """An endpoint to register: where, and which events (at least one)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: Annotated[str, Field(min_length=1, max_length=2000)]
    events: Annotated[list[EventType], Field(min_length=1, max_length=len(EventType))]
    description: Annotated[str, Field(max_length=500)] | None = None


def create(services: Services, user: Actor, body: EndpointIn) -> CreatedEndpoint:
    authorize(user, Action.MANAGE_WEBHOOKS)
    url = check_endpoint_url(body.url, services.settings.webhook_allow_loopback_http)
    return services.webhooks.create(
        url, body.events, body.description, user.username, datetime.now(UTC)
    )


def endpoints(services: Services, user: Actor) -> list[Endpoint]:
    authorize(user, Action.MANAGE_WEBHOOKS)
    return services.webhooks.all()


def disable(services: Services, user: Actor, endpoint_id: str) -> Endpoint:
    authorize(user, Action.MANAGE_WEBHOOKS)
    services.webhooks.get(endpoint_id)
    return services.webhooks.disable(endpoint_id, f"disabled by {user.username}", datetime.now(UTC))


def rotate_secret(services: Services, user: Actor, endpoint_id: str) -> CreatedEndpoint:
    """A new secret, shown once; the old one signs nothing from now on."""
    authorize(user, Action.MANAGE_WEBHOOKS)
    return services.webhooks.rotate_secret(endpoint_id, datetime.now(UTC))


def deliveries(services: Services, user: Actor, endpoint_id: str, limit: int) -> list[DeliveryLog]:
    authorize(user, Action.MANAGE_WEBHOOKS)
    return services.webhooks.deliveries(endpoint_id, limit)


def redeliver(services: Services, user: Actor, endpoint_id: str, delivery_id: str) -> Delivery:
    authorize(user, Action.MANAGE_WEBHOOKS)
    return services.webhooks.redeliver(endpoint_id, delivery_id)
