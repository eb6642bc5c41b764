"""The company policy: managers, finance and admins read its versions; admins write the next.
A change applies to deals started after it; running deals keep the copy they started with."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.access import Action
from domain.errors import InvalidInput, NotFound
from domain.policy import CompanyPolicy, PolicyVersion, PolicyVersionSummary, missing_fields
from domain.users import Actor

from ..services import Services
from .authorization import authorize


class PolicyIn(BaseModel):
    """A new version: the whole policy (every field, as `GET /policy` shows it) and why."""

    model_config = ConfigDict(extra="forbid")
    policy: CompanyPolicy
    note: str | None = Field(default=None, max_length=2000)


def current_policy(services: Services, user: Actor) -> PolicyVersion:
    authorize(user, Action.VIEW_POLICY)
    return services.policies.current()


def policy_versions(services: Services, user: Actor) -> list[PolicyVersionSummary]:
    """Newest first."""
    authorize(user, Action.VIEW_POLICY)
    return services.policies.summaries()


def policy_version(services: Services, user: Actor, version: int) -> PolicyVersion:
    authorize(user, Action.VIEW_POLICY)
    found = services.policies.get(version)
    if found is None:
        raise NotFound(f"no policy version {version}")
    return found


def change_policy(
    services: Services, user: Actor, body: PolicyIn, at: datetime
) -> tuple[PolicyVersion, bool]:
    """The next version and True; or the newest and False when `body` changes nothing."""
    authorize(user, Action.CHANGE_POLICY)
    missing = missing_fields(body.policy)
    if missing:
        raise InvalidInput(
            "the policy is replaced whole: give every field, as GET /policy shows it",
            field=("policy", *missing[0]),
        )
    return services.policies.change(body.policy, user.username, at, body.note)
