"""A lead import as durable background work: the API keeps the file's deals in Postgres and
starts this workflow, which starts them batch by batch (activities/imports.py) and continues
as new every `BATCHES_PER_RUN` batches, so a 100,000-row file keeps a small history. Progress
is read from Postgres (GET /imports/{id}); a crash anywhere resumes where the rows say."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.imports import ImportActivities, ImportBatch

BATCHES_PER_RUN = 50
# Starting 500 deal workflows takes seconds; a worker lost mid-batch is noticed after this,
# and the batch runs again (what it started is marked, or started again harmlessly).
BATCH_TIMEOUT = timedelta(minutes=5)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


class LeadImport(BaseModel):
    import_id: str
    batch_size: int = Field(default=500, ge=1, le=2_000)
    started: int = 0  # by earlier runs


@workflow.defn
class LeadImportWorkflow:
    @workflow.run
    async def run(self, job: LeadImport) -> int:
        """How many rows the import dealt with in all: deals started, and rows found to
        duplicate a deal opened since the file was read."""
        started = job.started
        for _ in range(BATCHES_PER_RUN):
            count = await workflow.execute_activity_method(
                ImportActivities.start_import_batch,
                ImportBatch(import_id=job.import_id, size=job.batch_size),
                start_to_close_timeout=BATCH_TIMEOUT,
                retry_policy=RETRY,
            )
            if count == 0:
                await workflow.execute_activity_method(
                    ImportActivities.finish_import,
                    job.import_id,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RETRY,
                )
                return started
            started += count
        workflow.continue_as_new(job.model_copy(update={"started": started}))
