"""Errors to HTTP, in one place: domain errors, Temporal failures, and their status codes."""

from __future__ import annotations

import logging
from typing import Any

import psycopg2.errors
from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    WrongStage,
    error_from_details,
)


def error_body(err: DomainError) -> dict[str, Any]:
    if isinstance(err, InvalidInput):
        # The shape FastAPI gives its own validation errors: the field is named in `loc`.
        return {
            "detail": [
                {
                    "loc": ["body", *(err.field or ())],
                    "msg": err.message,
                    "type": type(err).__name__,
                }
            ]
        }
    return {"detail": err.message}


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    retry_after = getattr(exc, "retry_after", None)  # a throttle's refusal says when
    if retry_after is not None:
        headers = {"Retry-After": str(retry_after)}
    return JSONResponse(error_body(exc), status_code=exc.status, headers=headers)


def from_failure(failure: BaseException | None) -> DomainError:
    """The domain error a workflow refused with (validators and handlers raise them typed)."""
    if isinstance(failure, ApplicationError) and failure.details:
        details = failure.details[0]
        if isinstance(details, dict):
            return error_from_details(details)
    if isinstance(failure, ApplicationError):
        return error_from_details({"type": failure.type, "message": failure.message})
    return DomainError(str(failure) if failure else "the workflow refused the command")


def from_temporal(err: BaseException, closed: str) -> DomainError | None:
    """The one map from Temporal failures to refusals; None for failures that are ours (a
    server down is a 500, not a refusal). `closed` explains a workflow that has ended."""
    if isinstance(err, WorkflowAlreadyStartedError):
        return Conflict("this workflow is already started")
    if isinstance(err, WorkflowUpdateFailedError):
        # A validator or handler refused with a typed domain error: 403/409/422 by its type.
        return from_failure(err.cause)
    if isinstance(err, WorkflowUpdateRPCTimeoutOrCancelledError) or (
        isinstance(err, RPCError) and err.status in BUSY
    ):
        # Sent again with the same update id for a minute (api/gateway.py) and still not
        # answered: the deal's worker is being replaced. Whatever was sent is applied once.
        return Busy("not answered in time (a worker is restarting); send it again shortly")
    if isinstance(err, RPCError) and err.status == RPCStatusCode.NOT_FOUND:
        # We address only workflows of records we found, so a completed one is a closed
        # deal or settled invoice (409); one that does not exist at all is a 404.
        if "completed" in err.message:
            return WrongStage(closed)
        return NotFound("not found")
    return None


class Unauthenticated(DomainError):
    status = 401


class Busy(DomainError):
    """Temporal could not answer in time: 503, retry soon (nothing is lost: the command
    either was applied once or not at all)."""

    status = 503
    retry_after = 5


# gRPC statuses that mean "not now" rather than "no".
BUSY = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.ABORTED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.CANCELLED,
}


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Postgres down, restarting, too slow or read-only: 503, retry soon. Any other database
    error is ours: logged, and a plain 500."""
    if database_unavailable(exc):
        return JSONResponse(
            {"detail": "the database is unavailable; retry shortly"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    logging.getLogger(__name__).error("database error in %s", request.url.path, exc_info=exc)
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


def database_unavailable(exc: BaseException) -> bool:
    """Whether a database error means "not now" rather than a bug of ours."""
    if isinstance(exc, OperationalError):  # refused, dropped, timed out, shutting down
        return True
    orig = getattr(exc, "orig", None)
    return isinstance(orig, psycopg2.errors.ReadOnlySqlTransaction)
