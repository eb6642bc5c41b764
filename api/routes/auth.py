"""POST /auth/token (throttled per client and user), and the user administration of admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict

from adapters.storage.users import User
from domain.users import Role

from ..auth import TokenOut
from ..commands import admin, auth
from ..commands.admin import UserIn
from ..deps import CurrentUser, ServicesDep, client_address

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenOut)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, services: ServicesDep
) -> TokenOut | JSONResponse:
    """Five wrong passwords for a name from one client within 15 minutes lock that client out
    of that name for the rest of them; other clients may still log in as that name."""
    try:
        return auth.login(services, form.username, form.password, client_address(request))
    except auth.LoginThrottled as err:
        return JSONResponse(
            {"detail": err.message},
            status_code=err.status,
            headers={"Retry-After": str(int(auth.THROTTLE.window.total_seconds()))},
        )


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


class ActiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool


@router.get("/users")
def list_users(user: CurrentUser, services: ServicesDep) -> list[User]:
    return admin.users(services, user)


@router.post("/users", status_code=201)
def add_user(body: UserIn, user: CurrentUser, services: ServicesDep) -> User:
    return admin.add_user(services, user, body)


@router.put("/users/{username}/role")
def set_role(username: str, body: RoleIn, user: CurrentUser, services: ServicesDep) -> User:
    return admin.set_role(services, user, username, body.role)


@router.put("/users/{username}/team")
def set_team(username: str, body: admin.TeamIn, user: CurrentUser, services: ServicesDep) -> User:
    """The user's sales team (admins), for the forecast's team roll-up."""
    return admin.set_team(services, user, username, body.team)


@router.put("/users/{username}/active")
def set_active(username: str, body: ActiveIn, user: CurrentUser, services: ServicesDep) -> User:
    """A disabled user's tokens stop working at once (every request checks the user)."""
    return admin.set_active(services, user, username, body.active)


@router.put("/users/{username}/display")
def set_display(
    username: str, body: admin.DisplayIn, user: CurrentUser, services: ServicesDep
) -> User:
    """The locale and time zone the web UI uses for this user (their own, or an admin's)."""
    return admin.set_display(services, user, username, body)
