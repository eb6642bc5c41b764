"""KPIs computed in Postgres (definitions: shared/API.md and domain/kpis.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, select, text

from domain import saas_kpis
from domain.kpis import (
    FUNNEL,
    STAGE_PROBABILITY,
    dso,
    funnel_reached,
    rate,
)
from domain.stages import DealStage
from domain.subscriptions import Subscription

from .tables import subscription_states
from .views.invoices import ar_aging
from .win_models import learned_stage_probabilities_in


class StageLoad(BaseModel):
    count: int
    amount: dict[str, Decimal]


class FunnelStep(BaseModel):
    stage: DealStage
    reached: int
    conversion_from_previous: Decimal | None


class Segment(BaseModel):
    key: str
    leads: int
    signed: int
    won: int
    lead_conversion_rate: Decimal | None


class StageProbabilities(BaseModel):
    """The stage weights of the weighted pipeline: learned from the funnel with the latest
    win model (domain/stage_probabilities.py), or the fixed ones while there is no model."""

    source: Literal["learned", "fixed"]
    values: dict[str, Decimal]


def stage_probabilities(conn: Any) -> StageProbabilities:
    learned = learned_stage_probabilities_in(conn)
    if learned is None:
        return StageProbabilities(
            source="fixed", values={str(s): p for s, p in STAGE_PROBABILITY.items()}
        )
    return StageProbabilities(source="learned", values={str(s): p for s, p in learned.items()})


class KpiReport(BaseModel):
    period_from: date
    period_to: date
    leads_created: int
    leads_signed: int
    lead_conversion_rate: Decimal | None
    win_rate: Decimal | None
    avg_sales_cycle_days: Decimal | None
    median_sales_cycle_days: Decimal | None
    on_time_delivery_rate: Decimal | None
    customer_lifetime_value: dict[str, Decimal]
    dso_days: dict[str, Decimal | None]
    ar_aging: dict[str, dict[str, Decimal]]
    pipeline_by_stage: dict[str, StageLoad]
    weighted_pipeline: dict[str, Decimal]
    stage_probabilities: StageProbabilities
    funnel: list[FunnelStep]
    approval_turnaround_hours: Decimal | None
    by_owner: list[Segment]
    by_source: list[Segment]
    # Subscriptions (domain/saas_kpis.py, docs/contracts.md), per currency: MRR and ARR at
    # the period's end; retention and churn from its start to its end.
    mrr: dict[str, Decimal] = Field(default_factory=dict)
    arr: dict[str, Decimal] = Field(default_factory=dict)
    net_revenue_retention: dict[str, Decimal | None] = Field(default_factory=dict)
    gross_churn_rate: dict[str, Decimal | None] = Field(default_factory=dict)


def _one(conn: Any, sql: str, **params: Any) -> Any:
    return conn.execute(text(sql), params).one()


def _rows(conn: Any, sql: str, **params: Any) -> list[Any]:
    return list(conn.execute(text(sql), params).all())


def _round(value: Any, places: str = "0.01") -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal(places))


def _segments(conn: Any, column: str, p: dict[str, Any]) -> list[Segment]:
    rows = _rows(conn, _SEGMENTS.format(column=column), **p)
    return [
        Segment(
            key=r.key,
            leads=r.leads,
            signed=r.signed,
            won=r.won,
            lead_conversion_rate=rate(r.signed, r.leads),
        )
        for r in rows
    ]


# Every count and sum comes from the KPI facts (migration 0025: kept current by triggers,
# one row per UTC day and owner, source, funnel step or currency), so a period of any
# length reads hundreds of rows; :a and :b are its first and last day.
_SEGMENTS = """
    SELECT {column} AS key, sum(leads) AS leads, sum(signed) AS signed, sum(won) AS won
    FROM kpi_leads_by_{column} WHERE day BETWEEN :a AND :b
    GROUP BY {column} HAVING sum(leads) > 0 ORDER BY {column}"""
_DAYS = """
    SELECT coalesce(sum(signed), 0) AS signed, sum(cycle_days) / nullif(sum(signed), 0) AS cycle,
           coalesce(sum(lost), 0) AS lost, coalesce(sum(delivered), 0) AS delivered,
           coalesce(sum(on_time), 0) AS on_time,
           sum(approval_hours) / nullif(sum(approvals), 0) AS turnaround
    FROM kpi_days WHERE day BETWEEN :a AND :b"""
# The median needs the values themselves: an index-only scan of the period's signings.
_MEDIAN_CYCLE = """
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY cycle_days) FROM deals
    WHERE signed_at >= :s AND signed_at < :e"""
_FUNNEL = """
    SELECT step, sum(deals) FROM kpi_funnel WHERE day BETWEEN :a AND :b
    GROUP BY step HAVING sum(deals) > 0"""
# Open deals are the live pipeline (a partial index holds just them).
_PIPELINE = """
    SELECT stage, coalesce(currency, '') AS currency, count(*) AS n,
           coalesce(sum(amount), 0) AS amount
    FROM deals WHERE closed_at IS NULL GROUP BY stage, currency"""
_MONEY = """
    SELECT currency, coalesce(sum(receivable), 0) AS receivable,
           sum(receivable_lines) > 0 AS has_receivables,
           coalesce(sum(invoiced) FILTER (WHERE day >= :a), 0) AS invoiced,
           coalesce(sum(invoices) FILTER (WHERE day >= :a), 0) > 0 AS has_invoices,
           sum(paid) AS paid
    FROM kpi_money WHERE day <= :b GROUP BY currency"""
_PAYERS = """
    SELECT currency, count(*) AS payers FROM kpi_payers WHERE first_paid <= :b
    GROUP BY currency"""


def _selling(conn: Any, p: dict[str, Any]) -> dict[str, Any]:
    """The KPIs of leads, deals, deliveries and approvals."""
    by_source = _segments(conn, "source", p)
    created, signed = sum(s.leads for s in by_source), sum(s.signed for s in by_source)
    days = _one(conn, _DAYS, **p)
    pipeline = _rows(conn, _PIPELINE)
    weights = stage_probabilities(conn)
    return {
        "leads_created": created,
        "leads_signed": signed,
        "lead_conversion_rate": rate(signed, created),
        "win_rate": rate(days.signed, days.signed + days.lost),
        "avg_sales_cycle_days": _round(days.cycle),
        "median_sales_cycle_days": _round(_one(conn, _MEDIAN_CYCLE, **p)[0]),
        "on_time_delivery_rate": rate(days.on_time, days.delivered),
        "pipeline_by_stage": _pipeline(pipeline),
        "weighted_pipeline": _weighted(pipeline, weights),
        "stage_probabilities": weights,
        "funnel": _funnel(dict(_rows(conn, _FUNNEL, **p))),
        "approval_turnaround_hours": _round(days.turnaround),
        "by_owner": _segments(conn, "owner", p),
        "by_source": by_source,
    }


def _money(conn: Any, p: dict[str, Any], end: date, days: int) -> dict[str, Any]:
    """The KPIs of cash: lifetime value, DSO, AR aging (domain.kpis.AGING buckets)."""
    money = _rows(conn, _MONEY, **p)
    payers = dict(_rows(conn, _PAYERS, **p))
    return {
        # The average over paying customers of all each has paid by the period's end.
        "customer_lifetime_value": {
            m.currency: _round(Decimal(m.paid) / payers[m.currency])
            for m in sorted(money, key=lambda m: m.currency)
            if payers.get(m.currency)
        },
        "dso_days": {
            m.currency: dso(Decimal(m.receivable), Decimal(m.invoiced), days)
            for m in sorted(money, key=lambda m: m.currency)
            if m.has_receivables or m.has_invoices
        },
        "ar_aging": ar_aging(conn, end),
    }


def kpis(engine: Engine, start: date, end: date) -> KpiReport:
    """Every KPI for the days start..end (inclusive, UTC)."""
    p: dict[str, Any] = {
        "a": start,
        "b": end,
        "s": datetime.combine(start, time.min, UTC),
        "e": datetime.combine(end + timedelta(days=1), time.min, UTC),
    }
    days = (end - start).days + 1
    with engine.connect() as conn:
        return KpiReport(
            period_from=start,
            period_to=end,
            **_selling(conn, p),
            **_money(conn, p, end, days),
            **_recurring(conn, p["s"], p["e"] - timedelta(microseconds=1)),
        )


def _recurring(conn: Any, start: datetime, end: datetime) -> dict[str, Any]:
    """MRR, ARR, net revenue retention and gross churn over the subscription histories
    whose terms run at some instant of the period."""
    rows = conn.execute(
        select(subscription_states.c.state)
        .where(
            subscription_states.c.term_end > start,
            subscription_states.c.effective_from <= end,
        )
        .order_by(subscription_states.c.subscription_id, subscription_states.c.seq)
    )
    history = [Subscription.model_validate(row.state) for row in rows]
    return {
        "mrr": saas_kpis.mrr(history, end),
        "arr": saas_kpis.arr(history, end),
        "net_revenue_retention": saas_kpis.net_revenue_retention(history, start, end),
        "gross_churn_rate": saas_kpis.gross_churn_rate(history, start, end),
    }


def _pipeline(rows: list[Any]) -> dict[str, StageLoad]:
    out: dict[str, StageLoad] = {}
    for row in rows:
        load = out.setdefault(row.stage, StageLoad(count=0, amount={}))
        load.count += row.n
        if row.currency:
            load.amount[row.currency] = load.amount.get(row.currency, Decimal(0)) + row.amount
    return out


def _weighted(rows: list[Any], weights: StageProbabilities) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for row in rows:
        if row.currency:
            weight = weights.values.get(str(DealStage(row.stage)), Decimal(0))
            out[row.currency] = out.get(row.currency, Decimal(0)) + Decimal(row.amount) * weight
    return {c: v.quantize(Decimal("0.01")) for c, v in out.items()}


def _funnel(furthest: dict[int, int]) -> list[FunnelStep]:
    steps, previous = [], None
    for stage, count in zip(FUNNEL, funnel_reached(furthest), strict=True):
        steps.append(
            FunnelStep(
                stage=stage,
                reached=count,
                conversion_from_previous=None if previous is None else rate(count, previous),
            )
        )
        previous = count
    return steps
