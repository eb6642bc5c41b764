"""GET /kpis: the management numbers of shared/API.md for a period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from adapters.storage.kpis import KpiReport, kpis
from domain.access import Action
from domain.errors import InvalidInput

from ..deps import CurrentUser, ServicesDep, require

router = APIRouter(tags=["reports"])


def period(start: date | None, end: date | None) -> tuple[date, date]:
    """Default: the 30 days up to today (UTC)."""
    end = end or datetime.now(UTC).date()
    start = start or end - timedelta(days=29)
    if start > end:
        raise InvalidInput("from is after to", field=("from",))
    if (end - start).days > 3660:
        raise InvalidInput("a period of at most ten years", field=("from",))
    return start, end


@router.get("/kpis")
def get_kpis(
    user: CurrentUser,
    services: ServicesDep,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> KpiReport:
    require(user, Action.VIEW_KPIS)
    return kpis(services.engine, *period(from_, to))
