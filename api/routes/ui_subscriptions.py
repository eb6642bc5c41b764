"""The deal page's subscriptions: each line's current state (quantity, term, monthly value,
whether it renews) and what its seller may do from there: change the quantity from today,
cancel it at its term's end, or confirm the renewal of a line that does not renew by itself.

Each form calls the command its JSON route calls (api/commands/subscriptions.py), so the
renewal-quote e-mail's link to the deal page is all a seller needs to renew.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form
from fastapi.responses import RedirectResponse

from domain.access import Action, can
from domain.deal import DealState
from domain.users import Actor

from ..commands import subscriptions
from ..commands.subscriptions import QuantityChangeIn, SubscriptionActionIn, SubscriptionOut
from ..deps import ServicesDep
from ..services import Services
from ..ui_auth import UiForm
from .ui import act, ui_router
from .ui_forms import checked

router = ui_router()
Reason = Annotated[str, Form(max_length=2000)]


def subscriptions_panel(services: Services, user: Actor, deal: DealState) -> dict[str, Any]:
    """The deal's subscriptions, newest state of each, and whether this user may act."""
    found = subscriptions.subscriptions(services, user, deal.deal_id)
    return {
        "subscriptions": found,
        "renewing": {s.subscription_id for s in found if _renews(services, s)},
        "may_change_subscriptions": bool(found) and can(user, Action.QUOTE, deal.owner),
    }


def _renews(services: Services, found: SubscriptionOut) -> bool:
    """Whether it renews at its term's end: by itself, or confirmed by its seller (which
    only its workflow knows)."""
    if found.current.auto_renew:
        return True
    view = services.temporal.subscription_view(found.subscription_id)
    return view is not None and not view.ended and view.renewal_confirmed


def _deal_page(found: SubscriptionOut) -> str:
    return f"/ui/deals/{found.deal_id}"


@router.post("/subscriptions/{subscription_id}/quantity")
def change_quantity(
    subscription_id: str,
    session: UiForm,
    services: ServicesDep,
    quantity: Annotated[str, Form(max_length=40)],
) -> RedirectResponse:
    found = subscriptions.subscription(services, session.user, subscription_id)

    def command() -> str:
        body = checked(QuantityChangeIn, {"quantity": quantity})
        view = subscriptions.change_quantity(services, session.user, subscription_id, body)()
        charged = view.charged
        said = f"{found.current.sku} is now {view.subscription.quantity} units from today."
        if charged is not None and charged.net > 0:
            said += f" Charged now: {charged.net} {found.current.currency} net."
        elif charged is not None and charged.net < 0:
            said += f" Credited on the next invoices: {-charged.net} {found.current.currency} net."
        return said

    return act(_deal_page(found), command)


@router.post("/subscriptions/{subscription_id}/cancel")
def cancel_at_term_end(
    subscription_id: str, session: UiForm, services: ServicesDep, reason: Reason = ""
) -> RedirectResponse:
    found = subscriptions.subscription(services, session.user, subscription_id)

    def command() -> str:
        body = checked(SubscriptionActionIn, {"reason": reason})
        subscriptions.cancel_at_term_end(services, session.user, subscription_id, body)
        return f"{found.current.sku} ends with its term and will not renew."

    return act(_deal_page(found), command)


@router.post("/subscriptions/{subscription_id}/renew")
def renew(
    subscription_id: str, session: UiForm, services: ServicesDep, reason: Reason = ""
) -> RedirectResponse:
    found = subscriptions.subscription(services, session.user, subscription_id)

    def command() -> str:
        body = checked(SubscriptionActionIn, {"reason": reason})
        view = subscriptions.renew(services, session.user, subscription_id, body)
        price = view.next_renewal_price
        at = f" at {price} {found.current.currency} a unit" if price is not None else ""
        return f"{found.current.sku} renews at its term's end{at}."

    return act(_deal_page(found), command)
