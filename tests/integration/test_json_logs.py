"""A deal workflow's log lines, as a worker writes them in JSON: the workflow's and run's ids
and the deal's, whether the workflow or its activity logged them."""

from __future__ import annotations

import io
import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from adapters.observability.logs import log_handler
from workflows.ids import deal_workflow_id

# In the sandbox, as the worker runs workflows; this module's imports passed through.
SANDBOX = SandboxedWorkflowRunner(SandboxRestrictions.default.with_passthrough_all_modules())


@activity.defn
def note_progress(step: str) -> None:
    logging.getLogger("l2c.test_json_logs").info("activity %s", step)


@workflow.defn
class LoggingWorkflow:
    @workflow.run
    async def run(self, step: str) -> None:
        workflow.logger.info("workflow %s", step)
        await workflow.execute_activity(
            note_progress, step, start_to_close_timeout=timedelta(seconds=10)
        )


def test_log_lines_of_a_deals_workflow_and_activity_name_the_deal(live):
    stream = io.StringIO()
    handler = log_handler("json", stream)
    loggers = [logging.getLogger(n) for n in ("temporalio.workflow", "l2c.test_json_logs")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    deal_id, queue = uuid.uuid4().hex, f"logs-{uuid.uuid4().hex[:8]}"

    async def run() -> str:
        async with Worker(
            live.client,
            task_queue=queue,
            workflows=[LoggingWorkflow],
            activities=[note_progress],
            activity_executor=ThreadPoolExecutor(1),
            workflow_runner=SANDBOX,
        ):
            handle = await live.client.start_workflow(
                LoggingWorkflow.run, "one", id=deal_workflow_id(deal_id), task_queue=queue
            )
            await handle.result()
            return handle.result_run_id or ""

    try:
        run_id = live.run(run())
    finally:
        for logger in loggers:
            logger.removeHandler(handler)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    # (workflow.logger also repeats the ids in the message, unless `l2c` set JSON logs up)
    mine = {line["message"][:12]: line for line in lines if line.get("deal_id") == deal_id}
    assert {"workflow one", "activity one"} <= mine.keys(), lines
    for line in mine.values():
        assert line["workflow_id"] == f"deal-{deal_id}" and line["run_id"] == run_id
    assert mine["activity one"]["activity"] == "note_progress"
