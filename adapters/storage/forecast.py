"""The forecast's storage: what reps set per deal (with its audit event, in one transaction),
quotas, snapshots, and the reads the roll-up needs (open deals, won deals, the median
sales cycle). The rules live in domain/forecast.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, select, text
from sqlalchemy.dialects.postgresql import insert

from domain.forecast import ForecastCategory, Period, SnapshotFigures
from domain.kpis import STAGE_PROBABILITY
from domain.stages import DealStage
from domain.win_score import WinScore

from .audit import append_event
from .tables import deal_forecasts, forecast_snapshots, quotas


class DealForecast(BaseModel):
    """What a rep or manager set on a deal."""

    deal_id: str
    category: ForecastCategory
    close_date: date
    set_by: str
    set_at: datetime


class Quota(BaseModel):
    owner: str
    period: str
    amount: Decimal
    currency: str
    set_by: str
    set_at: datetime


class ForecastDealRow(BaseModel):
    """An open deal with an amount, and what the forecast needs of it."""

    deal_id: str
    owner: str
    team: str | None
    customer_name: str
    stage: DealStage
    amount: Decimal
    currency: str
    created_at: datetime
    day_seconds: Decimal
    quote_valid_until: datetime | None
    category: ForecastCategory | None
    close_date: date | None
    set_by: str | None


class WonRow(BaseModel):
    deal_id: str
    owner: str
    team: str | None
    amount: Decimal
    currency: str


_OPEN_DEALS = text("""
SELECT d.deal_id, d.owner, u.team, c.name AS customer_name, d.stage, d.amount, d.currency,
       d.created_at, d.day_seconds, (q.document->>'valid_until')::timestamptz AS quote_valid_until,
       f.category, f.close_date, f.set_by
FROM deals d
JOIN customers c ON c.customer_id = d.customer_id
LEFT JOIN users u ON u.username = d.owner
LEFT JOIN deal_forecasts f ON f.deal_id = d.deal_id
LEFT JOIN LATERAL (SELECT document FROM quotes WHERE quotes.deal_id = d.deal_id
                   ORDER BY version DESC LIMIT 1) q ON true
WHERE d.closed_at IS NULL AND d.signed_at IS NULL AND d.amount IS NOT NULL
  AND d.currency IS NOT NULL
  AND (CAST(:owner AS text) IS NULL OR d.owner = :owner)
  AND (CAST(:team AS text) IS NULL OR u.team = :team)
  AND (CAST(:deal_id AS text) IS NULL OR d.deal_id = :deal_id)
""")

# Won = signed in the period; a deal cancelled after signing did not close.
_WON = text("""
SELECT d.deal_id, d.owner, u.team, d.amount, d.currency
FROM deals d LEFT JOIN users u ON u.username = d.owner
WHERE d.signed_at >= :start AND d.signed_at < :end AND d.stage <> 'CANCELLED'
  AND d.amount IS NOT NULL AND d.currency IS NOT NULL
  AND (CAST(:owner AS text) IS NULL OR d.owner = :owner)
  AND (CAST(:team AS text) IS NULL OR u.team = :team)
