"""What routes receive: the services, the current user, and the one authorization check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Engine

from adapters.documents import Documents
from adapters.portal_tokens import PortalTokens
from adapters.storage.assignment import AssignmentRules
from adapters.storage.catalogue import Catalogue
from adapters.storage.idempotency import IdempotencyStore
from adapters.storage.reads import DealRow, Reads
from adapters.storage.users import UserDirectory
from config import Settings
from domain.access import Action, can, sees_all_deals
from domain.errors import NotAllowed, NotFound
from domain.users import Actor

from .auth import token_subject
from .errors import Unauthenticated
from .gateway import TemporalGateway


@dataclass
class Services:
    """Made once in the app's lifespan; shared by every request."""

    settings: Settings
    engine: Engine
    reads: Reads
    users: UserDirectory
    catalogue: Catalogue
    assignment: AssignmentRules
    idempotency: IdempotencyStore
    portal: PortalTokens
    documents: Documents
    temporal: TemporalGateway


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def current_user(token: Annotated[str | None, Depends(_bearer)], services: ServicesDep) -> Actor:
    if not token:
        raise Unauthenticated("not authenticated")
    username = token_subject(token, services.settings)
    user = services.users.get(username) if username else None
    if user is None or not user.active:
        raise Unauthenticated("invalid or expired token")
    return Actor(username=user.username, role=user.role)


CurrentUser = Annotated[Actor, Depends(current_user)]


def require(user: Actor, action: Action, owner: str | None = None) -> None:
    """The one authorization check of the API (the workflows check again)."""
    if not can(user, action, owner):
        raise NotAllowed(f"{user.role} may not {action.replace('_', ' ')}")


def visible_deal(deal_id: str, user: Actor, services: Services) -> DealRow:
    """The deal, if `user` may see it; otherwise 404, so nobody learns that it exists."""
    deal = services.reads.deal(deal_id)
    if deal is None or not (sees_all_deals(user) or deal.owner == user.username):
        raise NotFound("deal not found")
    return deal
