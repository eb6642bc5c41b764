"""The sales forecast: a deal's category and close date (its owner or a manager sets them),
quotas (admins), the forecast of a period per owner and team (managers; a rep their own
row), and its snapshots. Rules: domain/forecast.py; definitions: docs/forecast.md."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.forecasting import ForecastDeal, Forecaster
from adapters.storage.forecast import DealForecast, Quota
from domain.access import Action, sees_all_deals
from domain.errors import Conflict, InvalidInput
from domain.forecast import (
    Figures,
    ForecastCategory,
    ForecastVsActual,
    Period,
    attainment,
    compare_with_actual,
    parse_period,
    quarter_of,
)
from domain.money import has_minor_precision
from domain.users import Actor

from ..services import Services
from .authorization import authorize, visible_deal

CURRENCY = Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])


class ForecastIn(BaseModel):
    """What a rep (or manager) says about an open deal."""

    model_config = ConfigDict(extra="forbid")
    category: ForecastCategory
    close_date: date


class QuotaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: str = Field(min_length=1, max_length=64)
    period: str = Field(examples=["2026-Q4", "2026-11"])
    amount: Decimal = Field(ge=0, max_digits=18)
    currency: str = CURRENCY

    @field_validator("period")
    @classmethod
    def _a_period(cls, value: str) -> str:
        try:
            parse_period(value)
        except InvalidInput as bad:
            raise ValueError(bad.message) from None
        return value


class SnapshotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str | None = Field(default=None, examples=["2026-Q4"])


class DealForecastView(BaseModel):
    """A deal's forecast: what was set (None: nothing yet) and what the model suggests."""

    deal_id: str
    set: DealForecast | None
    suggested_category: ForecastCategory | None
    suggested_close_date: date | None
    probability: Decimal | None
    probability_source: str | None


class ForecastLine(BaseModel):
    """One owner's or team's forecast; every figure per currency (no FX)."""

    key: str  # the owner's username, or the team ("" for users without a team)
    quota: dict[str, Decimal]
    figures: dict[str, Figures]
    attainment: dict[str, Decimal | None]  # closed / quota, per quota currency


class ForecastReport(BaseModel):
    period: str
    start: date
    end: date  # exclusive
    last_day: date
    ended: bool
    owners: list[ForecastLine]
    teams: list[ForecastLine]
    deals: list[ForecastDeal]  # open deals closing in the period
    vs_actual: list[ForecastVsActual]  # for an ended period: each snapshot beside what closed


class SnapshotTaken(BaseModel):
    period: str
    taken_at: datetime
    rows: int


def set_deal_forecast(
    services: Services, forecaster: Forecaster, user: Actor, deal_id: str, body: ForecastIn
) -> DealForecastView:
    deal = visible_deal(services, user, deal_id)
    authorize(user, Action.SET_FORECAST, deal.owner)
    if forecaster.book.is_closed(deal_id):
        raise Conflict("the deal is signed or closed: its forecast is what happened")
    forecaster.book.set_forecast(
        DealForecast(
            deal_id=deal_id,
            category=body.category,
            close_date=body.close_date,
            set_by=user.username,
            set_at=datetime.now(UTC),
        )
    )
    return deal_forecast(services, forecaster, user, deal_id)


def deal_forecast(
    services: Services, forecaster: Forecaster, user: Actor, deal_id: str
) -> DealForecastView:
    visible_deal(services, user, deal_id)
    found = forecaster.deals(deal_id=deal_id)
    suggestion = found[0] if found else None
    return DealForecastView(
        deal_id=deal_id,
        set=forecaster.book.forecast_of(deal_id),
        suggested_category=suggestion.suggested_category if suggestion else None,
        suggested_close_date=suggestion.suggested_close_date if suggestion else None,
        probability=suggestion.probability if suggestion else None,
        probability_source=suggestion.probability_source if suggestion else None,
    )


