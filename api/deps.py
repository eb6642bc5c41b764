"""What routes receive: the services and the current user, as Annotated dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer

from adapters.storage.users import User
from domain.users import Actor

from .auth import token_claims
from .errors import Unauthenticated
from .services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


CURSOR_MAX_LENGTH = 500
ServicesDep = Annotated[Services, Depends(get_services)]
_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def signed_in_user(token: str | None, services: Services) -> User:
    """The active user a token names, read once (the UI also wants their locale)."""
    if not token:
        raise Unauthenticated("not authenticated")
    claims = token_claims(token, services.settings)
    user = services.users.get(claims.username) if claims else None
    if user is None or claims is None or not user.active or user.token_version != claims.version:
        raise Unauthenticated("invalid or expired token")
    return user


def current_user(token: Annotated[str | None, Depends(_bearer)], services: ServicesDep) -> Actor:
    user = signed_in_user(token, services)
    return Actor(username=user.username, role=user.role)


CurrentUser = Annotated[Actor, Depends(current_user)]


def client_address(request: Request) -> str:
    """The caller's address (behind a proxy: run uvicorn with --forwarded-allow-ips so this
    is the client's, not the proxy's)."""
    return request.client.host if request.client else "unknown"


# Every paged list: how many items a page holds, and the cursor its answer's `next_cursor`
# gave (opaque; adapters/storage/views/paging.py reads it).
PageLimit = Annotated[int, Query(ge=1, le=200)]
PageCursor = Annotated[str | None, Query(max_length=CURSOR_MAX_LENGTH)]
