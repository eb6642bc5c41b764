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


class Handle:
    """A deal workflow's handle whose first update times out (its worker was killed)."""

    def __init__(self) -> None:
        self.ids: list[str | None] = []

    async def execute_update(self, update: object, arg: object, id: str | None = None) -> str:
        self.ids.append(id)
        if len(self.ids) == 1:
            raise RPCError("context deadline exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b"")
        return "applied"


class Client:
    def __init__(self) -> None:
        self.handle = Handle()

    def get_workflow_handle_for(self, run: object, workflow_id: str) -> Handle:
        return self.handle


def test_an_update_that_timed_out_is_sent_again_under_the_same_id():
    from anyio import run, to_thread

    from api.gateway import TemporalGateway
    from workflows.deal import DealWorkflow

    client = Client()
    gateway = TemporalGateway(client, "q")  # type: ignore[arg-type]

    async def main() -> object:
        return await to_thread.run_sync(
            lambda: gateway.update_deal("d1", DealWorkflow.caught_up, None)  # type: ignore[arg-type]
        )

    assert run(main) == "applied"
    first, second = client.handle.ids
    assert first is not None and first == second  # Temporal applies one update per id


def test_a_timeout_that_lasts_is_a_503_with_retry_after():
    from api.errors import Busy, from_temporal

    refusal = from_temporal(
        RPCError("context deadline exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b""), "x"
    )
    assert isinstance(refusal, Busy)
    assert (refusal.status, refusal.retry_after) == (503, 5)