def set_quota(forecaster: Forecaster, user: Actor, body: QuotaIn) -> Quota:
    authorize(user, Action.SET_QUOTA)
    if not has_minor_precision(body.amount, body.currency):
        raise InvalidInput(f"too many decimals for {body.currency}", field=("amount",))
    return forecaster.book.set_quota(
        Quota(**body.model_dump(), set_by=user.username, set_at=datetime.now(UTC))
    )


def quotas(forecaster: Forecaster, user: Actor, period: str | None) -> list[Quota]:
    """Every quota for managers; a rep's own for a rep."""
    authorize(user, Action.VIEW_FORECAST, user.username)
    if period is not None:
        parse_period(period)
    shown = forecaster.book.quotas(period)
    return shown if sees_all_deals(user) else [q for q in shown if q.owner == user.username]


def forecast(
    forecaster: Forecaster,
    user: Actor,
    period_key: str | None,
    owner: str | None = None,
    team: str | None = None,
) -> ForecastReport:
    """The forecast of a period; a rep sees only their own row (another owner: 403)."""
    if not sees_all_deals(user):
        owner, team = owner or user.username, None
    authorize(user, Action.VIEW_FORECAST, owner)
    today = datetime.now(UTC).date()
    period = parse_period(period_key) if period_key else quarter_of(today)
    deals = [d for d in forecaster.deals(owner, team) if period.contains(d.close_date)]
    by_owner, by_team = forecaster.figures(period, deals, owner, team)
    owner_quotas = [q for q in forecaster.book.quotas(period.key) if owner in (None, q.owner)]
    teams = forecaster.book.teams()
    if team is not None:
        owner_quotas = [q for q in owner_quotas if teams.get(q.owner) == team]
    ended = period.has_ended(today)
    return ForecastReport(
        period=period.key,
        start=period.start,
        end=period.end,
        last_day=period.last_day,
        ended=ended,
        owners=_lines(by_owner, {q.owner: [q] for q in owner_quotas}),
        teams=_lines(by_team, _team_quotas(owner_quotas, teams)),
        deals=sorted(deals, key=lambda d: (d.close_date, d.owner, d.deal_id)),
        vs_actual=_vs_actual(forecaster, period, by_owner, owner, teams, team) if ended else [],
    )


def _team_quotas(owner_quotas: list[Quota], teams: dict[str, str | None]) -> dict[str, list[Quota]]:
    out: dict[str, list[Quota]] = {}
    for q in owner_quotas:
        out.setdefault(teams.get(q.owner) or "", []).append(q)
    return out


def _lines(
    figures: dict[str, dict[str, Figures]], quotas_of: dict[str, list[Quota]]
) -> list[ForecastLine]:
    lines = []
    for key in sorted(set(figures) | set(quotas_of)):
        quota: dict[str, Decimal] = {}
        for q in quotas_of.get(key, []):
            quota[q.currency] = quota.get(q.currency, Decimal(0)) + q.amount
        by_currency = figures.get(key, {})
        lines.append(
            ForecastLine(
                key=key,
                quota=quota,
                figures=by_currency,
                attainment={
                    c: attainment(by_currency[c].closed if c in by_currency else Decimal(0), a)
                    for c, a in quota.items()
                },
            )
        )
    return lines


def _vs_actual(
    forecaster: Forecaster,
    period: Period,
    by_owner: dict[str, dict[str, Figures]],
    owner: str | None,
    teams: dict[str, str | None],
    team: str | None,
) -> list[ForecastVsActual]:
    snapshots = forecaster.book.snapshots(period.key, owner)
    if team is not None:
        snapshots = [s for s in snapshots if teams.get(s.owner) == team]
    actual = {(o, c): f.closed for o, cur in by_owner.items() for c, f in cur.items()}
    return compare_with_actual(snapshots, actual)


def take_snapshot(forecaster: Forecaster, user: Actor, body: SnapshotIn) -> SnapshotTaken:
    authorize(user, Action.TAKE_FORECAST_SNAPSHOT)
    now = datetime.now(UTC)
    period = parse_period(body.period) if body.period else quarter_of(now.date())
    rows = forecaster.take_snapshot(period, now)
    return SnapshotTaken(period=period.key, taken_at=now, rows=rows)
