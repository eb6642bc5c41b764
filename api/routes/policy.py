"""The company policy and its versions: read by managers, finance and admins; admins change it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response

from domain.policy import PolicyVersion, PolicyVersionSummary

from ..commands import policy
from ..commands.policy import PolicyIn
from ..deps import CurrentUser, ServicesDep

router = APIRouter(tags=["policy"])

VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/policy")
def current_policy(user: CurrentUser, services: ServicesDep) -> PolicyVersion:
    """The version every new deal starts with."""
    return policy.current_policy(services, user)


@router.get("/policy/versions")
def policy_versions(user: CurrentUser, services: ServicesDep) -> list[PolicyVersionSummary]:
    """Every version, newest first: who made it, when, and why."""
    return policy.policy_versions(services, user)


@router.get("/policy/versions/{version}")
def policy_version(
    version: VersionNumber, user: CurrentUser, services: ServicesDep
) -> PolicyVersion:
    return policy.policy_version(services, user, version)


@router.put(
    "/policy",
    status_code=201,
    operation_id="change_policy",
    responses={200: {"description": "The policy given is the newest version already"}},
)
def change_policy(
    body: PolicyIn, user: CurrentUser, services: ServicesDep, response: Response
) -> PolicyVersion:
    """Admins: the whole policy becomes the next version (201), for deals started from now
    on; running deals keep theirs. The same policy again changes nothing (200)."""
    version, created = policy.change_policy(services, user, body, datetime.now(UTC))
    if not created:
        response.status_code = 200
    return version
