"""With L2C_OTEL_ENABLED one deal's command is one trace: the API's request span, the
Temporal client's span, the workflow's and its activity's, exported here to memory."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from functools import cache

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.embedded import free_port
from stack import serve
from tests.conftest import PASSWORD, wait_for
from tests.flows import lead_body


@cache
def in_memory_spans() -> InMemorySpanExporter:
    """The process's tracer provider, exporting to memory: OTel lets a process set its
    provider once, so a provider set before (by l2c's own set-up) gets the exporter too."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture(scope="module")
def traced_api(live) -> Iterator[httpx.Client]:
    """A second API and worker on the session's servers, with tracing on (its own task
    queue, so the traced worker runs the traced deals)."""
    in_memory_spans()
    port = free_port()
    settings = live.settings.model_copy(
        update={
            "otel_enabled": True,
            "api_port": port,
            "public_url": f"http://127.0.0.1:{port}",
            "task_queue": f"l2c-traced-{uuid.uuid4().hex[:8]}",
            "worker_metrics_port": 0,
            "temporal_metrics_port": 0,
        }
    )
    serving = live.loop.submit(serve(settings))
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)

    def up() -> bool:
        if serving.done():
            serving.result()  # why it could not start
        try:
            return http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    wait_for(up, 60, "the traced API")
    token = http.post("/auth/token", data={"username": "rep1", "password": PASSWORD})
    http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    yield http
    http.close()
    serving.cancel()
    wait_for(serving.done, 30, "the traced API and worker to stop")


def test_a_deal_is_one_trace_from_the_api_through_its_workflow_to_its_activities(traced_api):
    answer = traced_api.post("/leads", json=lead_body())
    assert answer.status_code == 201, answer.text
    deal_id = answer.json()["deal_id"]

    lead = request_span("POST /leads")
    opened = spans_of(lead.context.trace_id, until=lambda s: "RunActivity:commit_deal" in s)
    assert "StartUpdateWithStartWorkflow:DealWorkflowV2" in opened, opened
    assert {"RunWorkflow:DealWorkflowV2", "HandleUpdate:opened"} <= opened.keys(), opened
    workflow_span = opened["RunWorkflow:DealWorkflowV2"]
    assert (workflow_span.attributes or {})["temporalWorkflowID"] == f"deal-{deal_id}"

    # A command on the running deal: its request is a trace of its own up to the update it
    # sends; the workflow's side joins the deal's trace, linked to the command's.
    answer = traced_api.post(f"/deals/{deal_id}/qualify", json={"decision": "qualify"})
    assert answer.status_code == 200, answer.text
    command = request_span("POST /deals/{deal_id}/qualify")
    sent = spans_of(command.context.trace_id, until=lambda s: "StartWorkflowUpdate:qualify" in s)
    deal = spans_of(lead.context.trace_id, until=lambda s: "HandleUpdate:qualify" in s)
    links = [link.context.span_id for link in deal["HandleUpdate:qualify"].links]
    assert sent["StartWorkflowUpdate:qualify"].context.span_id in links
    commits = [s for s in in_memory_spans().get_finished_spans() if _in(s, lead, "RunActivity:")]
    assert len(commits) >= 2  # the lead's commit and the qualification's


def request_span(request: str) -> ReadableSpan:
    """The newest span of the API's answer to `request` (its route template)."""

    def mine() -> list[ReadableSpan]:
        spans = in_memory_spans().get_finished_spans()
        return [s for s in spans if s.name == request and s.kind == trace.SpanKind.SERVER]

    return wait_for(mine, 30, f"the API's span of {request}")[-1]


def spans_of(
    trace_id: int, until: Callable[[dict[str, ReadableSpan]], bool]
) -> dict[str, ReadableSpan]:
    """The finished spans of a trace by name, once `until` holds of them."""

    def spans() -> dict[str, ReadableSpan]:
        finished = in_memory_spans().get_finished_spans()
        by_name = {s.name: s for s in finished if s.context.trace_id == trace_id}
        return by_name if until(by_name) else {}

    return wait_for(spans, 30, "the trace's spans")


def _in(span: ReadableSpan, root: ReadableSpan, prefix: str) -> bool:
    return span.context.trace_id == root.context.trace_id and span.name.startswith(prefix)
