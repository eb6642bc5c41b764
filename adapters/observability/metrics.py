"""The Prometheus metrics of the API and of the worker, each in a registry of its own (not the
process-global one): a test process builds many apps and workers, and each reports only its
own. Metric names and ports are a contract with the compose stack's Prometheus and Grafana
(docs/operations.md, "Monitoring"): do not rename them."""

from __future__ import annotations

import logging
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from .gauges import DealsByStage, OutboxDepth

log = logging.getLogger(__name__)

EXPOSITION_TYPE = CONTENT_TYPE_LATEST
# Requests and commands: from a cached read (ms) to an update that waits for a deal's commit.
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """A registry of one process's part (the API or the worker) and its scrape-time gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._gauges: list[Collector] = []

    def watch(self, engine: Engine, *gauges: type[DealsByStage | OutboxDepth]) -> None:
        """Report these database gauges, read on `engine` at every scrape."""
        for gauge in gauges:
            collector = gauge(engine)
            self.registry.register(collector)
            self._gauges.append(collector)

    def unwatch(self) -> None:
        """Before the engine is disposed of: a later scrape must not reopen it."""
        for collector in self._gauges:
            self.registry.unregister(collector)
        self._gauges.clear()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class ApiMetrics(Metrics):
    """The API's: every request by route template, and every Temporal update it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = Counter(
            "l2c_http_requests",
            "HTTP requests answered, by route template",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "l2c_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ["method", "route"],
            buckets=SECONDS,
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "l2c_command_duration_seconds",
            "Round trip of a command's Temporal update (the update's name)",
            ["command"],
            buckets=SECONDS,
            registry=self.registry,
        )

    def watch_database(self, engine: Engine) -> None:
        self.watch(engine, DealsByStage, OutboxDepth)


class WorkerMetrics(Metrics):
    """The worker's: activities run and failed (by activity type) and the outbox it relays,
    served on a port of their own (the worker has no HTTP server otherwise)."""

    def __init__(self) -> None:
        super().__init__()
        self.activities = Counter(
            "l2c_activities",
            "Activity attempts run, by activity type",
            ["activity"],
            registry=self.registry,
        )
        self.activity_failures = Counter(
            "l2c_activity_failures",
            "Activity attempts that failed (retried or not), by activity type",
            ["activity"],
            registry=self.registry,
        )
        self._server: tuple[WSGIServer, threading.Thread] | None = None

    def watch_database(self, engine: Engine) -> None:
        self.watch(engine, OutboxDepth)

    def serve(self, host: str, port: int) -> None:
        """Serve /metrics on `port` (0: not at all). A port in use is logged, not fatal:
        a second worker on one host must still work."""
        if port == 0:
            return
        try:
            self._server = start_http_server(port, addr=host, registry=self.registry)
        except OSError as err:
            log.warning("worker metrics not served on %s:%s (%s)", host, port, err)
            return
        log.info("worker metrics on http://%s:%s/metrics", host, port)

    def stop(self) -> None:
        if self._server is not None:
            server, thread = self._server
            server.shutdown()
            server.server_close()
            thread.join(5)
            self._server = None
        self.unwatch()
