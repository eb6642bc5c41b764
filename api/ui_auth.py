"""The web UI's session: the API's own JWT, carried in an HttpOnly cookie, plus a CSRF token.

The cookie is decoded exactly as a bearer token is (`deps.signed_in_user`); the CSRF token is
an HMAC of that session token, so it changes with every login and needs no storage.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request, Response

from config import Settings
from domain.errors import NotAllowed
from domain.users import Actor

from .auth import TokenOut
from .deps import ServicesDep, signed_in_user
from .errors import Unauthenticated
from .services import Services

COOKIE = "l2c_session"
COOKIE_PATH = "/ui"
LOGIN_COOKIE = "l2c_login"  # the login form's nonce: a form posted from another site lacks it


class LoginRequired(Exception):  # noqa: N818 - a signal to the UI's routes, not a failure
    """No valid session: the UI answers with a redirect to its login page."""


@dataclass(frozen=True)
class UiSession:
    """Who is signed in to the UI, and the token their forms must carry back."""

    user: Actor
    csrf: str
    locale: str | None = None  # the user's own; None: the company's (api/routes/ui_format.py)
    time_zone: str | None = None


def csrf_token(session_token: str, settings: Settings) -> str:
    message = b"l2c-ui-csrf\x1f" + session_token.encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def session_from(request: Request, services: Services) -> UiSession | None:
    """The session of the request's cookie, or None when it is missing, expired or revoked."""
    token = request.cookies.get(COOKIE)
    try:
        user = signed_in_user(token, services)
    except Unauthenticated:
        return None
    assert token is not None
    return UiSession(
        user=Actor(username=user.username, role=user.role),
        csrf=csrf_token(token, services.settings),
        locale=user.locale,
        time_zone=user.time_zone,
    )


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


def login_csrf_token(nonce: str, settings: Settings) -> str:
    message = b"l2c-login-csrf\x1f" + nonce.encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def login_nonce() -> str:
    return secrets.token_urlsafe(32)


def keep_login_nonce(response: Response, nonce: str, settings: Settings) -> None:
    """The login form's nonce, in an HttpOnly, SameSite=Strict cookie; the form carries back
    `login_csrf_token(nonce)`, which proves the post came from a page of this site."""
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=settings.base_url.startswith("https://"),
    )


def login_form_is_ours(request: Request, token: str | None, settings: Settings) -> bool:
    """The posted login form carries the token of the nonce in this browser's cookie (a
    cross-site post has neither: the cookie is SameSite=Strict and the page is unreadable)."""
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not token:
        return False
    return hmac.compare_digest(token.encode(), login_csrf_token(nonce, settings).encode())


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
