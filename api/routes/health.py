"""GET /healthz: is the API up, and can it reach Postgres and Temporal?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..commands import operations
from ..deps import ServicesDep
from ..schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def health(services: ServicesDep) -> JSONResponse:
    body = operations.health(services)
    return JSONResponse(body.model_dump(), status_code=200 if body.status == "ok" else 503)
