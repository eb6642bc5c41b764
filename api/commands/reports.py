"""Management and finance numbers: KPIs, the dashboard's series, revenue, trial balance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel

from adapters.finance.ledger import RevenueReport, read_revenue, read_trial_balance
from adapters.storage.kpi_series import (
    CycleBucket,
    MonthConversion,
    cycle_time_histogram,
    monthly_conversion,
)
from adapters.storage.kpis import KpiReport, kpis
from domain.access import Action, can
from domain.errors import InvalidInput
from domain.ledger import TrialBalance
from domain.periods import check_reportable
from domain.users import Actor

from ..services import Services
from .authorization import authorize

LONGEST_PERIOD_DAYS = 3660


class Dashboard(BaseModel):
    """The KPIs of a period with their charts' series; revenue for ledger readers only."""

    report: KpiReport
    conversion: list[MonthConversion]
    cycle: list[CycleBucket]
    revenue: RevenueReport | None


def period(start: date | None, end: date | None) -> tuple[date, date]:
    """Default: the 30 days up to today (UTC)."""
    check_reportable(start, "from")
    check_reportable(end, "to")
    end = end or datetime.now(UTC).date()
    start = start or end - timedelta(days=29)
    if start > end:
        raise InvalidInput("from is after to", field=("from",))
    if (end - start).days > LONGEST_PERIOD_DAYS:
        raise InvalidInput("a period of at most ten years", field=("from",))
    return start, end


def kpi_report(services: Services, user: Actor, start: date | None, end: date | None) -> KpiReport:
    authorize(user, Action.VIEW_KPIS)
    return kpis(services.engine, *period(start, end))


def dashboard(services: Services, user: Actor, start: date | None, end: date | None) -> Dashboard:
    authorize(user, Action.VIEW_KPIS)
    first, last = period(start, end)
    return Dashboard(
        report=kpis(services.engine, first, last),
        conversion=monthly_conversion(services.engine, last),
        cycle=cycle_time_histogram(services.engine, first, last),
        revenue=(
            read_revenue(services.engine, first, last) if can(user, Action.VIEW_LEDGER) else None
        ),
    )


def revenue(services: Services, user: Actor, start: date | None, end: date | None) -> RevenueReport:
    """Revenue recognized in the period, by month, and what is still deferred at its end."""
    authorize(user, Action.VIEW_LEDGER)
    check_reportable(start, "from")
    check_reportable(end, "to")
    return read_revenue(services.engine, start, end)


def trial_balance(services: Services, user: Actor) -> TrialBalance:
    authorize(user, Action.VIEW_LEDGER)
    return read_trial_balance(services.engine)
