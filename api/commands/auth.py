"""Logging in (the JSON token and the UI's session alike), throttled per user name."""

from __future__ import annotations

from datetime import timedelta

from domain.errors import DomainError

from ..auth import TokenOut, issue_token
from ..errors import Unauthenticated
from ..services import Services

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


class LoginThrottled(DomainError):
    """Too many wrong passwords for this name lately."""

    status = 429


def login(services: Services, username: str, password: str) -> TokenOut:
    """Five wrong passwords for a name within 15 minutes lock that name for the rest of them."""
    name = username[:64]
    if services.users.recent_failures(name, WINDOW) >= MAX_FAILURES:
        raise LoginThrottled("too many failed logins; try again later")
    user = services.users.authenticate(name, password)
    services.users.record_login(name, user is not None)
    if user is None:
        raise Unauthenticated("wrong username or password")
    return issue_token(user, services.settings)
