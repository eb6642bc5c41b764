"""Fulfilment: ops (or the owner) record what was delivered against the order; nothing is
delivered to a customer on credit hold (domain/credit.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.access import Action
from domain.credit import check_not_on_hold
from domain.deal import DeliveryCommand
from domain.errors import WrongStage
from domain.orders import DeliveryRequest, Order
from domain.stages import DealStage
from domain.users import Actor
from workflows.deal import DealWorkflow

from ..services import Services
from .authorization import authorize, visible_deal


def record_delivery(services: Services, user: Actor, deal_id: str, body: DeliveryRequest) -> Order:
    """A repeated `reference` is a no-op (the workflow knows it). A closed deal takes no
    deliveries: said here, since its workflow may have ended and could no longer say why.
    A new one is refused with 409 while the customer is on credit hold; the workflow checks
    the hold again."""
    found = visible_deal(services, user, deal_id)
    authorize(user, Action.DELIVER, found.owner)
    if found.stage.is_closed:
        stage = found.stage.lower().replace("_", " ")
        raise WrongStage(f"the deal is {stage}: nothing more is delivered")
    fulfilling = found.stage is DealStage.FULFILLING  # else the workflow says it is too early
    if fulfilling and not services.views.deals.delivered(deal_id, body.reference):
        check_not_on_hold(services.credit.deal_standing(deal_id, datetime.now(UTC)))
    return services.temporal.update_deal(
        deal_id, DealWorkflow.record_delivery, DeliveryCommand(request=body, actor=user)
    )
