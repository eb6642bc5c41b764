"""The KPI facts (migration 0025) answer what the straightforward queries over the base
tables answer, for any period, after inserts, updates and deletes, and after a rebuild."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal as D
from typing import Any

from sqlalchemy import Engine, delete, text, update

from adapters.storage.kpis import KpiReport, _funnel, _pipeline, _round, _weighted, kpis
from adapters.storage.tables import (
    approval_steps,
    deals,
    invoices,
    orders,
    payments,
    stage_changes,
)
from adapters.storage.views.invoices import ar_aging
from domain.kpis import FUNNEL_STEP, dso, rate
from domain.stages import DealStage
from tests.integration.test_kpis import entry, load

# The definitions of shared/API.md as plain queries over the base tables (what
# adapters/storage/kpis.py ran before the facts), durations in each deal's policy days.
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


def as_compared(report: KpiReport) -> dict[str, Any]:
    out = report.model_dump(exclude={"period_from", "period_to"})
    out["pipeline_by_stage"] = report.pipeline_by_stage
    out["funnel"] = report.funnel
    for key in ("by_owner", "by_source"):
        out[key] = [(s.key, s.leads, s.signed, s.won) for s in getattr(report, key)]
    for key in ("mrr", "arr", "net_revenue_retention", "gross_churn_rate"):
        del out[key]
    return out


PERIODS = [
    (date(2026, 3, 1), date(2026, 3, 31)),
    (date(2026, 3, 15), date(2026, 3, 15)),
    (date(2026, 1, 1), date(2026, 6, 30)),
    (date(2026, 2, 20), date(2026, 4, 10)),
    (date(2025, 1, 1), date(2025, 1, 31)),  # before anything happened
]


def assert_facts_agree(engine: Engine) -> None:
    for start, end in PERIODS:
        want = reference(engine, start, end)
        got = as_compared(kpis(engine, start, end))
        assert got == want, (start, end)


STAGES_OPEN = ["QUALIFYING", "QUOTING", "AWAITING_APPROVAL", "PROPOSED", "AWAITING_SIGNATURE"]
STAGES_SIGNED = ["FULFILLING", "INVOICING", "COLLECTING", "WON", "WRITTEN_OFF", "CANCELLED"]


def seed(engine: Engine, rnd: random.Random, n: int = 120) -> list[str]:
    """`n` random deals over January to May 2026 with their stage paths, approvals, orders,
    invoices in two currencies, payments and ledger lines (on top of test_kpis' set)."""
    load(engine)  # customers C1..C3 and the hand-checked deals
    base = datetime(2026, 1, 1, tzinfo=UTC)
    ids = []
    with engine.begin() as conn:
        for i in range(n):
            deal_id = f"R{i}"
            ids.append(deal_id)
            created = base + timedelta(minutes=rnd.randrange(0, 120 * 24 * 60))
            signed = rnd.random() < 0.5
            signed_at = created + timedelta(hours=rnd.randrange(1, 40 * 24)) if signed else None
            stage = rnd.choice(STAGES_SIGNED if signed else [*STAGES_OPEN, "LOST", "LOST"])
            closed = stage in {"WON", "WRITTEN_OFF", "CANCELLED", "LOST"}
            closed_at = (signed_at or created) + timedelta(days=rnd.randrange(1, 30))
            cid = rnd.choice(["C1", "C2", "C3"])
            amount = D(rnd.randrange(100, 90_000)) / 100 if rnd.random() < 0.9 else None
            conn.execute(
                deals.insert().values(
                    deal_id=deal_id,
                    workflow_id=f"deal-{deal_id}",
                    customer_id=cid,
                    contact_id=f"K{cid}",
                    owner=rnd.choice(["rep1", "rep2", "rep3"]),
                    created_by="rep1",
                    source=rnd.choice(["web", "referral", "import"]),
                    email_key=f"{deal_id}@x.example",
                    stage=stage,
                    score=50,
                    score_reasons=[],
                    lead={},
                    policy={},
                    day_seconds=rnd.choice([D(86400), D(86400), D("0.5"), D(2)]),
                    amount=amount,
                    currency=(rnd.choice(["EUR", "USD"]) if amount else None),
                    created_at=created,
                    updated_at=created,
                    signed_at=signed_at,
                    closed_at=closed_at if closed else None,
                )
            )
            path = ["QUALIFYING", "QUOTING"]
            if signed:
                path += ["AWAITING_APPROVAL", "PROPOSED", "AWAITING_SIGNATURE", "FULFILLING"]
            path += [stage] if stage not in path else []
            conn.execute(
                stage_changes.insert(),
                [
                    {"deal_id": deal_id, "seq": q, "stage": s, "at": created}
                    for q, s in enumerate(path)
                ],
            )
            asked = created + timedelta(hours=rnd.randrange(1, 72))
            conn.execute(
                approval_steps.insert().values(
                    deal_id=deal_id,
                    contract_version=1,
                    idx=0,
                    grp=0,
                    role="sales_manager",
                    status="approved" if signed else "pending",
                    requested_at=asked if rnd.random() < 0.9 else None,
                    decided_at=asked + timedelta(minutes=rnd.randrange(5, 3000))
                    if signed
                    else None,
                    decided_by="manager" if signed else None,
                    carried_over=rnd.random() < 0.1,
                )
            )
            if not signed:
                continue
            assert signed_at is not None
            fulfilled = signed_at + timedelta(days=rnd.randrange(1, 25))
            conn.execute(
                orders.insert().values(
                    order_id=f"O-{deal_id}",
                    deal_id=deal_id,
                    currency="EUR",
                    status="fulfilled",
                    lines=[],
                    created_at=signed_at,
                    due_date=signed_at + timedelta(days=14),
                    fulfilled_at=fulfilled if rnd.random() < 0.8 else None,
                )
            )
            currency = rnd.choice(["EUR", "USD"])
            total = D(rnd.randrange(1000, 500_000)) / 100
            paid = rnd.choice([D(0), total, (total / 3).quantize(D("0.01"))])
            number = f"IN-{deal_id}"
            conn.execute(
                invoices.insert().values(
                    number=number,
                    deal_id=deal_id,
                    customer_id=cid,
                    billing_key=number,
                    currency=currency,
                    net_total=total,
                    tax_total=0,
                    total=total,
                    paid=paid,
                    status="paid" if paid == total else "open",
                    lines=[],
                    issued_at=fulfilled,
                    due_date=fulfilled + timedelta(days=30),
                )
            )
            entry(
                conn,
                f"invoice:{number}",
                deal_id,
                currency,
                fulfilled,
                [("accounts_receivable", total, 0), ("revenue", 0, total)],
            )
            if paid:
                received = fulfilled + timedelta(days=rnd.randrange(0, 50))
                conn.execute(
                    payments.insert().values(
                        reference=f"PAY-{deal_id}",
                        invoice_number=number,
                        deal_id=deal_id,
                        amount=paid,
                        currency=currency,
                        received_at=received,
                        recorded_at=received,
                        recorded_by="finance",
                    )
                )
                entry(
                    conn,
                    f"payment:{deal_id}",
                    deal_id,
                    currency,
                    received,
                    [("cash", paid, 0), ("accounts_receivable", 0, paid)],
                )
    return ids


def move(engine: Engine, rnd: random.Random, ids: list[str]) -> None:
    """Deals move on: reassigned, advanced, signed, closed; a delivery and an approval
    corrected; a payment taken back."""
    with engine.begin() as conn:
        for deal_id in rnd.sample(ids, 40):
            change = rnd.choice(["owner", "advance", "sign", "lose", "amount"])
            row = conn.execute(deals.select().where(deals.c.deal_id == deal_id)).one()
            when = row.created_at + timedelta(days=rnd.randrange(1, 40))
            if change == "owner":
                values: dict[str, Any] = {"owner": rnd.choice(["rep1", "rep2", "rep4"])}
            elif change == "amount":
                values = {"amount": D(rnd.randrange(100, 9000)), "currency": "EUR"}
            elif change == "advance" and row.closed_at is None:
                seq = conn.execute(
                    text("SELECT max(seq) + 1 FROM stage_changes WHERE deal_id = :d"),
                    {"d": deal_id},
                ).scalar_one()
                conn.execute(
                    stage_changes.insert().values(
                        deal_id=deal_id, seq=seq, stage="AWAITING_SIGNATURE", at=when
                    )
                )
                values = {"stage": "AWAITING_SIGNATURE"}
            elif change == "sign" and row.signed_at is None:
                values = {"signed_at": when, "stage": "FULFILLING"}
            elif change == "lose" and row.closed_at is None:
                values = {"stage": "LOST", "closed_at": when}
            else:
                values = {"stage": "WON", "closed_at": when}
            conn.execute(update(deals).where(deals.c.deal_id == deal_id).values(**values))
        conn.execute(
            update(orders)
            .where(orders.c.order_id.in_([f"O-{i}" for i in rnd.sample(ids, 30)]))
            .values(fulfilled_at=datetime(2026, 4, 2, 9, tzinfo=UTC))
        )
        conn.execute(
            update(approval_steps)
            .where(approval_steps.c.deal_id.in_(rnd.sample(ids, 30)))
            .values(decided_at=datetime(2026, 4, 3, 9, tzinfo=UTC), carried_over=False)
        )
        taken_back = conn.execute(payments.select().limit(3)).all()
        conn.execute(
            delete(payments).where(payments.c.reference.in_([p.reference for p in taken_back]))
        )
        conn.execute(delete(stage_changes).where(stage_changes.c.deal_id == "D6"))
        conn.execute(delete(deals).where(deals.c.deal_id == "D6"))


def facts(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    """Every fact row that counts something (rows a change brought to zero say nothing)."""
    tables = {
        "kpi_leads_by_owner": "leads <> 0 OR signed <> 0 OR won <> 0",
        "kpi_leads_by_source": "leads <> 0 OR signed <> 0 OR won <> 0",
        "kpi_funnel": "deals <> 0",
        "kpi_days": "signed <> 0 OR lost <> 0 OR delivered <> 0 OR approvals <> 0",
        "kpi_money": "invoices <> 0 OR receivable_lines <> 0 OR paid <> 0",
        "kpi_payers": "true",
    }
    with engine.connect() as conn:
        return {
            table: {tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} WHERE {where}"))}
            for table, where in tables.items()
        }


def test_the_facts_answer_what_the_base_tables_answer(fresh_engine):
    rnd = random.Random(18)
    ids = seed(fresh_engine, rnd)
    assert_facts_agree(fresh_engine)
    move(fresh_engine, rnd, ids)
    assert_facts_agree(fresh_engine)
    kept = facts(fresh_engine)
    with fresh_engine.begin() as conn:
        conn.execute(text("SELECT kpi_rebuild()"))
    assert facts(fresh_engine) == kept
    assert_facts_agree(fresh_engine)


def test_a_bulk_load_with_the_triggers_off_is_counted_by_a_rebuild(fresh_engine):
    with fresh_engine.begin() as conn:
        for table in ("deals", "stage_changes", "orders", "invoices", "payments", "journal_lines"):
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    load(fresh_engine)
    with fresh_engine.begin() as conn:
        for table in ("deals", "stage_changes", "orders", "invoices", "payments", "journal_lines"):
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    assert kpis(fresh_engine, date(2026, 3, 1), date(2026, 3, 31)).leads_created == 0
    with fresh_engine.begin() as conn:
        conn.execute(text("SELECT kpi_rebuild()"))
    assert_facts_agree(fresh_engine)
    assert kpis(fresh_engine, date(2026, 3, 1), date(2026, 3, 31)).leads_created == 5


def test_the_database_knows_the_funnel_steps_of_domain_kpis(fresh_engine):
    with fresh_engine.connect() as conn:
        for stage in DealStage:
            step = conn.execute(text("SELECT kpi_funnel_step(:s)"), {"s": stage.value}).scalar()
            assert step == FUNNEL_STEP.get(stage), stage


def test_a_deal_counts_durations_in_its_policy_days(fresh_engine):
    with fresh_engine.connect() as conn:
        for written, seconds in (("P1D", 86400), ("PT0.02S", D("0.02")), ("PT2S", 2)):
            got = conn.execute(
                text("SELECT extract(epoch FROM CAST(:d AS interval))"), {"d": written}
            ).scalar()
            assert got == seconds, written
