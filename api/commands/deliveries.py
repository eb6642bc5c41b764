"""Fulfilment: ops (or the owner) record what was delivered against the order."""

from __future__ import annotations

from domain.access import Action
from domain.deal import DeliveryCommand
from domain.errors import WrongStage
from domain.orders import DeliveryRequest, Order
from domain.users import Actor
from workflows.deal import DealWorkflow

from ..services import Services
from .authorization import authorize, visible_deal


def record_delivery(services: Services, user: Actor, deal_id: str, body: DeliveryRequest) -> Order:
    """A repeated `reference` is a no-op (the workflow knows it). A closed deal takes no
    deliveries: said here, since its workflow may have ended and could no longer say why."""
    found = visible_deal(services, user, deal_id)
    authorize(user, Action.DELIVER, found.owner)
    if found.stage.is_closed:
        stage = found.stage.lower().replace("_", " ")
        raise WrongStage(f"the deal is {stage}: nothing more is delivered")
    return services.temporal.update_deal(
        deal_id, DealWorkflow.record_delivery, DeliveryCommand(request=body, actor=user)
    )
