"""Change orders: a signed deal's whole new set of lines, priced by the workflow from today's
price book, approved on its delta, then signed by the customer (shared/API.md v2)."""

from __future__ import annotations

from collections.abc import Callable

from domain.access import Action
from domain.change_orders import ChangeOrder, ChangeOrderRequest
from domain.deal import ChangeOrderCommand
from domain.users import Actor
from workflows.deal import DealWorkflow

from ..services import Services
from .authorization import authorize, visible_deal
from .quotes import tax_context


def request_change(
    services: Services, user: Actor, deal_id: str, body: ChangeOrderRequest
) -> Callable[[], ChangeOrder]:
    """Authorize now; the returned call sends the change (once per Idempotency-Key)."""
    found = visible_deal(services, user, deal_id)
    authorize(user, Action.QUOTE, found.owner)

    def send() -> ChangeOrder:
        book = services.catalogue.price_book(skus={line.sku for line in body.lines})
        return services.temporal.update_deal(
            deal_id,
            DealWorkflow.change_order,
            ChangeOrderCommand(
                request=body, price_book=book, actor=user, tax=tax_context(services, deal_id)
            ),
        )

    return send
