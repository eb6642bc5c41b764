"""GET /kpis: the management numbers of shared/API.md for a period."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from adapters.storage.kpis import KpiReport

from ..commands import reports
from ..deps import CurrentUser, ServicesDep

router = APIRouter(tags=["reports"])


@router.get("/kpis")
def get_kpis(
    user: CurrentUser,
    services: ServicesDep,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> KpiReport:
    return reports.kpi_report(services, user, from_, to)
