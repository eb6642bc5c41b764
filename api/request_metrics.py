"""Every request counted and timed by its route template (`/deals/{deal_id}`, never the raw
path, so a metric has one series per route, not per deal), and made known to the logs
(adapters/observability/logs.py) so what a request logs names its deal."""

from __future__ import annotations

from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.observability.logs import request_scope
from adapters.observability.metrics import ApiMetrics

UNMATCHED = "unmatched"  # no route: a 404 (scanners' paths must not become series)


class RequestMetrics:
    """Pure ASGI middleware, outermost: it sees the status of every answer, refusals of the
    body limit included."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless the app starts an answer

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        token = request_scope.set(scope)
        started = perf_counter()
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            request_scope.reset(token)
            self._record(scope, status, perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope["method"]
        self.metrics.requests.labels(method=method, route=route, status=str(status)).inc()
        self.metrics.request_seconds.labels(method=method, route=route).observe(seconds)


def route_template(scope: Scope) -> str:
    """The matched route's path template (routing leaves the route in the scope)."""
    return str(getattr(scope.get("route"), "path", None) or UNMATCHED)
