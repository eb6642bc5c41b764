"""The worker's metrics as Prometheus scrapes them: its activities (run and failed) and the
outbox on L2C_WORKER_METRICS_PORT, the Temporal SDK's own on L2C_TEMPORAL_METRICS_PORT."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from adapters.observability.activity_metrics import ActivityMetrics
from adapters.observability.metrics import WorkerMetrics
from tests.conftest import wait_for
from tests.flows import create_lead


def scrape(port: int) -> list[Sample]:
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    return [s for family in text_string_to_metric_families(answer.text) for s in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    return sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())


def test_the_worker_serves_its_activity_counts_and_outbox_depth(live, as_user):
    port = live.settings.worker_metrics_port
    runs = "l2c_activities_total"
    before = value(scrape(port), runs, activity="commit_deal")

    create_lead(as_user("rep1"))  # the deal's first commit is an activity of this worker

    after = scrape(port)
    assert value(after, runs, activity="commit_deal") >= before + 1
    assert [s for s in after if s.name == "l2c_outbox_depth" and s.value >= 0]


def test_the_worker_serves_the_temporal_sdk_metrics(live, as_user):
    create_lead(as_user("rep1"))  # at least one workflow task since the worker started

    def sdk_metrics() -> set[str]:
        names = {s.name for s in scrape(live.settings.temporal_metrics_port)}
        wanted = ("temporal_workflow_task_execution_latency", "temporal_activity_execution")
        return names if any(n.startswith(wanted) for n in names) else set()

    names = wait_for(sdk_metrics, 30, "the Temporal SDK's metrics")
    assert any(n.startswith("temporal_workflow_task_execution_latency") for n in names), names


@activity.defn
async def flaky(attempts_to_fail: int) -> str:
    if activity.info().attempt <= attempts_to_fail:
        raise RuntimeError("not yet")
    return "done"


@workflow.defn
class FlakyWorkflow:
    @workflow.run
    async def run(self, attempts_to_fail: int) -> str:
        return await workflow.execute_activity(
            flaky,
            attempts_to_fail,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10)),
        )


def test_failed_activity_attempts_are_counted_by_activity(live):
    metrics, queue = WorkerMetrics(), f"metrics-{uuid.uuid4().hex[:8]}"

    async def run_flaky() -> str:
        async with Worker(
            live.client,
            task_queue=queue,
            workflows=[FlakyWorkflow],
            activities=[flaky],
            interceptors=[ActivityMetrics(metrics)],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            result: str = await live.client.execute_workflow(
                FlakyWorkflow.run, 2, id=f"flaky-{uuid.uuid4().hex}", task_queue=queue
            )
            return result

    assert live.run(run_flaky()) == "done"
    text = metrics.exposition().decode()
    samples = [s for f in text_string_to_metric_families(text) for s in f.samples]
    assert value(samples, "l2c_activities_total", activity="flaky") == 3
    assert value(samples, "l2c_activity_failures_total", activity="flaky") == 2
