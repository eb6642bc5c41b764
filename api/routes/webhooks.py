"""Outbound webhooks (admins): endpoints, secrets, the delivery log and redelivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from adapters.webhooks.store import CreatedEndpoint, Delivery, DeliveryLog, Endpoint

from ..commands import webhooks
from ..commands.webhooks import EndpointIn
from ..deps import CurrentUser, ServicesDep

router = APIRouter(tags=["webhooks"])


@router.post("/webhooks", status_code=201)
def create_webhook(body: EndpointIn, user: CurrentUser, services: ServicesDep) -> CreatedEndpoint:
    """The answer holds the signing secret; it is not shown again (rotate it if lost)."""
    return webhooks.create(services, user, body)


@router.get("/webhooks")
def list_webhooks(user: CurrentUser, services: ServicesDep) -> list[Endpoint]:
    return webhooks.endpoints(services, user)


@router.delete("/webhooks/{endpoint_id}")
def disable_webhook(endpoint_id: str, user: CurrentUser, services: ServicesDep) -> Endpoint:
    """Disabled, not erased: its delivery log stays readable."""
    return webhooks.disable(services, user, endpoint_id)


@router.post("/webhooks/{endpoint_id}/rotate-secret")
def rotate_webhook_secret(
    endpoint_id: str, user: CurrentUser, services: ServicesDep
) -> CreatedEndpoint:
    return webhooks.rotate_secret(services, user, endpoint_id)


@router.get("/webhooks/{endpoint_id}/deliveries")
def webhook_deliveries(
    endpoint_id: str,
    user: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryLog]:
    return webhooks.deliveries(services, user, endpoint_id, limit)


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver", status_code=202)
def redeliver_webhook(
    endpoint_id: str, delivery_id: str, user: CurrentUser, services: ServicesDep
) -> Delivery:
    return webhooks.redeliver(services, user, endpoint_id, delivery_id)
