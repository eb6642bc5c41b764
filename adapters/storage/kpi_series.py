"""KPI series for the dashboard's charts: lead conversion by month, and how long sales take.

Same definitions and facts as kpis.py (shared/API.md): a lead counts in the month it was
created and converts when its contract is signed; a sales cycle runs from lead created to
signed, in the deal's policy days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, text

from domain.kpis import rate

# Upper edges (exclusive, in days) of the cycle-time buckets; the last bucket is open.
CYCLE_EDGES = (7, 14, 30, 60, 90, 180)


class MonthConversion(BaseModel):
    month: str  # YYYY-MM
    leads: int
    signed: int
    rate: Decimal | None


class CycleBucket(BaseModel):
    label: str
    from_days: int
    to_days: int | None  # exclusive; None: no upper bound
    deals: int


def monthly_conversion(engine: Engine, last_month: date, months: int = 12) -> list[MonthConversion]:
    """The `months` calendar months (UTC) up to the one of `last_month`, oldest first, with
    the leads created in each and how many of those got signed (so far)."""
    last = last_month.replace(day=1)
    first = _months_before(last, months - 1)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                """
            SELECT to_char(m.month, 'YYYY-MM') AS month,
                   coalesce(sum(k.leads), 0) AS leads, coalesce(sum(k.signed), 0) AS signed
            FROM generate_series(CAST(:first AS date), CAST(:last AS date),
                                 interval '1 month') AS m(month)
            LEFT JOIN kpi_leads_by_source k
              ON k.day >= m.month AND k.day < m.month + interval '1 month'
            GROUP BY m.month ORDER BY m.month"""
            ),
            {"first": first, "last": last},
        ).all()
    return [
        MonthConversion(month=r.month, leads=r.leads, signed=r.signed, rate=rate(r.signed, r.leads))
        for r in rows
    ]


def cycle_time_histogram(engine: Engine, start: date, end: date) -> list[CycleBucket]:
    """Deals signed in start..end (inclusive, UTC) by days from lead to signature, in the
    buckets of CYCLE_EDGES (every bucket listed, empty ones with 0)."""
    with engine.connect() as conn:
        counts: dict[Any, Any] = dict(
            conn.execute(
                text(
                    """
                SELECT width_bucket(cycle_days,
                                    CAST(:edges AS numeric[])) AS bucket,
                       count(*) AS deals
                FROM deals WHERE signed_at >= :s AND signed_at < :e
                GROUP BY 1"""
                ),
                {
                    "edges": list(CYCLE_EDGES),
                    "s": datetime.combine(start, time.min, UTC),
                    "e": datetime.combine(end + timedelta(days=1), time.min, UTC),
                },
            ).all()
        )
    lows = (0, *CYCLE_EDGES)
    highs: tuple[int | None, ...] = (*CYCLE_EDGES, None)
    return [
        CycleBucket(
            label=f"{low}–{high} d" if high is not None else f"≥ {low} d",
            from_days=low,
            to_days=high,
            deals=int(counts.get(index, 0)),
        )
        for index, (low, high) in enumerate(zip(lows, highs, strict=True))
    ]


def _months_before(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)
