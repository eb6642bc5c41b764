"""The UI's KPI dashboard with its charts (the invoice pages are in ui_finance.py).

Same reads and the same authorization as GET /kpis and /revenue.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from adapters.finance.ledger import RevenueReport
from adapters.storage.kpi_series import CycleBucket, MonthConversion
from adapters.storage.kpis import KpiReport
from domain.kpis import AGING_BUCKETS
from domain.stages import OPEN_STAGES

from ..commands import reports
from ..deps import ServicesDep
from ..ui_auth import UiUser
from .ui import page, ui_router

router = ui_router()
AGING_LABELS = {"current": "not due", "1_30": "1–30", "31_60": "31–60", "61_90": "61–90"}
AGING_LABELS["over_90"] = "over 90"


@router.get("/dashboard")
def dashboard(
    request: Request,
    session: UiUser,
    services: ServicesDep,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> HTMLResponse:
    """The KPIs of a period (default: the last 30 days); revenue for ledger readers only."""
    board = reports.dashboard(services, session.user, from_, to)
    report = board.report
    context = {
        "report": report,
        "conversion": board.conversion,
        "cycle": board.cycle,
        "revenue": board.revenue,
        "buckets": [(b, AGING_LABELS[b]) for b in AGING_BUCKETS],
        "pipeline": [
            (stage, report.pipeline_by_stage[stage])
            for stage in OPEN_STAGES
            if stage in report.pipeline_by_stage
        ],
        "charts": charts(report, board.conversion, board.cycle, board.revenue),
    }
    return page(request, session, "dashboard.html", context)


def funnel_links(report: KpiReport) -> list[str]:
    """Each funnel bar opens the list of its deals: created in the period, reached the stage."""
    period = {"created_from": report.period_from, "created_to": report.period_to}
    return [
        "/ui/deals?" + urlencode({"reached": step.stage.value, **period}) for step in report.funnel
    ]


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
    drawn["funnel"]["links"] = funnel_links(report)
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
