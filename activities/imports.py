"""Starting the deals of a lead import, one batch per activity (see workflows/lead_import.py).

A batch reads the next rows not started, opens their deals, 50 to a transaction (so they are
listed at once; a contact with an open deal by now makes a duplicate, not started), starts
their deal workflows (at most `concurrency` calls at a time) and marks the rows started. Run
again after a crash, it starts again only what was not marked; a deal opened twice is found by
its id, and a deal started twice is one deal: its workflow id is its deal id and a second
start uses the existing workflow.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy

from domain.deal import DealInput
from domain.stages import DealStage
from workflows.deal import DealWorkflow
from workflows.ids import deal_workflow_id
from workflows.search_attributes import DEAL_OWNER, DEAL_STAGE

if TYPE_CHECKING:
    from adapters.storage.imports import ImportStore


class ImportBatch(BaseModel):
    import_id: str
    # A batch opens its deals 50 to a transaction, two advisory locks each (the contact, the
    # audit chain): 2,000 deals stay well inside Postgres' shared lock table.
    size: int = Field(default=500, ge=1, le=2_000)


def start_attributes(deal: DealInput) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [
            SearchAttributePair(DEAL_STAGE, DealStage.QUALIFYING.value),
            SearchAttributePair(DEAL_OWNER, deal.owner),
        ]
    )


async def start_deals(
    client: Client, task_queue: str, deals: list[DealInput], concurrency: int = 64
) -> None:
    """Start each deal's workflow (once per deal id) without waiting for it to record."""
    gate = asyncio.Semaphore(concurrency)

    async def start(deal: DealInput) -> None:
        async with gate:
            await client.start_workflow(
                DealWorkflow.run,
                deal,
                id=deal_workflow_id(deal.deal_id),
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=start_attributes(deal),
                static_summary=f"{deal.lead.company}: {deal.lead.contact_name} ({deal.owner})",
            )

    await asyncio.gather(*(start(deal) for deal in deals))


class ImportActivities:
    def __init__(self, store: ImportStore, client: Client, task_queue: str) -> None:
        self.store, self.client, self.task_queue = store, client, task_queue

    @activity.defn
    async def start_import_batch(self, batch: ImportBatch) -> int:
        """Open and start the next batch of the import's deals; how many rows it dealt with,
        started or found duplicates (0: none was left)."""
        pending = await asyncio.to_thread(self.store.pending, batch.import_id, batch.size)
        if not pending:
            return 0
        fresh = await asyncio.to_thread(
            self.store.open_batch, batch.import_id, pending, datetime.now(UTC), deal_workflow_id
        )
        await start_deals(self.client, self.task_queue, [deal for _, deal in fresh])
        rows = [row for row, _ in fresh]
        await asyncio.to_thread(self.store.mark_started, batch.import_id, rows)
        return len(pending)

    @activity.defn
    async def finish_import(self, import_id: str) -> None:
        await asyncio.to_thread(self.store.finish, import_id, datetime.now(UTC))
