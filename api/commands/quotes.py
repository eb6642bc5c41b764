"""Quoting: a new quote version, priced by the workflow from today's price book and taxed
by the seller's country and the customer's tax profile as they stand (domain/tax.py)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from domain.access import Action
from domain.catalogue import PriceBookEntry
from domain.deal import DealState, QuoteCommand
from domain.quotes import Quote, QuoteRequest
from domain.tax import TaxContext
from domain.users import Actor
from workflows.deal import DealWorkflow

from ..services import Services
from .authorization import authorize, visible_deal, visible_state


def submit_quote(
    services: Services, user: Actor, deal_id: str, body: QuoteRequest
) -> Callable[[], Quote]:
    """Authorize now; the returned call submits the quote (once per Idempotency-Key)."""
    found = visible_deal(services, user, deal_id)
    authorize(user, Action.QUOTE, found.owner)

    def submit() -> Quote:
        # The prices of the quoted SKUs go with the command, so history shows what priced it.
        book = services.catalogue.price_book(skus={line.sku for line in body.lines})
        quote = services.temporal.update_deal(
            deal_id,
            DealWorkflow.submit_quote,
            QuoteCommand(
                request=body, price_book=book, actor=user, tax=tax_context(services, deal_id)
            ),
        )
        # Saved (and numbered) before the update answers: the number people will quote.
        number = services.views.deals.quote_number(deal_id, quote.version)
        return quote.model_copy(update={"number": number})

    return submit


def tax_context(services: Services, deal_id: str) -> TaxContext:
    """What a quote of the deal is taxed by, read now and sent with the command."""
    return TaxContext(
        seller_country=services.settings.seller.country,
        buyer=services.customers.tax_of_deal(deal_id),
    )


class QuoteForm(BaseModel):
    """What a quote form needs: the deal (its last quote to start from) and the products."""

    deal: DealState
    products: list[PriceBookEntry]


def quote_form(services: Services, user: Actor, deal_id: str) -> QuoteForm:
    """For those who may quote this deal (403 otherwise); active products only."""
    state = visible_state(services, user, deal_id)
    authorize(user, Action.QUOTE, state.owner)
    products = [p for p in services.catalogue.price_book().entries if p.active]
    return QuoteForm(deal=state, products=products)
