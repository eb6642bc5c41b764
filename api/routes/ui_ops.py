"""Ops' pages: the orders waiting for delivery, and one order's delivery form against its
open quantities (ordered minus delivered, per line).

The form calls the command POST /deals/{id}/deliveries calls; an over-delivery is refused
by the same rule (domain/orders.py) and the refusal is shown on the page.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from adapters.storage.views.deals import DealFilter
from domain.access import Action, can
from domain.errors import InvalidInput, WrongStage
from domain.orders import DeliveryRequest
from domain.stages import DealStage

from ..commands import deals, deliveries
from ..deps import ServicesDep
from ..ui_auth import UiForm, UiUser
from .ui import act, page, ui_router
from .ui_forms import PAGE_SIZE, checked
from .ui_nav import nav_entry

router = ui_router()
nav_entry("/ui/deliveries", "Deliveries", order=45, action=Action.DELIVER)


@router.get("/deliveries")
def orders_to_deliver(request: Request, session: UiUser, services: ServicesDep) -> HTMLResponse:
    """The deals being fulfilled (a rep: their own), newest first as the pipeline shows them."""
    where = DealFilter(stage=DealStage.FULFILLING)
    found = deals.list_deals(services, session.user, where, PAGE_SIZE)
    return page(request, session, "back/deliveries.html", {"deals": found.items})


@router.get("/deals/{deal_id}/delivery")
def delivery_form(
    deal_id: str, request: Request, session: UiUser, services: ServicesDep
) -> HTMLResponse:
    """The order's lines with what is still open, and a quantity to deliver for each."""
    state = deals.deal(services, session.user, deal_id)
    if state.order is None:
        raise WrongStage("the deal has no order yet: nothing to deliver")
    context = {
        "deal": state,
        "order": state.order,
        "open": {line.sku: line.quantity - line.delivered for line in state.order.lines},
        "may_deliver": can(session.user, Action.DELIVER, state.owner) and not state.stage.is_closed,
    }
    return page(request, session, "back/delivery.html", context)


@router.post("/deals/{deal_id}/delivery")
def record_delivery(
    deal_id: str,
    session: UiForm,
    services: ServicesDep,
    reference: Annotated[str, Form(max_length=100)],
    sku: Annotated[list[str], Form(max_length=40)],
    quantity: Annotated[list[str], Form(max_length=20)],
) -> RedirectResponse:
    """Lines left empty (or 0) are not delivered this time."""

    def command() -> str:
        lines = [
            {"sku": s, "quantity": q.strip()}
            for s, q in zip(sku, quantity, strict=False)
            if not _nothing(q)
        ]
        if not lines:
            raise InvalidInput("give a quantity for at least one line", field=("lines",))
        body = checked(DeliveryRequest, {"lines": lines, "reference": reference})
        order = deliveries.record_delivery(services, session.user, deal_id, body)
        left = sum((line.quantity - line.delivered for line in order.lines), Decimal(0))
        return f"Delivery {body.reference} recorded: " + (
            "the order is fully delivered." if left == 0 else f"{left} still to deliver."
        )

    return act(f"/ui/deals/{deal_id}/delivery", command)


def _nothing(quantity: str) -> bool:
    """An empty or zero quantity: that line is not part of this delivery."""
    try:
        return not quantity.strip() or Decimal(quantity.strip()) == 0
    except InvalidOperation:
        return False  # not a number: the request's validation names it
