"""GET /metrics: the API's Prometheus metrics (docs/operations.md, "Monitoring"). No login,
as Prometheus scrapes without one: keep /metrics off the public proxy."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from adapters.observability.metrics import EXPOSITION_TYPE, ApiMetrics

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Plain def: the scrape-time gauges query Postgres, in a worker thread."""
    app_metrics: ApiMetrics = request.app.state.metrics
    return Response(app_metrics.exposition(), media_type=EXPOSITION_TYPE)
