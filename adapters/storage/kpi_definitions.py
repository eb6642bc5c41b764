"""The KPIs as plain queries over the base tables, as shared/API.md defines them: what
kpis.py ran before the facts (migration 0025). Slow at scale; kept as the definition the
facts are checked against (tests/integration/test_kpi_facts.py, bench/kpis.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal as D
from typing import Any

from sqlalchemy import Engine, text

from domain.kpis import FUNNEL_STEP, dso, rate

from .kpis import _funnel, _pipeline, _round, _weighted, stage_probabilities
from .views.invoices import ar_aging

# Durations in each deal's policy days.
_STEP = "CASE c.stage {} END".format(
    " ".join(f"WHEN '{stage}' THEN {step}" for stage, step in FUNNEL_STEP.items())
)
REFERENCE = {
    "leads": """SELECT count(*) AS created, count(signed_at) AS signed FROM deals
        WHERE created_at >= :s AND created_at < :e""",
    "decided": """SELECT count(*) FILTER (WHERE signed_at >= :s AND signed_at < :e) AS signed,
        count(*) FILTER (WHERE stage = 'LOST' AND closed_at >= :s AND closed_at < :e) AS lost
        FROM deals""",
    "cycle": """SELECT avg(extract(epoch FROM signed_at - created_at) / day_seconds) AS mean,
        percentile_cont(0.5) WITHIN GROUP
            (ORDER BY extract(epoch FROM signed_at - created_at) / day_seconds) AS median
        FROM deals WHERE signed_at >= :s AND signed_at < :e""",
    "delivered": """SELECT count(*) AS done,
        count(*) FILTER (WHERE fulfilled_at <= due_date) AS on_time
        FROM orders WHERE fulfilled_at >= :s AND fulfilled_at < :e""",
    "turnaround": """SELECT avg(extract(epoch FROM a.decided_at - a.requested_at) * 24
        / d.day_seconds) AS hours
        FROM approval_steps a JOIN deals d ON d.deal_id = a.deal_id
        WHERE a.decided_at >= :s AND a.decided_at < :e AND NOT a.carried_over""",
    "clv": """SELECT currency, avg(paid) AS value FROM (
        SELECT i.customer_id, p.currency, sum(p.amount) AS paid
        FROM payments p JOIN invoices i ON i.number = p.invoice_number
        WHERE p.received_at < :e GROUP BY i.customer_id, p.currency) per_customer
        GROUP BY currency ORDER BY currency""",
    "receivables": """SELECT e.currency, sum(l.debit - l.credit) FROM journal_lines l
        JOIN journal_entries e ON e.entry_id = l.entry_id
        WHERE l.account = 'accounts_receivable' AND e.posted_at < :e GROUP BY e.currency""",
    "invoiced": """SELECT currency, sum(total) FROM invoices
        WHERE issued_at >= :s AND issued_at < :e GROUP BY currency""",
    "pipeline": """SELECT stage, coalesce(currency, '') AS currency, count(*) AS n,
        coalesce(sum(amount), 0) AS amount FROM deals WHERE closed_at IS NULL
        GROUP BY stage, currency""",
    "reached": f"""SELECT furthest, count(*) FROM (
        SELECT c.deal_id, max({_STEP}) AS furthest FROM stage_changes c
        JOIN deals d ON d.deal_id = c.deal_id
        WHERE d.created_at >= :s AND d.created_at < :e GROUP BY c.deal_id
        ) reached WHERE furthest IS NOT NULL GROUP BY furthest""",
    "segments": """SELECT {column} AS key, count(*) AS leads, count(signed_at) AS signed,
        count(*) FILTER (WHERE stage = 'WON') AS won
        FROM deals WHERE created_at >= :s AND created_at < :e
        GROUP BY {column} ORDER BY {column}""",
}


def reference(engine: Engine, start: date, end: date) -> dict[str, Any]:
    """The KPIs that the facts stand for, from the base tables."""
    p = {
        "s": datetime.combine(start, time.min, UTC),
        "e": datetime.combine(end + timedelta(days=1), time.min, UTC),
    }
    with engine.connect() as conn:

        def one(name: str) -> Any:
            return conn.execute(text(REFERENCE[name]), p).one()

        def rows(name: str, **fmt: str) -> list[Any]:
            return list(conn.execute(text(REFERENCE[name].format(**fmt)), p).all())

        leads, decided, cycle, delivered = (
            one("leads"),
            one("decided"),
            one("cycle"),
            one("delivered"),
        )
        receivables, invoiced = dict(rows("receivables")), dict(rows("invoiced"))
        pipeline = rows("pipeline")
        weights = stage_probabilities(conn)  # not a fact: the latest win model's, or fixed
        return {
            "leads_created": leads.created,
            "leads_signed": leads.signed,
            "lead_conversion_rate": rate(leads.signed, leads.created),
            "win_rate": rate(decided.signed, decided.signed + decided.lost),
            "avg_sales_cycle_days": _round(cycle.mean),
            "median_sales_cycle_days": _round(cycle.median),
            "on_time_delivery_rate": rate(delivered.on_time, delivered.done),
            "pipeline_by_stage": _pipeline(pipeline),
            "weighted_pipeline": _weighted(pipeline, weights),
            "stage_probabilities": weights.model_dump(),
            "funnel": _funnel(dict(rows("reached"))),
            "approval_turnaround_hours": _round(one("turnaround").hours),
            "by_owner": [tuple(r) for r in rows("segments", column="owner")],
            "by_source": [tuple(r) for r in rows("segments", column="source")],
            "customer_lifetime_value": {r.currency: _round(r.value) for r in rows("clv")},
            "dso_days": {
                c: dso(D(receivables.get(c, 0)), D(invoiced.get(c, 0)), (end - start).days + 1)
                for c in sorted(set(receivables) | set(invoiced))
            },
            "ar_aging": ar_aging(conn, end),
        }
