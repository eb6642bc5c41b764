"""GET /healthz: is the API up, and can it reach Postgres and Temporal?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..commands import operations
from ..deps import ServicesDep
from ..schemas import Health

router = APIRouter(tags=["operations"])
RETRY_AFTER = "5"  # seconds: a restarting Postgres or a failover is usually back by then


@router.get("/healthz", response_model=Health)
def health(services: ServicesDep) -> JSONResponse:
    """503 with Retry-After while Postgres is down or refuses writes, or Temporal is down."""
    body = operations.health(services)
    if body.status == "ok":
        return JSONResponse(body.model_dump())
    return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": RETRY_AFTER})
