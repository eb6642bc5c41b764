"""POST /auth/token (throttled per user), and the user administration of admins."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from adapters.storage.users import User
from domain.access import Action
from domain.errors import Conflict, NotFound
from domain.users import Role

from ..auth import TokenOut, issue_token
from ..deps import CurrentUser, ServicesDep, require
from ..errors import Unauthenticated

router = APIRouter(tags=["auth"])
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


@router.post("/auth/token", response_model=TokenOut)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], services: ServicesDep
) -> TokenOut | JSONResponse:
    """Five wrong passwords for a name within 15 minutes lock that name for the rest of them."""
    name = form.username[:64]
    if services.users.recent_failures(name, WINDOW) >= MAX_FAILURES:
        return JSONResponse(
            {"detail": "too many failed logins; try again later"},
            status_code=429,
            headers={"Retry-After": str(int(WINDOW.total_seconds()))},
        )
    user = services.users.authenticate(name, form.password)
    services.users.record_login(name, user is not None)
    if user is None:
        raise Unauthenticated("wrong username or password")
    return issue_token(user, services.settings)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    role: Role
    email: EmailStr
    password: str = Field(min_length=10, max_length=200)


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


class ActiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool


@router.get("/users")
def list_users(user: CurrentUser, services: ServicesDep) -> list[User]:
    require(user, Action.MANAGE_USERS)
    return services.users.all()


@router.post("/users", status_code=201)
def add_user(body: UserIn, user: CurrentUser, services: ServicesDep) -> User:
    require(user, Action.MANAGE_USERS)
    if services.users.get(body.username) is not None:
        raise Conflict(f"user {body.username} exists")
    services.users.add(body.username, body.role, body.email, body.password)
    created = services.users.get(body.username)
    assert created is not None
    return created


@router.put("/users/{username}/role")
def set_role(username: str, body: RoleIn, user: CurrentUser, services: ServicesDep) -> User:
    require(user, Action.MANAGE_USERS)
    if not services.users.set_role(username, body.role):
        raise NotFound("user not found")
    changed = services.users.get(username)
    assert changed is not None
    return changed


@router.put("/users/{username}/active")
def set_active(username: str, body: ActiveIn, user: CurrentUser, services: ServicesDep) -> User:
    """A disabled user's tokens stop working at once (every request checks the user)."""
    require(user, Action.MANAGE_USERS)
    if not services.users.set_active(username, body.active):
        raise NotFound("user not found")
    changed = services.users.get(username)
    assert changed is not None
    return changed
