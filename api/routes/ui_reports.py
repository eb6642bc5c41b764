"""The UI's money pages: invoices with AR aging, and the KPI dashboard with its charts.

Same reads and the same authorization as GET /invoices, /kpis and /revenue.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from adapters.finance.ledger import RevenueReport, read_revenue
from adapters.storage.kpi_series import (
    CycleBucket,
    MonthConversion,
    cycle_time_histogram,
    monthly_conversion,
)
from adapters.storage.kpis import KpiReport, kpis
from domain.access import Action, can
from domain.errors import NotFound
from domain.invoices import InvoiceStatus
from domain.kpis import AGING_BUCKETS
from domain.stages import OPEN_STAGES

from ..deps import ServicesDep, require
from ..ui_auth import UiUser
from .reports import period
from .ui import page, ui_router

router = ui_router()
AGING_LABELS = {"current": "not due", "1_30": "1–30", "31_60": "31–60", "61_90": "61–90"}
AGING_LABELS["over_90"] = "over 90"


@router.get("/invoices")
def invoices(
    request: Request, session: UiUser, services: ServicesDep, status: InvoiceStatus | None = None
) -> HTMLResponse:
    """Finance sees every invoice (reps their own deals'); KPI readers also the AR aging."""
    user = session.user
    require(user, Action.VIEW_INVOICES, user.username)
    owner = None if can(user, Action.VIEW_INVOICES) else user.username
    found = services.reads.invoices(
        deal_id=None, customer_id=None, status=status, owner=owner, limit=500
    )
    aging = None
    if can(user, Action.VIEW_KPIS):
        today = datetime.now(UTC).date()
        aging = kpis(services.engine, today, today).ar_aging
    context = {
        "invoices": found,
        "status": status,
        "statuses": list(InvoiceStatus),
        "aging": aging,
        "buckets": [(b, AGING_LABELS[b]) for b in AGING_BUCKETS],
    }
    return page(request, session, "invoices.html", context)


@router.get("/invoices/{number}.pdf")
def invoice_pdf(number: str, session: UiUser, services: ServicesDep) -> Response:
    found = services.reads.invoice(number)
    if found is None or not can(session.user, Action.VIEW_INVOICES, found[1]):
        raise NotFound("invoice not found")
    content = services.documents.invoice(number)
    if content is None:
        raise NotFound("invoice not found")
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
    )


@router.get("/dashboard")
def dashboard(
    request: Request,
    session: UiUser,
    services: ServicesDep,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> HTMLResponse:
    """The KPIs of a period (default: the last 30 days); revenue for ledger readers only."""
    require(session.user, Action.VIEW_KPIS)
    start, end = period(from_, to)
    report = kpis(services.engine, start, end)
    conversion = monthly_conversion(services.engine, end)
    cycle = cycle_time_histogram(services.engine, start, end)
    revenue = None
    if can(session.user, Action.VIEW_LEDGER):
        revenue = read_revenue(services.engine, start, end)
    context = {
        "report": report,
        "conversion": conversion,
        "cycle": cycle,
        "revenue": revenue,
        "buckets": [(b, AGING_LABELS[b]) for b in AGING_BUCKETS],
        "pipeline": [
            (stage, report.pipeline_by_stage[stage])
            for stage in OPEN_STAGES
            if stage in report.pipeline_by_stage
        ],
        "charts": charts(report, conversion, cycle, revenue),
    }
    return page(request, session, "dashboard.html", context)


def charts(
    report: KpiReport,
    conversion: list[MonthConversion],
    cycle: list[CycleBucket],
    revenue: RevenueReport | None,
) -> dict[str, Any]:
    """What static/dashboard.js draws: labels and datasets per chart, numbers as strings."""
    drawn: dict[str, Any] = {
        "funnel": {
            "kind": "funnel",
            "labels": [step.stage.value.replace("_", " ") for step in report.funnel],
            "datasets": [
                {"label": "deals that got there", "data": [s.reached for s in report.funnel]}
            ],
        },
        "conversion": {
            "kind": "percent-line",
            "labels": [m.month for m in conversion],
            "datasets": [
                {
                    "label": "leads signed / leads created",
                    "data": [None if m.rate is None else str(m.rate * 100) for m in conversion],
                }
            ],
        },
        "cycle": {
            "kind": "bar",
            "labels": [b.label for b in cycle],
            "datasets": [{"label": "deals signed", "data": [b.deals for b in cycle]}],
        },
        "aging": {
            "kind": "stacked-bar",
            "labels": [AGING_LABELS[b] for b in AGING_BUCKETS],
            "datasets": [
                {"label": currency, "data": [str(buckets[b]) for b in AGING_BUCKETS]}
                for currency, buckets in sorted(report.ar_aging.items())
            ],
        },
    }
    if revenue is not None:
        drawn["revenue"] = {
            "kind": "bar",
            "labels": [t.currency for t in revenue.totals],
            "datasets": [
                {"label": "recognized", "data": [str(t.recognized) for t in revenue.totals]},
                {"label": "deferred", "data": [str(t.deferred_at_end) for t in revenue.totals]},
            ],
        }
    return drawn
