"""Operations: is the API up, and can it reach Postgres and Temporal?"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..schemas import Health
from ..services import Services


def health(services: Services) -> Health:
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        database = "unreachable"
    temporal = "ok" if services.temporal.healthy() else "unreachable"
    ok = database == temporal == "ok"
    return Health(status="ok" if ok else "degraded", database=database, temporal=temporal)
