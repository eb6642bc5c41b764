"""The one way to connect to Temporal: pydantic payloads (sealed when payload keys are set:
adapters/payload_codec.py), the configured namespace, tracing when it is on. A worker's
client also exports the Temporal SDK's own metrics (`temporal_*`) for Prometheus."""

from __future__ import annotations

import logging

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from config import Settings

from .observability.tracing import temporal_interceptors
from .payload_codec import data_converter

log = logging.getLogger(__name__)
# One runtime per metrics address and process: it binds the port for the process's life.
_runtimes: dict[str, Runtime | None] = {}


async def connect_temporal(
    settings: Settings, address: str | None = None, *, worker: bool = False
) -> Client:
    target = address or settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"
    runtime = sdk_metrics_runtime(settings) if worker else None
    return await Client.connect(
        target,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings.payload_keys),
        interceptors=temporal_interceptors(settings),
        runtime=runtime,
    )


def sdk_metrics_runtime(settings: Settings) -> Runtime | None:
    """A runtime serving the SDK's metrics on `L2C_TEMPORAL_METRICS_PORT`, durations in
    seconds as Prometheus has them (None: the default runtime, no metrics: the port is 0 or
    in use, which is logged, not fatal)."""
    if settings.temporal_metrics_port == 0:
        return None
    bind = f"{settings.metrics_host}:{settings.temporal_metrics_port}"
    if bind not in _runtimes:
        try:
            _runtimes[bind] = Runtime(
                telemetry=TelemetryConfig(
                    metrics=PrometheusConfig(bind_address=bind, durations_as_seconds=True)
                )
            )
            log.info("Temporal SDK metrics on http://%s/metrics", bind)
        except ValueError as err:  # the core reports a busy port so
            log.warning("Temporal SDK metrics not served on %s (%s)", bind, err)
            _runtimes[bind] = None
    return _runtimes[bind]
