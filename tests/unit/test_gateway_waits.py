"""The gateway waits, briefly, for an invoice's collector that is not started yet; a
workflow that ended is answered at once."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.service import RPCError, RPCStatusCode

from api.gateway import _while_not_started


def answers(*outcomes: object):
    """A call that raises or returns each outcome in turn, and counts its calls."""
    calls: list[object] = []

    async def call() -> object:
        outcome = outcomes[len(calls)]
        calls.append(outcome)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return call, calls


def not_found(message: str) -> RPCError:
    return RPCError(message, RPCStatusCode.NOT_FOUND, b"")


def test_a_collector_not_started_yet_is_waited_for():
    call, calls = answers(not_found("workflow not found for ID: invoice-1"), "done")
    assert asyncio.run(_while_not_started(call)) == "done"
    assert len(calls) == 2


def test_a_collector_that_ended_is_answered_at_once():
    call, calls = answers(not_found("workflow execution already completed"), "never")
    with pytest.raises(RPCError, match="already completed"):
        asyncio.run(_while_not_started(call))
    assert len(calls) == 1


def test_other_errors_are_not_retried():
    call, calls = answers(RPCError("no", RPCStatusCode.INVALID_ARGUMENT, b""), "never")
    with pytest.raises(RPCError):
        asyncio.run(_while_not_started(call))
    assert len(calls) == 1
