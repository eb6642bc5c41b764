"""GET /metrics: the API's Prometheus metrics (docs/operations.md, "Monitoring"). No user
login, as Prometheus has none: a deployment sets L2C_METRICS_TOKEN (Prometheus sends it as a
bearer token) or keeps /metrics off the public proxy."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from adapters.observability.metrics import EXPOSITION_TYPE, ApiMetrics
from config import Settings

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Plain def: the scrape-time gauges query Postgres, in a worker thread."""
    settings: Settings = request.app.state.settings
    if settings.metrics_token is not None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {settings.metrics_token}".encode()):
            return Response(
                "metrics need the scrape token", 401, headers={"WWW-Authenticate": "Bearer"}
            )
    app_metrics: ApiMetrics = request.app.state.metrics
    return Response(app_metrics.exposition(), media_type=EXPOSITION_TYPE)
