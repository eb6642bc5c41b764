"""The admin's pages: users (list, add, change a role, disable or enable) and the company
policy (a form over its settings that saves the next version, and the versions so far).

Each form calls the command its JSON route (auth.py, policy.py) calls, with the same checks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import available_timezones

import anyio.to_thread
from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from domain.access import Action, can
from domain.users import Role

from ..commands import admin, policy
from ..commands.admin import DisplayIn, UserIn
from ..commands.policy import PolicyIn
from ..deps import ServicesDep
from ..policy_form import policy_fields, policy_from_form
from ..ui_auth import UiForm, UiUser
from .ui import act, page, ui_router
from .ui_forms import checked
from .ui_nav import ADMINS, nav_entry

router = ui_router()
nav_entry("/ui/users", "Users", roles=ADMINS, order=80)
nav_entry("/ui/policy", "Policy", order=85, action=Action.VIEW_POLICY)
USERS = "/ui/users"
POLICY = "/ui/policy"


COMMON_LOCALES = [
    "en_GB",
    "en_US",
    "de_DE",
    "de_AT",
    "de_CH",
    "fr_FR",
    "es_ES",
    "it_IT",
    "nl_NL",
    "pt_BR",
    "pl_PL",
    "sv_SE",
]


@router.get("/me")
def my_settings(request: Request, session: UiUser, services: ServicesDep) -> HTMLResponse:
    """Every user's own page: the language and time zone pages are written in."""
    me = admin.own_user(services, session.user)
    context = {
        "me": me,
        "locales": COMMON_LOCALES,
        "zones": sorted(available_timezones()),
        "example": (Decimal("1234567.89"), datetime.now(UTC)),
    }
    return page(request, session, "me.html", context)


@router.post("/me")
def set_my_settings(
    session: UiForm,
    services: ServicesDep,
    locale: Annotated[str, Form(max_length=20)] = "",
    time_zone: Annotated[str, Form(max_length=64)] = "",
) -> RedirectResponse:
    def command() -> str:
        body = checked(DisplayIn, {"locale": locale or None, "time_zone": time_zone or None})
        admin.set_display(services, session.user, session.user.username, body)
        return "Saved: pages now use your language and time zone."

    return act("/ui/me", command)


@router.get("/users")
def users(request: Request, session: UiUser, services: ServicesDep) -> HTMLResponse:
    found = admin.users(services, session.user)
    context = {"users": found, "roles": list(Role)}
    return page(request, session, "back/users.html", context)


@router.post("/users")
def add_user(
    session: UiForm,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=64)],
    email: Annotated[str, Form(max_length=254)],
    role: Annotated[str, Form(max_length=32)],
    password: Annotated[str, Form(max_length=200)],
) -> RedirectResponse:
    def command() -> str:
        fields = {"username": username.strip(), "email": email.strip(), "role": role}
        body = checked(UserIn, fields | {"password": password})
        added = admin.add_user(services, session.user, body)
        return f"User {added.username} added as {added.role.value.replace('_', ' ')}."

    return act(USERS, command)


@router.post("/users/{username}/role")
def set_role(
    username: str, session: UiForm, services: ServicesDep, role: Annotated[Role, Form()]
) -> RedirectResponse:
    def command() -> str:
        changed = admin.set_role(services, session.user, username, role)
        return f"{changed.username} is now {changed.role.value.replace('_', ' ')}."

    return act(USERS, command)


@router.post("/users/{username}/active")
def set_active(
    username: str,
    session: UiForm,
    services: ServicesDep,
    active: Annotated[Literal["true", "false"], Form()],
) -> RedirectResponse:
    def command() -> str:
        changed = admin.set_active(services, session.user, username, active == "true")
        return f"{changed.username} is {'enabled' if changed.active else 'disabled'}."

    return act(USERS, command)


@router.get("/policy")
def policy_page(request: Request, session: UiUser, services: ServicesDep) -> HTMLResponse:
    """The current version as a form (admins may save it), and every version so far."""
    current = policy.current_policy(services, session.user)
    context = {
        "current": current,
        "fields": policy_fields(current.policy),
        "versions": policy.policy_versions(services, session.user),
        "may_change": can(session.user, Action.CHANGE_POLICY),
        "roles": [r.value for r in Role],
    }
    return page(request, session, "back/policy.html", context)


@router.post("/policy")
async def change_policy(
    request: Request, session: UiForm, services: ServicesDep
) -> RedirectResponse:
    """The form's settings over the current version become the next version."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}

    def command() -> str:
        current = policy.current_policy(services, session.user)
        note = form.get("note", "").strip()[:2000] or None
        body = PolicyIn(policy=policy_from_form(form, current.policy), note=note)
        version, created = policy.change_policy(services, session.user, body, datetime.now(UTC))
        if not created:
            return f"Nothing changed: version {version.version} stays the policy."
        return f"Policy version {version.version} saved: new deals start with it."

    return await anyio.to_thread.run_sync(act, POLICY, command)
