"""CSV exports of the lists that are not finance's own: the deals of the pipeline (with its
filters) and the KPIs of a period. Same commands, so the same authorization, as GET /deals
and GET /kpis; the invoice list and AR aging export from ui_finance.py."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from adapters.storage.views.deals import DealFilter, DealSummary
from domain.stages import DealStage

from ..commands import deals, reports
from ..csv_export import Cell, csv_file, flat_rows
from ..deps import ServicesDep
from ..ui_auth import UiUser
from .ui import ui_router

router = ui_router()
EXPORT_LIMIT = 500  # deals per page read; the export reads page after page
DEAL_COLUMNS = (
    "deal_id", "customer", "stage", "owner", "source", "score", "amount", "currency",
    "created_at", "updated_at",
)  # fmt: skip


class DealQuery(BaseModel):
    """The pipeline's filters, as its query string carries them."""

    model_config = ConfigDict(extra="forbid")
    stage: DealStage | None = None
    owner: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=100)
    customer_id: str | None = Field(default=None, max_length=64)


@router.get("/deals/export.csv")
def export_deals(
    session: UiUser, services: ServicesDep, filters: Annotated[DealQuery, Query()]
) -> Response:
    """Every deal the filters select that the user may see (a rep: their own), newest first."""
    where = DealFilter(**filters.model_dump())
    rows: list[list[Cell]] = []
    cursor: str | None = None
    while True:
        found = deals.list_deals(services, session.user, where, EXPORT_LIMIT, cursor)
        rows += [_deal_row(d) for d in found.items]
        cursor = found.next_cursor
        if cursor is None:
            return csv_file("deals", DEAL_COLUMNS, rows)


def _deal_row(d: DealSummary) -> list[Cell]:
    return [
        d.deal_id, d.customer_name, d.stage, d.owner, d.source, d.score, d.amount, d.currency,
        d.created_at, d.updated_at,
    ]  # fmt: skip


@router.get("/kpis/export.csv")
def export_kpis(
    session: UiUser,
    services: ServicesDep,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> Response:
    """The KPIs of the period as (kpi, breakdown, value) rows: `dso_days, EUR, 41.2`."""
    report = reports.kpi_report(services, session.user, from_, to)
    return csv_file("kpis", ("kpi", "breakdown", "value"), flat_rows(report.model_dump()))
