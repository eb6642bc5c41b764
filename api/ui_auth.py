"""The web UI's session: the API's own JWT, carried in an HttpOnly cookie, plus a CSRF token.

The cookie is decoded exactly as a bearer token is (`deps.current_user`); the CSRF token is
an HMAC of that session token, so it changes with every login and needs no storage.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request, Response

from config import Settings
from domain.errors import NotAllowed
from domain.users import Actor

from .auth import TokenOut
from .deps import ServicesDep, current_user
from .errors import Unauthenticated
from .services import Services

COOKIE = "l2c_session"
COOKIE_PATH = "/ui"


class LoginRequired(Exception):  # noqa: N818 - a signal to the UI's routes, not a failure
    """No valid session: the UI answers with a redirect to its login page."""


@dataclass(frozen=True)
class UiSession:
    """Who is signed in to the UI, and the token their forms must carry back."""

    user: Actor
    csrf: str


def csrf_token(session_token: str, settings: Settings) -> str:
    message = b"l2c-ui-csrf\x1f" + session_token.encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def session_from(request: Request, services: Services) -> UiSession | None:
    """The session of the request's cookie, or None when it is missing, expired or revoked."""
    token = request.cookies.get(COOKIE)
    try:
        user = current_user(token, services)
    except Unauthenticated:
        return None
    assert token is not None
    return UiSession(user=user, csrf=csrf_token(token, services.settings))


def ui_session(request: Request, services: ServicesDep) -> UiSession:
    session = session_from(request, services)
    if session is None:
        raise LoginRequired
    return session


UiUser = Annotated[UiSession, Depends(ui_session)]


def checked_form(session: UiUser, csrf: Annotated[str | None, Form()] = None) -> UiSession:
    """The session of a form POST that carries this session's CSRF token; else 403."""
    if csrf is None or not hmac.compare_digest(csrf.encode(), session.csrf.encode()):
        raise NotAllowed("this form has expired or did not come from this site; reload the page")
    return session


UiForm = Annotated[UiSession, Depends(checked_form)]


def start_session(response: Response, token: TokenOut, settings: Settings) -> None:
    response.set_cookie(
        COOKIE,
        token.access_token,
        max_age=token.expires_in,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=settings.base_url.startswith("https://"),
    )


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
