"""The one authorization check of the API (the workflows check again), and deal visibility."""

from __future__ import annotations

from adapters.storage.views.deals import DealRow
from domain.access import Action, can, sees_all_deals
from domain.deal import DealState
from domain.errors import NotAllowed, NotFound
from domain.users import Actor

from ..services import Services

DEAL_NOT_FOUND = "deal not found"


def authorize(user: Actor, action: Action, owner: str | None = None) -> None:
    """403 unless the policy table lets `user` do `action` (on a deal of `owner`)."""
    if not can(user, action, owner):
        raise NotAllowed(f"{user.role} may not {action.replace('_', ' ')}")


def may_see(user: Actor, owner: str) -> bool:
    return sees_all_deals(user) or owner == user.username


def visible_deal(services: Services, user: Actor, deal_id: str) -> DealRow:
    """The deal, if `user` may see it; otherwise 404, so nobody learns that it exists."""
    deal = services.views.deals.row(deal_id)
    if deal is None or not may_see(user, deal.owner):
        raise NotFound(DEAL_NOT_FOUND)
    return deal


def visible_state(services: Services, user: Actor, deal_id: str) -> DealState:
    """The whole deal (one read), if `user` may see it; otherwise 404."""
    state = services.views.deals.state(deal_id)
    if state is None or not may_see(user, state.owner):
        raise NotFound(DEAL_NOT_FOUND)
    return state


def owner_scope(user: Actor) -> str | None:
    """None (every owner) for roles that see all deals; else the rep themself."""
    return None if sees_all_deals(user) else user.username
