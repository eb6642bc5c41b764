"""Quoting: a new quote version, priced by the workflow from today's price book."""

from __future__ import annotations

from collections.abc import Callable

from domain.access import Action
from domain.deal import QuoteCommand
from domain.quotes import Quote, QuoteRequest
from domain.users import Actor
from workflows.deal import DealWorkflow

from ..services import Services
from .authorization import authorize, visible_deal


def submit_quote(
    services: Services, user: Actor, deal_id: str, body: QuoteRequest
) -> Callable[[], Quote]:
    """Authorize now; the returned call submits the quote (once per Idempotency-Key)."""
    found = visible_deal(services, user, deal_id)
    authorize(user, Action.QUOTE, found.owner)

    def submit() -> Quote:
        # The prices of the quoted SKUs go with the command, so history shows what priced it.
        book = services.catalogue.price_book(skus={line.sku for line in body.lines})
        return services.temporal.update_deal(
            deal_id,
            DealWorkflow.submit_quote,
            QuoteCommand(request=body, price_book=book, actor=user),
        )

    return submit
