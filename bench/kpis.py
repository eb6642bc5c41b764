"""Benchmark: GET /kpis over a million closed deals with their invoices and payments.

Loads the rows with COPY (not the API) into a database of its own, with the KPI triggers off
and the facts rebuilt afterwards (`kpi_rebuild()`, timed), then times the endpoint.
Run by hand:  python bench/kpis.py [--deals 1000000] [--repeat 5]
Writes nothing to the repository; paste the printed table into docs/benchmarks.md. The last
line is JSON: {"deals": N, "month_s": .., "year_s": .., "all_s": ..} (medians, seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import psycopg2

from adapters.embedded import free_port
from config import Settings
from stack import Stack, serve

START = datetime(2024, 1, 1, tzinfo=UTC)
OWNERS = [f"rep{i}" for i in range(1, 41)]
SOURCES = ["web", "trade_show", "ad_campaign", "referral", "partner", "outbound", "import"]
# Tables whose triggers keep the KPI facts (migration 0025); off for the bulk load.
COUNTED = (
    "deals",
    "stage_changes",
    "orders",
    "invoices",
    "payments",
    "journal_lines",
    "approval_steps",
)
FURTHEST = {"WON": 5, "LOST": 1, "DISQUALIFIED": 0}  # domain.kpis.FUNNEL_STEP of each path
WON_PATH = [
    "QUALIFYING",
    "QUOTING",
    "AWAITING_APPROVAL",
    "AWAITING_SIGNATURE",
    "FULFILLING",
    "INVOICING",
    "COLLECTING",
    "WON",
]


def copy(cur: psycopg2.extensions.cursor, table: str, columns: str, rows: Iterator[str]) -> None:
    buffer = io.StringIO()
    for count, row in enumerate(rows, start=1):
        buffer.write(row)
        if count % 200_000 == 0:
            buffer.seek(0)
            cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
            buffer = io.StringIO()
    buffer.seek(0)
    cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


def load(dsn: str, n: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    customers = max(1, n // 20)
    conn = psycopg2.connect(dsn)
    conn.autocommit = False
    cur = conn.cursor()
    for table in COUNTED:  # bulk load only: the facts are rebuilt once at the end
        cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    copy(
        cur,
        "customers",
        "customer_id, name, name_key, created_at",
        (f"C{i}\tCustomer {i}\tcustomer {i}\t{START.isoformat()}\n" for i in range(customers)),
    )
    copy(
        cur,
        "contacts",
        "contact_id, customer_id, name, email, created_at",
        (
            f"K{i}\tC{i}\tContact {i}\tk{i}@c{i}.example\t{START.isoformat()}\n"
            for i in range(customers)
        ),
    )
    deals: list[str] = []
    changes: list[str] = []
    orders: list[str] = []
    invoices: list[str] = []
    payments: list[str] = []
    entries: list[str] = []
    lines: list[str] = []
    for i in range(n):
        created = START + timedelta(minutes=rnd.randrange(0, 2 * 365 * 24 * 60))
        won = rnd.random() < 0.55
        amount = rnd.randrange(1_000, 200_000)
        cid = rnd.randrange(customers)
        signed = created + timedelta(days=rnd.randrange(3, 90)) if won else None
        closed = (
            (signed + timedelta(days=rnd.randrange(10, 60)))
            if signed is not None  # signed exactly when won
            else (created + timedelta(days=rnd.randrange(1, 60)))
        )
        stage = "WON" if won else rnd.choice(["LOST", "DISQUALIFIED"])
        deals.append(
            f"D{i}\tdeal-D{i}\tC{cid}\tK{cid}\t{rnd.choice(OWNERS)}\timport\t"
            f"{rnd.choice(SOURCES)}\td{i}@c{cid}.example\t{stage}\t{rnd.randrange(100)}\t[]\t"
            f"{{}}\t{{}}\t{amount}.00\tEUR\t{created.isoformat()}\t{closed.isoformat()}\t"
            f"{signed.isoformat() if signed else chr(92) + 'N'}\t{closed.isoformat()}\t"
            f"{FURTHEST[stage]}\n"
        )
        path = (
            WON_PATH
            if won
            else ["QUALIFYING", stage]
            if stage == "DISQUALIFIED"
            else ["QUALIFYING", "QUOTING", "LOST"]
        )
        changes.extend(f"D{i}\t{s}\t{q}\t{created.isoformat()}\n" for q, s in enumerate(path))
        if won:
            assert signed is not None
            due = signed + timedelta(days=14)
            fulfilled = signed + timedelta(days=rnd.randrange(2, 20))
            orders.append(
                f"O{i}\tD{i}\tEUR\tfulfilled\t[]\t{signed.isoformat()}\t"
                f"{due.isoformat()}\t{fulfilled.isoformat()}\n"
            )
            total = amount * 1.2
            issued = fulfilled
            invoices.append(
                f"I{i}\tD{i}\tC{cid}\tdelivery:1\tEUR\t{amount}.00\t"
                f"{total - amount:.2f}\t{total:.2f}\t{total:.2f}\t0\tpaid\t[]\t"
                f"{issued.isoformat()}\t{(issued + timedelta(days=30)).isoformat()}\n"
            )
            paid_at = issued + timedelta(days=rnd.randrange(5, 60))
            payments.append(
                f"B{i}\tI{i}\tD{i}\t{total:.2f}\tEUR\t{paid_at.isoformat()}\t"
                f"{paid_at.isoformat()}\tfinance\n"
            )
            for kind, at, debit, credit in (
                ("invoice", issued, "accounts_receivable", "deferred_revenue"),
                ("payment", paid_at, "cash", "accounts_receivable"),
            ):
                entry_id = len(entries) + 1
                entries.append(f"{entry_id}\t{kind}:{i}\tD{i}\t{kind}\tEUR\t{at.isoformat()}\n")
                lines.append(f"{entry_id}\t{debit}\t{total:.2f}\t0\n")
                lines.append(f"{entry_id}\t{credit}\t0\t{total:.2f}\n")
    copy(
        cur,
        "deals",
        "deal_id, workflow_id, customer_id, contact_id, owner, created_by, "
        "source, email_key, stage, score, score_reasons, lead, policy, amount, currency, "
        "created_at, updated_at, signed_at, closed_at, furthest_step",
        iter(deals),
    )
    copy(cur, "stage_changes", "deal_id, stage, seq, at", iter(changes))
    copy(
        cur,
        "orders",
        "order_id, deal_id, currency, status, lines, created_at, due_date, fulfilled_at",
        iter(orders),
    )
    copy(
        cur,
        "invoices",
        "number, deal_id, customer_id, billing_key, currency, net_total, "
        "tax_total, total, paid, credited, status, lines, issued_at, due_date",
        iter(invoices),
    )
    copy(
        cur,
        "payments",
        "reference, invoice_number, deal_id, amount, currency, received_at, "
        "recorded_at, recorded_by",
        iter(payments),
    )
    copy(cur, "journal_entries", "entry_id, key, deal_id, memo, currency, posted_at", iter(entries))
    copy(cur, "journal_lines", "entry_id, account, debit, credit", iter(lines))
    cur.execute(
        "SELECT setval('journal_entries_entry_id_seq', (SELECT max(entry_id) FROM journal_entries))"
    )
    for table in COUNTED:
        cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    conn.commit()
    conn.autocommit = True
    cur.execute("VACUUM ANALYZE")
    conn.close()


def rebuild(dsn: str) -> float:
    """Seconds to recompute the KPI facts from the loaded rows."""
    conn = psycopg2.connect(dsn)
    began = time.monotonic()
    with conn, conn.cursor() as cur:
        cur.execute("SELECT kpi_rebuild()")
    took = time.monotonic() - began
    conn.autocommit = True
    conn.cursor().execute("ANALYZE")
    conn.close()
    return took


# What the facts must answer as the plain queries do (the subscription KPIs read the same
# rows either way).
COMPARED = (
    "leads_created",
    "leads_signed",
    "lead_conversion_rate",
    "win_rate",
    "avg_sales_cycle_days",
    "median_sales_cycle_days",
    "on_time_delivery_rate",
    "customer_lifetime_value",
    "dso_days",
    "ar_aging",
    "pipeline_by_stage",
    "weighted_pipeline",
    "funnel",
    "approval_turnaround_hours",
)


def straightforward(dsn: str, start: str, end: str) -> tuple[float, bool]:
    """Seconds the plain queries over the base tables take (adapters/storage/kpi_definitions),
    and whether they answer what the facts answer."""
    from sqlalchemy import create_engine

    from adapters.storage.kpi_definitions import reference
    from adapters.storage.kpis import kpis

    engine = create_engine(dsn.replace("postgresql://", "postgresql+psycopg2://", 1))
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    began = time.monotonic()
    want = reference(engine, first, last)
    took = time.monotonic() - began
    got = kpis(engine, first, last)
    engine.dispose()
    return took, all(getattr(got, key) == want[key] for key in COMPARED)


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--deals", type=int, default=1_000_000)
    args.add_argument("--repeat", type=int, default=5)
    options = args.parse_args()
    root = Path(tempfile.mkdtemp(prefix="l2c-bench-"))
    settings = Settings(
        _env_file=None,
        data_dir=root,
        api_port=free_port(),
        postgres_port=free_port(),
        temporal_port=free_port(),
        smtp_port=free_port(),
        secret_key="bench-" + "x" * 40,
        dev_password="bench",
    )
    stack = Stack(settings, persist_temporal=False, temporal_ui=False)
    settings = stack.start()
    try:
        stack.prepare()
        dsn = (settings.database_url or "").replace("postgresql+psycopg2", "postgresql")
        began = time.monotonic()
        load(dsn, options.deals)
        loaded = time.monotonic() - began
        rebuilt = rebuild(dsn)
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(serve(settings, with_worker=False), loop)
        base = f"http://127.0.0.1:{settings.api_port}"
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        token = httpx.post(
            f"{base}/auth/token", data={"username": "manager", "password": "bench"}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        timings = {}
        for label, params in (
            ("one month", {"from": "2024-06-01", "to": "2024-06-30"}),
            ("one year", {"from": "2024-01-01", "to": "2024-12-31"}),
            ("two years", {"from": "2024-01-01", "to": "2025-12-31"}),
        ):
            runs = []
            for _ in range(options.repeat):
                t = time.monotonic()
                answer = httpx.get(f"{base}/kpis", params=params, headers=headers, timeout=600)
                runs.append(time.monotonic() - t)
                assert answer.status_code == 200, answer.text
            timings[label] = runs
            leads = answer.json()["leads_created"]
            print(
                f"GET /kpis {label:<10} leads={leads:>8}  median {statistics.median(runs):.2f}s"
                f"  min {min(runs):.2f}s  max {max(runs):.2f}s"
            )
            straight, same = straightforward(dsn, params["from"], params["to"])
            print(f"  the straightforward queries, same period: {straight:.2f}s, same KPIs: {same}")
        print(f"loaded {options.deals:,} deals in {loaded:.0f}s, facts rebuilt in {rebuilt:.0f}s")
        medians = {
            key: round(statistics.median(timings[label]), 3)
            for key, label in (
                ("month_s", "one month"),
                ("year_s", "one year"),
                ("all_s", "two years"),
            )
        }
        print(json.dumps({"deals": options.deals, **medians}))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
