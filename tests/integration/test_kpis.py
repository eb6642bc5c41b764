"""Every KPI of a known set of deals, against values worked out by hand (March 2026)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from typing import Any

from sqlalchemy import Engine

from adapters.storage.kpis import kpis
from adapters.storage.subscriptions import SubscriptionStore
from adapters.storage.tables import (
    approval_steps,
    contacts,
    customers,
    deals,
    invoices,
    journal_entries,
    journal_lines,
    orders,
    payments,
    stage_changes,
)
from domain.subscriptions import Subscription

PATH = [
    "QUALIFYING",
    "QUOTING",
    "AWAITING_APPROVAL",
    "AWAITING_SIGNATURE",
    "FULFILLING",
    "INVOICING",
    "COLLECTING",
]


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


# deal: created, signed, stage, closed, owner, source, amount, stages reached
DEALS = {
    "D1": (at(3, 1), at(3, 11), "WON", at(3, 25), "rep1", "web", D(1000), [*PATH, "WON"]),
    "D2": (at(3, 5), at(3, 25), "COLLECTING", None, "rep1", "referral", D(2000), PATH),
    "D3": (
        at(3, 10),
        None,
        "LOST",
        at(3, 20),
        "rep2",
        "web",
        D(500),
        ["QUALIFYING", "QUOTING", "LOST"],
    ),
    "D4": (at(3, 15), None, "QUOTING", None, "rep2", "trade_show", D(3000), PATH[:2]),
    "D5": (at(2, 10), at(3, 2), "FULFILLING", None, "rep1", "web", D(4000), PATH[:5]),
    "D6": (at(3, 20), None, "QUALIFYING", None, "rep2", "web", None, PATH[:1]),
}
CUSTOMER = {"D1": "C1", "D2": "C2", "D3": "C1", "D4": "C2", "D5": "C3", "D6": "C3"}
# invoice: deal, currency, total, paid, issued, due
INVOICES = {
    "I1": ("D1", "EUR", D(1200), D(1200), at(3, 18), at(3, 25)),
    "I2": ("D2", "EUR", D(2400), D(400), at(3, 1), at(3, 5)),
    "I3": ("D5", "EUR", D(1000), D(300), at(1, 10), at(1, 15)),
    "I4": ("D5", "USD", D(500), D(0), at(3, 15), at(4, 14)),
}
PAYMENTS = [
    ("P0", "I3", D(300), at(1, 20)),
    ("P1", "I1", D(1200), at(3, 24)),
    ("P2", "I2", D(400), at(3, 10)),
]


def load(engine: Engine) -> None:
    with engine.begin() as conn:
        for cid in ("C1", "C2", "C3"):
            conn.execute(
                customers.insert().values(
                    customer_id=cid, name=cid, name_key=cid, created_at=at(1, 1)
                )
            )
            conn.execute(
                contacts.insert().values(
                    contact_id=f"K{cid}",
                    customer_id=cid,
                    name=cid,
                    email=f"{cid}@x.example",
                    created_at=at(1, 1),
                )
            )
        for deal_id, (created, signed, stage, closed, owner, source, amount, path) in DEALS.items():
            cid = CUSTOMER[deal_id]
            conn.execute(
                deals.insert().values(
                    deal_id=deal_id,
                    workflow_id=f"deal-{deal_id}",
                    customer_id=cid,
                    contact_id=f"K{cid}",
                    owner=owner,
                    created_by=owner,
                    source=source,
                    email_key=f"{deal_id}@x.example",
                    stage=stage,
                    score=50,
                    score_reasons=[],
                    lead={},
                    policy={},
                    amount=amount,
                    currency="EUR" if amount else None,
                    created_at=created,
                    updated_at=created,
                    signed_at=signed,
                    closed_at=closed,
                )
            )
            conn.execute(
                stage_changes.insert(),
                [
                    {"deal_id": deal_id, "seq": i, "stage": s, "at": created}
                    for i, s in enumerate(path)
                ],
            )
        for deal_id, due, fulfilled in (
            ("D1", at(3, 20), at(3, 18)),
            ("D2", at(3, 28), at(3, 30)),
            ("D5", at(3, 30), None),
        ):
            conn.execute(
                orders.insert().values(
                    order_id=f"O-{deal_id}",
                    deal_id=deal_id,
                    currency="EUR",
                    status="fulfilled" if fulfilled else "open",
                    lines=[],
                    created_at=at(3, 1),
                    due_date=due,
                    fulfilled_at=fulfilled,
                )
            )
        for number, (deal_id, cur, total, paid, issued, due) in INVOICES.items():
            conn.execute(
                invoices.insert().values(
                    number=number,
                    deal_id=deal_id,
                    customer_id=CUSTOMER[deal_id],
                    billing_key=number,
                    currency=cur,
                    net_total=total,
                    tax_total=0,
                    total=total,
                    paid=paid,
                    status="paid" if paid == total else "open",
                    lines=[],
                    issued_at=issued,
                    due_date=due,
                )
            )
            entry(
                conn,
                f"invoice:{number}",
                deal_id,
                cur,
                issued,
                [("accounts_receivable", total, 0), ("deferred_revenue", 0, total)],
            )
        for reference, number, amount, received in PAYMENTS:
            deal_id = INVOICES[number][0]
            conn.execute(
                payments.insert().values(
                    reference=reference,
                    invoice_number=number,
                    deal_id=deal_id,
                    amount=amount,
                    currency="EUR",
                    received_at=received,
                    recorded_at=received,
                    recorded_by="finance",
                )
            )
            entry(
                conn,
                f"payment:{reference}",
                deal_id,
                "EUR",
                received,
                [("cash", amount, 0), ("accounts_receivable", 0, amount)],
            )
        for deal_id, idx, asked, decided, carried in (
            ("D1", 0, at(3, 8, 10), at(3, 8, 14), False),
            ("D2", 0, at(3, 20, 9), at(3, 21, 9), False),
            ("D2", 1, at(3, 1, 9), at(3, 22, 9), True),
        ):
            conn.execute(
                approval_steps.insert().values(
                    deal_id=deal_id,
                    contract_version=1,
                    idx=idx,
                    grp=idx,
                    role="sales_manager",
                    status="approved",
                    requested_at=asked,
                    decided_at=decided,
                    decided_by="manager",
                    carried_over=carried,
                )
            )


def entry(conn, key, deal_id, currency, posted, postings) -> None:
    entry_id = conn.execute(
        journal_entries.insert()
        .values(
            key=key,
            deal_id=deal_id,
            memo=key,
            currency=currency,
            posted_at=posted,
        )
        .returning(journal_entries.c.entry_id)
    ).scalar_one()
    conn.execute(
        journal_lines.insert(),
        [{"entry_id": entry_id, "account": a, "debit": d, "credit": c} for a, d, c in postings],
    )


def test_every_kpi_matches_the_hand_computed_value(fresh_engine):
    load(fresh_engine)
    report = kpis(fresh_engine, date(2026, 3, 1), date(2026, 3, 31))
    assert (report.leads_created, report.leads_signed) == (5, 2)
    assert report.lead_conversion_rate == D("0.4000")  # D1, D2 of D1-D4, D6
    assert report.win_rate == D("0.7500")  # signed D1, D2, D5; lost D3
    assert report.avg_sales_cycle_days == D("16.67")  # 10, 20, 20 days
    assert report.median_sales_cycle_days == D("20.00")
    assert report.on_time_delivery_rate == D("0.5000")  # O-D1 early, O-D2 late
    assert report.customer_lifetime_value == {"EUR": D("633.33")}  # (1200+400+300)/3
    # AR at the end: EUR 4600 invoiced - 1900 paid = 2700; invoiced in March 3600; 31 days.
    assert report.dso_days == {"EUR": D("23.3"), "USD": D("31.0")}
    assert report.ar_aging["EUR"] == {
        "current": 0,
        "1_30": D(2000),
        "31_60": 0,
        "61_90": D(700),
        "over_90": 0,
    }
    assert report.ar_aging["USD"]["current"] == D(500)
    pipeline = {
        stage: (load.count, load.amount) for stage, load in report.pipeline_by_stage.items()
    }
    assert pipeline == {
        "COLLECTING": (1, {"EUR": D(2000)}),
        "QUOTING": (1, {"EUR": D(3000)}),
        "FULFILLING": (1, {"EUR": D(4000)}),
        "QUALIFYING": (1, {}),
    }
    assert report.weighted_pipeline == {"EUR": D("6900.00")}  # 2000 + 0.3 * 3000 + 4000
    assert [(s.stage, s.reached, s.conversion_from_previous) for s in report.funnel] == [
        ("QUALIFYING", 5, None),
        ("QUOTING", 4, D("0.8000")),
        ("PROPOSED", 2, D("0.5000")),  # v1 deals, approved after acceptance, count too
        ("AWAITING_SIGNATURE", 2, D("1.0000")),
        ("FULFILLING", 2, D("1.0000")),
        ("WON", 1, D("0.5000")),
    ]
    assert report.approval_turnaround_hours == D("14.00")  # 4 h and 24 h; carried over: not
    assert [(s.key, s.leads, s.signed, s.won, s.lead_conversion_rate) for s in report.by_owner] == [
        ("rep1", 2, 2, 1, D("1.0000")),
        ("rep2", 3, 0, 0, D("0.0000")),
    ]
    assert [(s.key, s.leads, s.lead_conversion_rate) for s in report.by_source] == [
        ("referral", 1, D("1.0000")),
        ("trade_show", 1, D("0.0000")),
        ("web", 3, D("0.3333")),
    ]


def test_kpis_are_for_managers_finance_and_admins(as_user):
    assert as_user("manager").get("/kpis").status_code == 200
    assert as_user("finance").get("/kpis", params={"from": "2026-01-01"}).status_code == 200
    assert as_user("rep1").get("/kpis").status_code == 403
    assert (
        as_user("admin").get("/kpis", params={"from": "2026-05-01", "to": "2026-04-01"}).status_code
        == 422
    )


def subscription(sid: str, customer: str, net: str, start: datetime, **fields: Any) -> Subscription:
    """A 12-month term (360 days), one unit at `net` for the term: `net`/12 a month."""
    values: dict[str, Any] = {
        "subscription_id": sid,
        "customer_id": customer,
        "sku": "SEAT",
        "currency": "EUR",
        "quantity": D(1),
        "unit_price": D(net),
        "term_months": 12,
        "term_start": start,
        "term_end": start + timedelta(days=360),
        "effective_from": start,
    }
    return Subscription.model_validate({**values, **fields})


def test_mrr_arr_retention_and_churn_match_the_hand_computed_values(fresh_engine):
    load(fresh_engine)
    s2 = subscription("S2", "C2", "2400.00", at(1, 1))
    # deal: states of its subscriptions, in order
    histories = {
        "D1": [
            subscription("S1", "C1", "1200.00", at(1, 1)),  # 100 a month throughout
            subscription("S4", "C1", "1200.00", at(3, 10)),  # C1 expands on 10 March
        ],
        "D2": [
            s2,  # 200 a month, down to 100 on 15 March
            s2.model_copy(update={"unit_price": D("1200.00"), "effective_from": at(3, 15)}),
            subscription("S5", "C2", "1200.00", at(3, 5), currency="USD"),  # new, in USD
        ],
        # 50 a month, its term ends on 15 March and is not renewed: churned.
        "D5": [subscription("S3", "C3", "600.00", at(3, 15) - timedelta(days=360))],
    }
    store = SubscriptionStore(fresh_engine)
    with fresh_engine.begin() as conn:
        for deal_id, states in histories.items():
            seqs: dict[str, int] = {}
            for state in states:
                seqs[state.subscription_id] = seqs.get(state.subscription_id, 0) + 1
                seq = seqs[state.subscription_id]
                store.record_in(conn, deal_id, state, seq, at(3, 1), "system", "x", {})

    report = kpis(fresh_engine, date(2026, 3, 1), date(2026, 3, 31))
    # At the start: S1 100 + S2 200 + S3 50; at the end: S1 100 + S2 100 + S4 100 (+ 100 USD).
    assert report.mrr == {"EUR": D("300.00"), "USD": D("100.00")}
    assert report.arr == {"EUR": D("3600.00"), "USD": D("1200.00")}
    # C1, C2, C3 had MRR at the start (350): they have 200 + 100 + 0 at the end.
    assert report.net_revenue_retention == {"EUR": D("0.8571"), "USD": None}
    # Lost: S2's downgrade 100 and S3's end 50, of 350; S4's expansion is not netted.
    assert report.gross_churn_rate == {"EUR": D("0.4286"), "USD": None}
