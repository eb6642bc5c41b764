"""Counts every activity attempt and every failed one, by activity type, for the worker's
`l2c_activities_total` and `l2c_activity_failures_total`."""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from .metrics import WorkerMetrics


class ActivityMetrics(Interceptor):
    """A worker interceptor: each attempt counted once, a failure when it raises (a business
    refusal included: a rising rate is what an operator wants to see)."""

    def __init__(self, metrics: WorkerMetrics) -> None:
        self.metrics = metrics

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountedActivity(next, self.metrics)


class _CountedActivity(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, metrics: WorkerMetrics) -> None:
        super().__init__(next)
        self.metrics = metrics

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        name = activity.info().activity_type
        self.metrics.activities.labels(activity=name).inc()
        try:
            return await super().execute_activity(input)
        except Exception:
            self.metrics.activity_failures.labels(activity=name).inc()
            raise
