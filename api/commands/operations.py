"""Operations: is the API up, and can it reach Postgres and Temporal?"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..schemas import Health
from ..services import Services


def database_state(services: Services) -> str:
    """ok; read_only (a standby, or writes switched off); or unreachable. The write check
    runs in a transaction that is rolled back, so health writes nothing."""
    try:
        with services.engine.connect() as conn, conn.begin() as transaction:
            standby = conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one()
            read_only = conn.execute(text("SHOW transaction_read_only")).scalar_one() == "on"
            if not (standby or read_only):
                conn.execute(text("CREATE TEMPORARY TABLE l2c_health (x int) ON COMMIT DROP"))
            transaction.rollback()
    except SQLAlchemyError:
        return "unreachable"
    return "read_only" if standby or read_only else "ok"


def health(services: Services) -> Health:
    database = database_state(services)
    temporal = "ok" if services.temporal.healthy() else "unreachable"
    ok = database == temporal == "ok"
    return Health(status="ok" if ok else "degraded", database=database, temporal=temporal)
