"""KPIs computed in Postgres (definitions: shared/API.md and domain/kpis.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, select, text

from domain import saas_kpis
from domain.kpis import (
    FUNNEL,
    FUNNEL_STEP,
    STAGE_PROBABILITY,
    dso,
    funnel_reached,
    rate,
)
from domain.stages import DealStage
from domain.subscriptions import Subscription

from .tables import subscription_states
from .views.invoices import ar_aging


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
    rows = _rows(
        conn,
        f"""
        SELECT {column} AS key, count(*) AS leads, count(signed_at) AS signed,
               count(*) FILTER (WHERE stage = 'WON') AS won
        FROM deals WHERE created_at >= :s AND created_at < :e
        GROUP BY {column} ORDER BY {column}""",
        **p,
    )
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


_LEADS = """
    SELECT count(*) AS created, count(signed_at) AS signed FROM deals
    WHERE created_at >= :s AND created_at < :e"""
_DECIDED = """
    SELECT count(*) FILTER (WHERE signed_at >= :s AND signed_at < :e) AS signed,
           count(*) FILTER (WHERE stage = 'LOST' AND closed_at >= :s
                            AND closed_at < :e) AS lost
    FROM deals WHERE (signed_at >= :s AND signed_at < :e)
                  OR (closed_at >= :s AND closed_at < :e)"""
_CYCLE = """
    SELECT avg(extract(epoch FROM signed_at - created_at) / 86400) AS mean,
           percentile_cont(0.5) WITHIN GROUP
               (ORDER BY extract(epoch FROM signed_at - created_at) / 86400) AS median
    FROM deals WHERE signed_at >= :s AND signed_at < :e"""
_DELIVERED = """
    SELECT count(*) AS done, count(*) FILTER (WHERE fulfilled_at <= due_date) AS on_time
    FROM orders WHERE fulfilled_at >= :s AND fulfilled_at < :e"""
_CLV = """
    SELECT currency, avg(paid) AS value FROM (
        SELECT i.customer_id, p.currency, sum(p.amount) AS paid
        FROM payments p JOIN invoices i ON i.number = p.invoice_number
        WHERE p.received_at < :e GROUP BY i.customer_id, p.currency) per_customer
    GROUP BY currency ORDER BY currency"""
_RECEIVABLES = """
    SELECT e.currency, sum(l.debit - l.credit) FROM journal_lines l
    JOIN journal_entries e ON e.entry_id = l.entry_id
    WHERE l.account = 'accounts_receivable' AND e.posted_at < :e
    GROUP BY e.currency"""
_INVOICED = """
    SELECT currency, sum(total) FROM invoices WHERE issued_at >= :s AND issued_at < :e
    GROUP BY currency"""
_PIPELINE = """
    SELECT stage, coalesce(currency, '') AS currency, count(*) AS n,
           coalesce(sum(amount), 0) AS amount
    FROM deals WHERE closed_at IS NULL GROUP BY stage, currency"""
_STEP = "CASE c.stage {} END".format(
    " ".join(f"WHEN '{stage}' THEN {step}" for stage, step in FUNNEL_STEP.items())
)
_REACHED = f"""
    SELECT furthest, count(*) FROM (
        SELECT c.deal_id, max({_STEP}) AS furthest FROM stage_changes c
        JOIN deals d ON d.deal_id = c.deal_id
        WHERE d.created_at >= :s AND d.created_at < :e GROUP BY c.deal_id
    ) reached WHERE furthest IS NOT NULL GROUP BY furthest"""
_TURNAROUND = """
    SELECT avg(extract(epoch FROM decided_at - requested_at) / 3600) AS hours
    FROM approval_steps WHERE decided_at >= :s AND decided_at < :e
      AND NOT carried_over"""


def _selling(conn: Any, p: dict[str, Any]) -> dict[str, Any]:
    """The KPIs of leads, deals, deliveries and approvals."""
    leads, decided = _one(conn, _LEADS, **p), _one(conn, _DECIDED, **p)
    cycle, delivered = _one(conn, _CYCLE, **p), _one(conn, _DELIVERED, **p)
    pipeline = _rows(conn, _PIPELINE)
    return {
        "leads_created": leads.created,
        "leads_signed": leads.signed,
        "lead_conversion_rate": rate(leads.signed, leads.created),
        "win_rate": rate(decided.signed, decided.signed + decided.lost),
        "avg_sales_cycle_days": _round(cycle.mean),
        "median_sales_cycle_days": _round(cycle.median),
        "on_time_delivery_rate": rate(delivered.on_time, delivered.done),
        "pipeline_by_stage": _pipeline(pipeline),
        "weighted_pipeline": _weighted(pipeline),
        "funnel": _funnel(dict(_rows(conn, _REACHED, **p))),
        "approval_turnaround_hours": _round(_one(conn, _TURNAROUND, **p).hours),
        "by_owner": _segments(conn, "owner", p),
        "by_source": _segments(conn, "source", p),
    }


def _money(conn: Any, p: dict[str, Any], end: date, days: int) -> dict[str, Any]:
    """The KPIs of cash: lifetime value, DSO, AR aging (domain.kpis.AGING buckets)."""
    receivables = dict(_rows(conn, _RECEIVABLES, **p))
    invoiced = dict(_rows(conn, _INVOICED, **p))
    return {
        "customer_lifetime_value": {r.currency: _round(r.value) for r in _rows(conn, _CLV, **p)},
        "dso_days": {
            c: dso(Decimal(receivables.get(c, 0)), Decimal(invoiced.get(c, 0)), days)
            for c in sorted(set(receivables) | set(invoiced))
        },
        "ar_aging": ar_aging(conn, end),
    }


def kpis(engine: Engine, start: date, end: date) -> KpiReport:
    """Every KPI for the days start..end (inclusive, UTC)."""
    p = {
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


def _weighted(rows: list[Any]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for row in rows:
        if row.currency:
            weight = STAGE_PROBABILITY.get(DealStage(row.stage), Decimal(0))
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
