"""The webhook relay, beside the outbox relay in the worker: starts one delivery workflow
for each delivery (generation) committed since, so no command waits on Temporal for it.

Starting is idempotent: the workflow id is the delivery's (`webhook-<id>`), and a start of
an id already used is refused by Temporal, which the relay takes as done."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import OperationalError
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from adapters.storage.tables import webhook_deliveries
from domain.webhooks import DeliveryJob, RetrySchedule, workflow_id
from workflows.webhook_delivery import WebhookDelivery, WebhookDeliveryWorkflow

log = logging.getLogger(__name__)
BATCH = 50


class WebhookRelay:
    """Polls for undispatched deliveries (many relays may run: rows are locked while
    started) and starts their workflows on the worker's event loop."""

    def __init__(
        self, engine: Engine, client: Client, task_queue: str, retry: RetrySchedule
    ) -> None:
        self.engine, self.client, self.task_queue, self.retry = engine, client, task_queue, retry
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._run_on: Callable[[Coroutine[Any, Any, Any]], Any] | None = None
        try:  # made on the worker's event loop (make_worker): the workflows start on it
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

    def start(self, poll_seconds: float = 0.5) -> WebhookRelay:
        """Start polling; made outside an event loop, call this on the worker's."""
        loop = self._loop or asyncio.get_running_loop()
        self._run_on = lambda coro: asyncio.run_coroutine_threadsafe(coro, loop).result(30)
        self._thread = threading.Thread(
            target=self._run, args=(poll_seconds,), name="webhook-relay", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(35)

    def _run(self, poll_seconds: float) -> None:
        while not self._stop.is_set():
            try:
                while not self._stop.is_set() and self.dispatch() == BATCH:
                    pass
            except OperationalError as err:
                log.warning("webhook relay: database unavailable (%s)", str(err).splitlines()[0])
            except Exception:
                log.exception("webhook relay")
            self._stop.wait(poll_seconds)

    def dispatch(self) -> int:
        """Start the workflows of up to BATCH deliveries; how many there were."""
        with self.engine.begin() as conn:
            rows = list(
                conn.execute(
                    select(webhook_deliveries.c.delivery_id, webhook_deliveries.c.generation)
                    .where(webhook_deliveries.c.dispatched < webhook_deliveries.c.generation)
                    .order_by(webhook_deliveries.c.created_at)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            for row in rows:
                self._start(DeliveryJob(delivery_id=row.delivery_id, generation=row.generation))
                conn.execute(
                    update(webhook_deliveries)
                    .where(webhook_deliveries.c.delivery_id == row.delivery_id)
                    .values(dispatched=row.generation)
                )
        return len(rows)

    def _start(self, job: DeliveryJob) -> None:
        assert self._run_on is not None, "start the relay first"
        start = self.client.start_workflow(
            WebhookDeliveryWorkflow.run,
            WebhookDelivery(job=job, retry=self.retry),
            id=workflow_id(job),
            task_queue=self.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        # Started before a relay could mark it (or by another relay): nothing more to do.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            self._run_on(start)
