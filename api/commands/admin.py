"""User administration (admins): list, add, change a role, disable or enable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from adapters.storage.users import User
from domain.access import Action
from domain.errors import Conflict, NotFound
from domain.users import Actor, Role

from ..services import Services
from .authorization import authorize


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    role: Role
    email: EmailStr
    password: str = Field(min_length=10, max_length=200)


def _user(services: Services, username: str) -> User:
    found = services.users.get(username)
    if found is None:
        raise NotFound("user not found")
    return found


def users(services: Services, user: Actor) -> list[User]:
    authorize(user, Action.MANAGE_USERS)
    return services.users.all()


def add_user(services: Services, user: Actor, body: UserIn) -> User:
    authorize(user, Action.MANAGE_USERS)
    if services.users.get(body.username) is not None:
        raise Conflict(f"user {body.username} exists")
    services.users.add(body.username, body.role, body.email, body.password)
    return _user(services, body.username)


def _not_yourself(user: Actor, username: str, what: str) -> None:
    """An admin who disabled or demoted themselves could not undo it (nor might anyone, were
    they the last admin): another admin does it."""
    if username == user.username:
        raise Conflict(f"you cannot {what} yourself: another admin does that")


def set_role(services: Services, user: Actor, username: str, role: Role) -> User:
    authorize(user, Action.MANAGE_USERS)
    if role is not user.role:
        _not_yourself(user, username, "change the role of")
    if not services.users.set_role(username, role):
        raise NotFound("user not found")
    return _user(services, username)


def set_active(services: Services, user: Actor, username: str, active: bool) -> User:
    """A disabled user's tokens stop working at once (every request checks the user)."""
    authorize(user, Action.MANAGE_USERS)
    if not active:
        _not_yourself(user, username, "disable")
    if not services.users.set_active(username, active):
        raise NotFound("user not found")
    return _user(services, username)
