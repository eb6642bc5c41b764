"""The web UI's frame: its routers' error handling, page rendering, flash messages, login.

Pages live in ui_deals.py (board, deal, inbox) and ui_reports.py (invoices, dashboard).
Every page reads the session cookie (api/ui_auth.py); a refusal is shown on a page, with
the status the JSON API would answer, never as JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from domain.errors import DomainError, NotFound

from ..commands import auth
from ..deps import ServicesDep, client_address, get_services
from ..errors import Unauthenticated
from ..ui_auth import (
    COOKIE_PATH,
    LoginRequired,
    UiForm,
    UiSession,
    end_session,
    keep_login_nonce,
    login_csrf_token,
    login_form_is_ours,
    login_nonce,
    session_from,
    start_session,
)
from . import TEMPLATES
from .ui_format import Display, register_filters
from .ui_nav import nav_for

FLASH = "l2c_flash"
# Scripts and styles only from /ui/static; no framing, so no click-jacked approvals.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
LOGIN = "/ui/login"
HOME = "/ui/board"
# Where login may send you back to: a page of this UI, never another site ("//evil", "/\\").
SAFE_NEXT = re.compile(r"/ui/[A-Za-z0-9/_.\-]*(\?[A-Za-z0-9=&_.%+\-]*)?")


def safe_next(target: str | None) -> str:
    """`target` if it is a page of this UI, else the home page."""
    if target and SAFE_NEXT.fullmatch(target) and "//" not in target and ".." not in target:
        return target
    return HOME


def login_url(request: Request) -> str:
    """The login page, to come back to the page asked for (GETs only: a form is re-sent)."""
    if request.method != "GET":
        return LOGIN
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return LOGIN if safe_next(here) == HOME else f"{LOGIN}?{urlencode({'next': here})}"


templates = Jinja2Templates(directory=TEMPLATES / "ui")
register_filters(templates.env)


def display_for(request: Request, session: UiSession | None) -> Display:
    """The reader's locale and time zone: their own, else the company's (settings)."""
    settings = get_services(request).settings
    default = Display.choose(settings.ui_locale, settings.ui_time_zone, Display())
    if session is None:
        return default
    return Display.choose(session.locale, session.time_zone, default)


def page(
    request: Request,
    session: UiSession | None,
    name: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Render a page in the frame (nav bar, the flash message of the last action)."""
    message = _read_flash(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "session": session,
            "nav": nav_for(session.user) if session else [],
            "display": display_for(request, session),
            "flash": message,
            **(context or {}),
        },
        status_code=status,
        headers=SECURITY_HEADERS,
    )
    if message is not None:
        response.delete_cookie(FLASH, path=COOKIE_PATH)
    return response


def redirect(url: str, kind: str | None = None, text: str | None = None) -> RedirectResponse:
    """POST-redirect-GET, with a message for the next page."""
    response = RedirectResponse(url, status_code=303)
    if kind and text:
        value = base64.urlsafe_b64encode(json.dumps({"kind": kind, "text": text}).encode())
        response.set_cookie(
            FLASH, value.decode(), max_age=60, path=COOKIE_PATH, httponly=True, samesite="strict"
        )
    return response


def _read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH)
    if not raw:
        return None
    try:
        message = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(message, dict):
        return None
    return {"kind": str(message.get("kind", "")), "text": str(message.get("text", ""))}


def act(back: str, command: Callable[[], str]) -> RedirectResponse:
    """Run a command and go `back` saying what it did, or why it was refused (404 stays a
    404 page: nobody learns that a deal they may not see exists)."""
    try:
        done = command()
    except NotFound:
        raise
    except DomainError as err:
        return redirect(back, "error", f"Refused ({err.status}): {err.message}")
    return redirect(back, "ok", done)


class UiRoute(APIRoute):
    """Answers the UI's way: no session -> the login page; a refusal -> an HTML page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def ui_handler(request: Request) -> Response:
            try:
                return await handle(request)
            except LoginRequired:
                response = RedirectResponse(login_url(request), status_code=303)
                end_session(response)
                return response
            except DomainError as err:
                return _refusal(request, err.status, err.message)
            except RequestValidationError as err:
                fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in err.errors())
                return _refusal(request, 422, f"the form is not valid: {fields}")

        return ui_handler


def _refusal(request: Request, status: int, message: str) -> HTMLResponse:
    session = session_from(request, get_services(request))
    title = {403: "Not allowed", 404: "Not found", 409: "Not now"}.get(status, "Refused")
    return page(request, session, "error.html", {"title": title, "message": message}, status=status)


def ui_router() -> APIRouter:
    """A router for UI pages: under /ui, out of the OpenAPI schema, answering in HTML."""
    return APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)


router = ui_router()


@router.get("")
def home() -> RedirectResponse:
    return RedirectResponse(HOME, status_code=303)


@router.get("/login", response_model=None)
def login_form(
    request: Request,
    services: ServicesDep,
    next: Annotated[str | None, Query(max_length=500)] = None,  # noqa: A002 - the URL's name
) -> Response:
    if session_from(request, services) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return login_page(request, services, {"next": safe_next(next)})


def login_page(
    request: Request, services: ServicesDep, context: dict[str, Any], status: int = 200
) -> Response:
    """The login form, with a fresh CSRF nonce (login CSRF: nobody logs you in as them)."""
    nonce = login_nonce()
    token = login_csrf_token(nonce, services.settings)
    response = page(request, None, "login.html", {**context, "login_csrf": token}, status)
    keep_login_nonce(response, nonce, services.settings)
    return response


@router.post("/login", response_model=None)
def login(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    login_csrf: Annotated[str | None, Form(max_length=200)] = None,
    next: Annotated[str | None, Form(max_length=500)] = None,  # noqa: A002 - the form's name
) -> Response:
    """The password check and throttle of POST /auth/token; the token goes into a cookie.
    A form that did not come from our login page is refused before any password check."""
    if not login_form_is_ours(request, login_csrf, services.settings):
        error = "This login form has expired or did not come from this site; try again."
        context = {"error": error, "username": username, "next": safe_next(next)}
        return login_page(request, services, context, 403)
    try:
        token = auth.login(services, username, password, client_address(request))
    except auth.LoginThrottled:
        error = "Too many failed logins; try again later."
        context = {"error": error, "username": username, "next": safe_next(next)}
        return login_page(request, services, context, 429)
    except Unauthenticated:
        error = "Wrong username or password."
        context = {"error": error, "username": username, "next": safe_next(next)}
        return login_page(request, services, context, 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    start_session(response, token, services.settings)
    return response


@router.post("/logout")
def logout(session: UiForm, services: ServicesDep) -> RedirectResponse:
    """Ends every session and token of the user, not only this cookie."""
    auth.logout(services, session.user)
    response = RedirectResponse(LOGIN, status_code=303)
    end_session(response)
    return response
