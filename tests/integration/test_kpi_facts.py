"""The KPI facts (migration 0025) answer what the straightforward queries over the base
tables answer, for any period, after inserts, updates and deletes, and after a rebuild."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from typing import Any

from sqlalchemy import Engine, delete, text, update

from adapters.storage.kpi_definitions import reference
from adapters.storage.kpis import KpiReport, kpis
from adapters.storage.tables import (
    approval_steps,
    deals,
    invoices,
    orders,
    payments,
    stage_changes,
)
from domain.kpis import FUNNEL_STEP
from domain.stages import DealStage
from tests.integration.test_kpis import entry, load


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
