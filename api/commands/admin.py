"""User administration (admins): list, add, change a role, disable or enable; and each
user's own display settings (locale and time zone), which they or an admin may change."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from adapters.storage.users import User
from domain.access import Action
from domain.display import valid_locale, valid_time_zone
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


class DisplayIn(BaseModel):
    """How the UI writes numbers and times for a user; null: the company's default."""

    model_config = ConfigDict(extra="forbid")
    locale: str | None = Field(default=None, max_length=20, examples=["de_DE"])
    time_zone: str | None = Field(default=None, max_length=64, examples=["Europe/Berlin"])

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str | None) -> str | None:
        if value and not valid_locale(value):
            raise ValueError(f"unknown locale {value!r} (e.g. de_DE, en_US, fr_FR)")
        return value or None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value and not valid_time_zone(value):
            raise ValueError(f"unknown time zone {value!r} (an IANA name: Europe/Berlin)")
        return value or None


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
    services.users.add(body.username, body.role, body.email, body.password, by=user.username)
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
    if not services.users.set_role(username, role, by=user.username):
        raise NotFound("user not found")
    return _user(services, username)


class TeamIn(BaseModel):
    """The user's sales team, for the forecast's team roll-up; null: no team."""

    model_config = ConfigDict(extra="forbid")
    team: str | None = Field(default=None, min_length=1, max_length=64)


def set_team(services: Services, user: Actor, username: str, team: str | None) -> User:
    authorize(user, Action.MANAGE_USERS)
    if not services.users.set_team(username, team, by=user.username):
        raise NotFound("user not found")
    return _user(services, username)


def set_active(services: Services, user: Actor, username: str, active: bool) -> User:
    """A disabled user's tokens stop working at once (every request checks the user)."""
    authorize(user, Action.MANAGE_USERS)
    if not active:
        _not_yourself(user, username, "disable")
    if not services.users.set_active(username, active, by=user.username):
        raise NotFound("user not found")
    return _user(services, username)


def set_display(services: Services, user: Actor, username: str, body: DisplayIn) -> User:
    """A user sets their own; an admin anyone's."""
    if username != user.username:
        authorize(user, Action.MANAGE_USERS)
    if not services.users.set_display(username, body.locale, body.time_zone, by=user.username):
        raise NotFound("user not found")
    return _user(services, username)


def own_user(services: Services, user: Actor) -> User:
    return _user(services, user.username)
