"""OpenTelemetry tracing, off unless `L2C_OTEL_ENABLED`: the API's requests (FastAPI
instrumentation) and the Temporal client and worker (temporalio's TracingInterceptor) share
one trace per command, from the HTTP request through the workflow to its activities. Spans
leave by OTLP over HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT` (the standard OTel variables)."""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from temporalio.client import Interceptor

from config import Settings

log = logging.getLogger(__name__)


def install_tracer_provider(settings: Settings, service: str) -> None:
    """The process's tracer provider, exporting by OTLP, unless one is set already (a test's
    in-memory exporter; OTel lets a process set its provider only once). `OTEL_SERVICE_NAME`,
    when set, names the service instead of `service`."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service}
    provider = TracerProvider(resource=Resource.create(named))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(settings))))
    trace.set_tracer_provider(provider)
    log.info("tracing on: spans by OTLP to %s", traces_url(settings) or "the OTel default")


def traces_url(settings: Settings) -> str | None:
    """Where spans go: OTEL_EXPORTER_OTLP_ENDPOINT (a .env file may set it too) plus the
    traces path, as the OTel exporters read it; None leaves it to the exporter's own
    variables (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and default."""
    if not settings.otlp_endpoint:
        return None
    return settings.otlp_endpoint.rstrip("/") + "/v1/traces"


def temporal_interceptors(settings: Settings) -> list[Interceptor]:
    """The Temporal client's interceptors; a worker made on the client gets them too."""
    if not settings.otel_enabled:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    install_tracer_provider(settings, "l2c")
    return [TracingInterceptor()]


def instrument_app(app: FastAPI, settings: Settings) -> None:
    """A span per request, named by its route template; /metrics and /healthz left out."""
    if not settings.otel_enabled:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    install_tracer_provider(settings, "l2c-api")
    FastAPIInstrumentor.instrument_app(app, excluded_urls="metrics,healthz")