""")


class ForecastBook:
    """Forecast settings, quotas and snapshots in Postgres."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def set_forecast(self, forecast: DealForecast) -> DealForecast:
        """Write what was set and its audit event in one transaction."""
        values = forecast.model_dump()
        with self.engine.begin() as conn:
            before = conn.execute(
                select(deal_forecasts).where(deal_forecasts.c.deal_id == forecast.deal_id)
            ).first()
            conn.execute(
                insert(deal_forecasts)
                .values(**values)
                .on_conflict_do_update(index_elements=["deal_id"], set_=values)
            )
            append_event(
                conn,
                forecast.deal_id,
                f"forecast.set:{forecast.set_at.isoformat()}",
                forecast.set_at,
                forecast.set_by,
                "forecast.set",
                {
                    "category": forecast.category.value,
                    "close_date": forecast.close_date.isoformat(),
                    "previous_category": before.category if before else None,
                    "previous_close_date": before.close_date.isoformat() if before else None,
                },
            )
        return forecast

    def forecast_of(self, deal_id: str) -> DealForecast | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(deal_forecasts).where(deal_forecasts.c.deal_id == deal_id)
            ).first()
        return DealForecast.model_validate(dict(row._mapping)) if row else None

    def is_closed(self, deal_id: str) -> bool:
        """Signed (won, or on its way) or closed: what happened replaces the forecast."""
        with self.engine.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "SELECT signed_at IS NOT NULL OR closed_at IS NOT NULL"
                        " FROM deals WHERE deal_id = :id"
                    ),
                    {"id": deal_id},
                ).scalar()
            )

    def set_quota(self, quota: Quota) -> Quota:
        values = quota.model_dump()
        with self.engine.begin() as conn:
            conn.execute(
                insert(quotas)
                .values(**values)
                .on_conflict_do_update(index_elements=["owner", "period"], set_=values)
            )
        return quota

    def quotas(self, period: str | None = None) -> list[Quota]:
        query = select(quotas).order_by(quotas.c.period, quotas.c.owner)
        if period is not None:
            query = query.where(quotas.c.period == period)
        with self.engine.connect() as conn:
            return [Quota.model_validate(dict(r._mapping)) for r in conn.execute(query)]

    def open_deals(
        self, owner: str | None = None, team: str | None = None, deal_id: str | None = None
    ) -> list[ForecastDealRow]:
        """Open (not signed, not closed) deals with an amount, filtered as asked."""
        params = {"owner": owner, "team": team, "deal_id": deal_id}
        with self.engine.connect() as conn:
            rows = conn.execute(_OPEN_DEALS, params)
            return [ForecastDealRow.model_validate(dict(r._mapping)) for r in rows]

    def won(self, period: Period, owner: str | None, team: str | None) -> list[WonRow]:
        params: dict[str, Any] = {
            "start": period.start,
            "end": period.end,
            "owner": owner,
            "team": team,
        }
        with self.engine.connect() as conn:
            return [WonRow.model_validate(dict(r._mapping)) for r in conn.execute(_WON, params)]

    def median_cycle_days(self) -> Decimal | None:
        """The company's median sales cycle, in each deal's policy days (deals.cycle_days)."""
        with self.engine.connect() as conn:
            value = conn.execute(
                text(
                    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY cycle_days)"
                    " FROM deals WHERE cycle_days IS NOT NULL"
                )
            ).scalar()
        return None if value is None else Decimal(str(value))

    def teams(self) -> dict[str, str | None]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT username, team FROM users"))
            return {r.username: r.team for r in rows}

    def save_snapshot(self, period: str, rows: Sequence[dict[str, Any]]) -> int:
        """Keep the forecast as it stood (one row per owner and currency); the count."""
        if not rows:
            return 0
        with self.engine.begin() as conn:
            conn.execute(
                insert(forecast_snapshots)
                .values([{**r, "period": period} for r in rows])
                .on_conflict_do_nothing()
            )
        return len(rows)

    def snapshots(self, period: str, owner: str | None = None) -> list[SnapshotFigures]:
        query = select(forecast_snapshots).where(forecast_snapshots.c.period == period)
        if owner is not None:
            query = query.where(forecast_snapshots.c.owner == owner)
        with self.engine.connect() as conn:
            return [SnapshotFigures.model_validate(dict(r._mapping)) for r in conn.execute(query)]


class StageScorer:
    """The rules' win probability: the fixed probability of the deal's stage
    (domain/kpis.py STAGE_PROBABILITY). The default until a learned model answers."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def scores(self, deal_ids: Sequence[str]) -> dict[str, WinScore]:
        if not deal_ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT deal_id, stage FROM deals WHERE deal_id = ANY(:ids)"),
                {"ids": list(deal_ids)},
            )
            stages = {r.deal_id: DealStage(r.stage) for r in rows}
        return {
            deal_id: WinScore(
                probability=STAGE_PROBABILITY.get(stage, Decimal(0)),
                reasons=[f"deals at {stage.value.lower().replace('_', ' ')} win this often"],
                source="rules",
            )
            for deal_id, stage in stages.items()
        }
