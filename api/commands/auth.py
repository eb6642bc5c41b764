"""Logging in (the JSON token and the UI's session alike), throttled per client and name."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.errors import DomainError
from domain.login import LoginThrottle
from domain.users import Actor

from ..auth import TokenOut, issue_token
from ..errors import Unauthenticated
from ..services import Services

THROTTLE = LoginThrottle()


class LoginThrottled(DomainError):
    """Too many wrong passwords from this client lately (for this name, or for any)."""

    status = 429


def login(services: Services, username: str, password: str, client: str) -> TokenOut:
    """The try is claimed (counted as a failure) before the password is checked, so parallel
    guesses cannot pass the limit; a right password forgets this client's failures."""
    name, client = username[:64], client[:64]
    if services.logins.claim(client, name, THROTTLE, datetime.now(UTC)) is None:
        raise LoginThrottled("too many failed logins; try again later")
    user = services.users.authenticate(name, password)
    if user is None:
        raise Unauthenticated("wrong username or password")
    services.logins.succeeded(client, name)
    return issue_token(user, services.settings)


def logout(services: Services, user: Actor) -> None:
    """Every token issued to the user so far stops working."""
    services.users.revoke_tokens(user.username)
