"""The API's door to Temporal: start deals and send deal and invoice workflows their typed
updates; every Temporal failure leaves as a domain error (api/errors.py maps them).

Routes are plain functions run in worker threads; the client lives on the server's event
loop, so every call hops onto it with anyio.from_thread.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

import anyio.from_thread
from prometheus_client import Histogram
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    WorkflowIDConflictPolicy,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from activities.imports import start_attributes
from domain.deal import DealInput, DealState
from workflows.deal import DealWorkflow
from workflows.ids import deal_workflow_id, invoice_workflow_id, lead_import_workflow_id
from workflows.invoice import InvoiceWorkflow
from workflows.lead_import import LeadImport, LeadImportWorkflow
from workflows.subscription_billing import SubscriptionBillingWorkflow, SubscriptionView

from .errors import BUSY, from_temporal

log = logging.getLogger(__name__)

A = TypeVar("A")  # an update's argument (its command model)
R = TypeVar("R")  # an update's result
T = TypeVar("T")


class TemporalGateway:
    """One per app, on the app's one Temporal client. Each update's round trip is timed in
    `commands` (`l2c_command_duration_seconds{command}`, by the update's name)."""

    def __init__(self, client: Client, task_queue: str, commands: Histogram | None = None) -> None:
        self.client = client
        self.task_queue = task_queue
        self.commands = commands

    def _timed(self, update: object) -> AbstractContextManager[object]:
        if self.commands is None:
            return nullcontext()
        return self.commands.labels(command=update_name(update)).time()

    def open_deal(self, deal: DealInput) -> DealState:
        """Start the deal's workflow (once per deal id) and wait until the lead is recorded."""

        async def start() -> DealState:
            operation = WithStartWorkflowOperation(  # made on the loop: it holds a Future
                DealWorkflow.run,
                deal,
                id=deal_workflow_id(deal.deal_id),
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=start_attributes(deal),
                static_summary=f"{deal.lead.company}: {deal.lead.contact_name} ({deal.owner})",
            )
            return await self.client.execute_update_with_start_workflow(
                DealWorkflow.opened, start_workflow_operation=operation
            )

        # `opened` only waits for the lead to be recorded, so sending it again is harmless:
        # a worker killed in the deal's first task can abort it in several transient ways.
        with self._timed(DealWorkflow.opened):
            return self._call(lambda: _while_transient(start), closed="the deal is closed")

    def start_import(self, job: LeadImport) -> None:
        """Start the import's workflow (once per import id); it starts the deals."""

        async def start() -> None:
            await self.client.start_workflow(
                LeadImportWorkflow.run,
                job,
                id=lead_import_workflow_id(job.import_id),
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                static_summary=f"lead import {job.import_id}",
            )

        self._call(start, closed="the import has ended")

    def update_deal(
        self,
        deal_id: str,
        update: UpdateMethodMultiParam[[DealWorkflow, A], R],
        arg: A,
    ) -> R:
        """Send the deal `update(arg)`; its answer once the deal has settled."""
        handle = self.client.get_workflow_handle_for(DealWorkflow.run, deal_workflow_id(deal_id))
        update_id = uuid.uuid4().hex  # sent again after a timeout, it is applied once

        async def send() -> R:
            return await _while_transient(lambda: handle.execute_update(update, arg, id=update_id))

        with self._timed(update):
            return self._call(send, closed="the deal is closed")

    def deal_caught_up(self, deal_id: str) -> None:
        """Until the deal has applied what its invoice collectors told it (a settled invoice
        may close it as WON). A deal started before the reshape has no such update and a
        closed deal nothing to apply: both answer at once."""
        handle = self.client.get_workflow_handle_for(DealWorkflow.run, deal_workflow_id(deal_id))

        async def send() -> None:
            await handle.execute_update(DealWorkflow.caught_up)

        try:
            anyio.from_thread.run(send)
        except (WorkflowUpdateFailedError, RPCError) as err:
            log.debug("deal %s: nothing to catch up on (%s)", deal_id, err)

    def update_invoice(
        self,
        number: str,
        update: UpdateMethodMultiParam[[InvoiceWorkflow, A], R],
        arg: A,
    ) -> R:
        """Send the invoice's collection `update(arg)`. An invoice is written before its
        collector starts (the commit, then the child workflow): a collector not there yet is
        waited for, briefly."""
        handle = self.client.get_workflow_handle_for(
            InvoiceWorkflow.run, invoice_workflow_id(number)
        )

        update_id = uuid.uuid4().hex  # sent again after a timeout, it is applied once

        async def send() -> R:
            return await _while_transient(
                lambda: _while_not_started(lambda: handle.execute_update(update, arg, id=update_id))
            )

        with self._timed(update):
            return self._call(send, closed=f"invoice {number} is settled")

    def update_subscription(
        self,
        subscription_id: str,
        update: UpdateMethodMultiParam[[SubscriptionBillingWorkflow, A], R],
        arg: A,
    ) -> R:
        """Send the subscription `update(arg)` (its id is its workflow's)."""
        handle = self.client.get_workflow_handle_for(
            SubscriptionBillingWorkflow.run, subscription_id
        )
        update_id = uuid.uuid4().hex  # sent again after a timeout, it is applied once

        async def send() -> R:
            return await _while_transient(lambda: handle.execute_update(update, arg, id=update_id))

        with self._timed(update):
            return self._call(send, closed="the subscription has ended")

    def subscription_view(self, subscription_id: str) -> SubscriptionView | None:
        """The subscription as its workflow holds it (None when it has ended or is gone)."""
        handle = self.client.get_workflow_handle_for(
            SubscriptionBillingWorkflow.run, subscription_id
        )

        async def ask() -> SubscriptionView:
            return await handle.query(SubscriptionBillingWorkflow.subscription)

        try:
            return anyio.from_thread.run(ask)
        except RPCError as err:
            log.info("subscription %s: no answer to its query (%s)", subscription_id, err)
            return None

    def healthy(self) -> bool:
        async def check() -> bool:
            return await self.client.service_client.check_health()

        try:
            return bool(anyio.from_thread.run(check))
        except RPCError:
            return False

    @staticmethod
    def _call(call: Callable[[], Coroutine[Any, Any, T]], closed: str) -> T:
        try:
            return anyio.from_thread.run(_while_not_ready, call)
        except Exception as err:
            refusal = from_temporal(err, closed)
            if refusal is None:
                raise
            raise refusal from err


def update_name(update: object) -> str:
    """The name a workflow update is sent by (its handler's, unless the decorator renamed it)."""
    definition = getattr(update, "_defn", None)  # temporalio's; no public accessor
    name = getattr(definition, "name", None) or getattr(update, "__name__", None)
    return str(name or "update")


NOT_READY_FOR = 60.0  # seconds: a worker that died in a workflow task is replaced by then


STARTS_WITHIN = 10.0  # seconds: a child workflow is started right after its row is written


async def _while_not_started(call: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`call()`, again while its workflow is not found (not started yet; one that ended is
    "already completed", and answered at once)."""
    delay, waited = 0.05, 0.0
    while True:
        try:
            return await call()
        except RPCError as err:
            starting = err.status == RPCStatusCode.NOT_FOUND and "completed" not in err.message
            if not starting or waited >= STARTS_WITHIN:
                raise
        await asyncio.sleep(delay)
        waited += delay
        delay = min(delay * 2, 1.0)


async def _while_transient(call: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`call()`, again while it fails in a way that says "not now" (the update was aborted
    with its workflow task, or the server was busy) for up to NOT_READY_FOR; only for calls
    that are safe to send twice: an update sent again under its first id is deduplicated by
    Temporal (one outcome per update id and run)."""
    delay, waited = 0.1, 0.0
    while True:
        try:
            return await call()
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
            transient = isinstance(err, WorkflowUpdateRPCTimeoutOrCancelledError) or (
                err.status in BUSY
            )
            if not transient or waited >= NOT_READY_FOR:
                raise
            log.warning("transient Temporal failure, sending again: %r", err)
        await asyncio.sleep(delay)
        waited += delay
        delay = min(delay * 2, 2.0)


async def _while_not_ready(call: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`call()`, again while the workflow cannot take an Update because its workflow task is
    being retried (a worker died in it: Temporal answers FAILED_PRECONDITION until another
    worker has run the task). Nothing was applied, so sending again is safe."""
    delay, waited = 0.1, 0.0
    while True:
        try:
            return await call()
        except RPCError as err:
            not_ready = err.status == RPCStatusCode.FAILED_PRECONDITION and (
                "Workflow Task in failed state" in err.message
            )
            if not not_ready or waited >= NOT_READY_FOR:
                raise
        await asyncio.sleep(delay)
        waited += delay
        delay = min(delay * 2, 2.0)
