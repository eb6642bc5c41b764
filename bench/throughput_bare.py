"""The yardstick for bench/throughput.py: a bare workflow that takes as many Updates as an l2c
deal, each storing its argument (and, in the second variant, running its share of no-op
activities), driven through a Temporal client on a worker and task queue of its own."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker


@activity.defn
async def do_nothing(step: int) -> int:
    return step


@workflow.defn
class BareDeal:
    """Stores each Update's argument; done after `updates` of them."""

    @workflow.init
    def __init__(self, updates: int, activities: int, local_activities: int = 0) -> None:
        self.updates = updates
        self.activities = activities
        self.local_activities = local_activities
        self.received: list[dict[str, object]] = []

    @workflow.run
    async def run(self, updates: int, activities: int, local_activities: int = 0) -> int:
        await workflow.wait_condition(lambda: len(self.received) >= self.updates)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return len(self.received)

    @workflow.update
    async def take(self, argument: dict[str, object]) -> int:
        index = len(self.received)
        self.received.append(argument)
        for step in activity_share(index, self.updates, self.activities):
            await workflow.execute_activity(
                do_nothing, step, start_to_close_timeout=timedelta(seconds=10)
            )
        for step in activity_share(index, self.updates, self.local_activities):
            await workflow.execute_local_activity(
                do_nothing, step, start_to_close_timeout=timedelta(seconds=10)
            )
        return index


def activity_share(index: int, updates: int, activities: int) -> range:
    """The activities the `index`-th update runs: `activities` spread evenly over the updates
    (an l2c command, too, answers once its effects ran)."""
    first = activities * index // updates
    return range(first, activities * (index + 1) // updates)


class BareRun:
    """N bare deals at concurrency C; update round trips recorded in `round_trips`."""

    def __init__(
        self, client: Client, updates: int, activities: int, local_activities: int = 0
    ) -> None:
        self.client = client
        self.updates = updates
        self.activities = activities
        self.local_activities = local_activities
        self.task_queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
        self.round_trips: list[float] = []

    async def one_deal(self) -> None:
        start = WithStartWorkflowOperation(
            BareDeal.run,
            args=[self.updates, self.activities, self.local_activities],
            id=f"bare-{uuid.uuid4().hex}",
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
        began = time.perf_counter()
        await self.client.execute_update_with_start_workflow(
            BareDeal.take, {"kind": "open", "n": 0}, start_workflow_operation=start
        )
        self.round_trips.append(time.perf_counter() - began)
        handle = await start.workflow_handle()
        for n in range(1, self.updates):
            began = time.perf_counter()
            await handle.execute_update(BareDeal.take, {"kind": "command", "n": n})
            self.round_trips.append(time.perf_counter() - began)
        await handle.result()

    async def run(self, deals: int, concurrency: int) -> float:
        """Seconds to take `deals` bare deals through all their updates."""
        gate = asyncio.Semaphore(concurrency)

        async def gated() -> None:
            async with gate:
                await self.one_deal()

        async with Worker(
            self.client,
            task_queue=self.task_queue,
            workflows=[BareDeal],
            activities=[do_nothing],
        ):
            began = time.perf_counter()
            await asyncio.gather(*(gated() for _ in range(deals)))
            return time.perf_counter() - began
