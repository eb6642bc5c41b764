"""GET /healthz: is the API up, and can it reach Postgres and Temporal?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..deps import ServicesDep
from ..schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def health(services: ServicesDep) -> JSONResponse:
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        database = "unreachable"
    temporal = "ok" if services.temporal.healthy() else "unreachable"
    ok = database == temporal == "ok"
    body = Health(status="ok" if ok else "degraded", database=database, temporal=temporal)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
