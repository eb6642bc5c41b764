"""The API's door to Temporal: start deals, send them commands, map refusals to errors.

Routes are plain functions run in worker threads; the client lives on the server's event
loop, so every call hops onto it with anyio.from_thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio.from_thread
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.service import RPCError, RPCStatusCode

from domain.deal import DealInput, DealState
from domain.errors import WrongStage
from domain.stages import DealStage
from workflows.deal import DealWorkflow
from workflows.ids import deal_workflow_id, invoice_workflow_id
from workflows.search_attributes import DEAL_OWNER, DEAL_STAGE

from .errors import from_failure

T = TypeVar("T")


def _start_attributes(deal: DealInput) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [
            SearchAttributePair(DEAL_STAGE, DealStage.QUALIFYING.value),
            SearchAttributePair(DEAL_OWNER, deal.owner),
        ]
    )


class TemporalGateway:
    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    def open_deal(self, deal: DealInput) -> DealState:
        """Start the deal's workflow (once per deal id) and wait until the lead is recorded."""

        async def start() -> DealState:
            operation = WithStartWorkflowOperation(  # made on the loop: it holds a Future
                DealWorkflow.run,
                deal,
                id=deal_workflow_id(deal.deal_id),
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=_start_attributes(deal),
            )
            return await self.client.execute_update_with_start_workflow(
                DealWorkflow.opened, start_workflow_operation=operation
            )

        return self._call(start)

    def start_deals(self, deals: list[DealInput], concurrency: int = 64) -> None:
        """Start many deals (an import) without waiting for each to be recorded."""

        async def start_all() -> None:
            async def start(deal: DealInput) -> None:
                await self.client.start_workflow(
                    DealWorkflow.run,
                    deal,
                    id=deal_workflow_id(deal.deal_id),
                    task_queue=self.task_queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    search_attributes=_start_attributes(deal),
                )

            for first in range(0, len(deals), concurrency):
                await asyncio.gather(*(start(d) for d in deals[first : first + concurrency]))

        self._call(start_all)

    def update_deal(self, deal_id: str, update: Any, arg: Any) -> Any:
        handle = self.client.get_workflow_handle(deal_workflow_id(deal_id))
        return self._call(lambda: handle.execute_update(update, arg), closed="the deal is closed")

    def update_invoice(self, number: str, update: Any, arg: Any) -> Any:
        handle = self.client.get_workflow_handle(invoice_workflow_id(number))
        return self._call(
            lambda: handle.execute_update(update, arg), closed=f"invoice {number} is settled"
        )

    def query_deal(self, deal_id: str) -> DealState:
        handle = self.client.get_workflow_handle(deal_workflow_id(deal_id))
        return self._call(lambda: handle.query(DealWorkflow.state))

    def healthy(self) -> bool:
        async def check() -> bool:
            return await self.client.service_client.check_health()

        try:
            return bool(anyio.from_thread.run(check))
        except RPCError:
            return False

    @staticmethod
    def _call(call: Callable[[], Awaitable[T]], closed: str = "not found") -> T:
        async def run() -> T:
            return await call()

        try:
            return anyio.from_thread.run(run)
        except WorkflowUpdateFailedError as err:
            raise from_failure(err.cause) from err
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                # We only address workflows of records we found, so this one has ended.
                raise WrongStage(closed) from err
            raise
