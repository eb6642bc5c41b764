"""Benchmark: a page of every list at a million deals, first page and one deep inside.

Loads the rows of bench/kpis.py (COPY, not the API) into a database of its own, adds an
approval inbox (deals waiting for a manager) and one deal with a long audit history, then
times each list through the real API. Run by hand:
    python bench/lists.py [--deals 1000000] [--repeat 5]
Writes nothing to the repository; paste the printed table into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg2
from kpis import START, load  # bench/kpis.py: the million deals

from adapters.embedded import free_port
from adapters.storage.views.paging import cursor_of
from config import Settings
from stack import Stack, serve

WAITING = 10_000  # deals waiting for a manager's approval
EVENTS = 2_000  # audit events of deal D0


def add_inbox_and_history(dsn: str) -> dict[str, Any]:
    """Deals waiting for approval, a long history; the keys of rows deep in each list."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(
        "UPDATE deals SET stage = 'AWAITING_APPROVAL', closed_at = NULL"
        " WHERE deal_id IN (SELECT deal_id FROM deals ORDER BY deal_id LIMIT %s)",
        (WAITING,),
    )
    cur.execute(
        """INSERT INTO approval_steps (deal_id, contract_version, idx, grp, role, status,
                                       carried_over, requested_at, subject)
           SELECT deal_id, 1, 0, 0, 'sales_manager', 'pending', false,
                  created_at + interval '1 day', 'contract'
             FROM deals WHERE stage = 'AWAITING_APPROVAL'"""
    )
    cur.execute(
        """INSERT INTO audit_events (deal_id, seq, event_key, at, actor, action, data,
                                     prev_hash, hash)
           SELECT 'D0', s, 'bench:' || s, %s + s * interval '1 minute', 'rep1', 'bench.event',
                  '{}'::jsonb, repeat('0', 64), repeat('0', 64)
             FROM generate_series(1, %s) s""",
        (START, EVENTS),
    )
    cur.execute("ANALYZE")

    def middle(query: str) -> tuple[Any, ...]:
        cur.execute(query)
        row = cur.fetchone()
        assert row is not None, query
        return tuple(row)

    keys = {
        "deal": middle(
            "SELECT created_at, deal_id FROM deals ORDER BY created_at DESC, deal_id DESC"
            " OFFSET (SELECT count(*) / 2 FROM deals) LIMIT 1"
        ),
        "rep deal": middle(
            "SELECT created_at, deal_id FROM deals WHERE owner = 'rep1'"
            " ORDER BY created_at DESC, deal_id DESC"
            " OFFSET (SELECT count(*) / 2 FROM deals WHERE owner = 'rep1') LIMIT 1"
        ),
        "invoice": middle(
            "SELECT issued_at, number FROM invoices ORDER BY issued_at DESC, number DESC"
            " OFFSET (SELECT count(*) / 2 FROM invoices) LIMIT 1"
        ),
        "customer": middle(
            "SELECT name, customer_id FROM customers ORDER BY name, customer_id"
            " OFFSET (SELECT count(*) / 2 FROM customers) LIMIT 1"
        ),
        "step": middle(
            "SELECT requested_at, deal_id, contract_version, idx FROM approval_steps"
            " ORDER BY requested_at, deal_id, contract_version, idx"
            f" OFFSET {WAITING // 2} LIMIT 1"
        ),
    }
    conn.close()
    return keys


def cases(keys: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(label, user, path, params) of each page timed."""
    deal = cursor_of(keys["deal"], (datetime, str))
    rep_deal = cursor_of(keys["rep deal"], (datetime, str))
    invoice = cursor_of(keys["invoice"], (datetime, str))
    customer = cursor_of(keys["customer"], (str, str))
    step = cursor_of(keys["step"], (datetime, str, int, int))
    history = cursor_of((EVENTS // 2,), (int,))
    return [
        ("deals, first page", "manager", "/deals", {}),
        ("deals, middle page", "manager", "/deals", {"cursor": deal}),
        ("deals of a stage", "manager", "/deals", {"stage": "LOST", "cursor": deal}),
        ("a rep's deals, first", "rep1", "/deals", {}),
        ("a rep's deals, deep", "rep1", "/deals", {"cursor": rep_deal}),
        ("invoices, first page", "finance", "/invoices", {}),
        ("invoices, middle page", "finance", "/invoices", {"cursor": invoice}),
        ("invoices by status", "finance", "/invoices", {"status": "paid", "cursor": invoice}),
        ("invoices of a customer", "finance", "/invoices", {"customer_id": "C5"}),
        ("a rep's invoices", "rep1", "/invoices", {}),
        ("customers, first page", "manager", "/customers", {}),
        ("customers, middle page", "manager", "/customers", {"cursor": customer}),
        ("a rep's customers", "rep1", "/customers", {}),
        ("approvals, first page", "manager", "/approvals", {}),
        ("approvals, middle page", "manager", "/approvals", {"cursor": step}),
        ("tasks, first page", "manager", "/tasks", {}),
        ("history, first page", "manager", "/deals/D0/history", {}),
        ("history, middle page", "manager", "/deals/D0/history", {"cursor": history}),
    ]


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--deals", type=int, default=1_000_000)
    args.add_argument("--repeat", type=int, default=5)
    options = args.parse_args()
    root = Path(tempfile.mkdtemp(prefix="l2c-bench-lists-"))
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
        keys = add_inbox_and_history(dsn)
        loaded = time.monotonic() - began
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
        clients = {}
        for user in ("manager", "finance", "rep1"):
            token = httpx.post(
                f"{base}/auth/token", data={"username": user, "password": "bench"}
            ).json()["access_token"]
            clients[user] = httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600
            )
        print(f"| list ({options.deals:,} deals) | items | median | max |")
        print("|---|---:|---:|---:|")
        for label, user, path, params in cases(keys):
            runs = []
            for _ in range(options.repeat + 1):  # the first warms the connection and cache
                t = time.monotonic()
                answer = clients[user].get(path, params={"limit": 50, **params})
                runs.append(time.monotonic() - t)
                assert answer.status_code == 200, answer.text
            items = len(answer.json()["items"])
            runs = runs[1:]
            print(
                f"| {label} | {items} | {statistics.median(runs) * 1000:.0f} ms"
                f" | {max(runs) * 1000:.0f} ms |"
            )
        print(f"loaded {options.deals:,} deals in {loaded:.0f}s")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
