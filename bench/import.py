"""Benchmark: a CSV of N leads through POST /leads/import, against N bare workflow starts on
the same Temporal server in the same run.

It starts its own stack in a temp dir (as bench/throughput.py does), then:
  1. bare: N `client.start_workflow` calls of a workflow that returns at once (run by a
     worker of its own), at most 64 at a time, as the import starts its deals;
  2. import: posts a CSV of N valid leads (distinct e-mails and companies) as a manager and
     polls until GET /imports/{id} says done and every deal is a row in `deals` (what GET
     /deals lists), and until Temporal's visibility counts every deal workflow.
Prints a table, then a last JSON line {"rows", "import_rows_per_s", "bare_starts_per_s",
"ratio", ...}: import rows/s count from the POST to done-and-every-deal-listed.

Run by hand:  python bench/import.py --rows 5000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import inspect
import io
import os
import sys
import time
import uuid
from typing import Any

import httpx
import psycopg2
from bare_start import BareStart
from temporalio.client import Client
from temporalio.worker import Worker
from throughput import (
    PASSWORD,
    cpu_seconds,
    cpu_since,
    report_and_exit,
    start_stack,
    stop_stack,
)

from activities.imports import start_deals
from adapters.temporal import connect_temporal
from config import Settings

POLL_SECONDS = 0.25
# The import starts its deals this many at a time; the bare starts go as wide.
CONCURRENCY: int = inspect.signature(start_deals).parameters["concurrency"].default
COUNTRIES = ["FI", "SE", "NO", "DE", "FR", "NL"]
SOURCES = ["web", "trade_show", "referral", "partner", "import"]


def leads_csv(rows: int, tag: str) -> bytes:
    """`rows` valid leads, each of its own company and e-mail domain."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["company", "contact_name", "email", "source", "country", "estimated_value", "currency"]
        + ["need"]
    )
    for i in range(rows):
        writer.writerow(
            [
                f"Bench {tag} {i} Oy",
                f"Contact {i}",
                f"buyer{i}@b{i}-{tag}.example",
                SOURCES[i % len(SOURCES)],
                COUNTRIES[i % len(COUNTRIES)],
                f"{1000 + i % 50_000}.00",
                "EUR",
                "CRM renewal" if i % 2 else "",
            ]
        )
    return out.getvalue().encode()


async def bare_starts(client: Client, rows: int, concurrency: int) -> dict[str, float]:
    """Seconds for `rows` plain starts at `concurrency`, the worker running them meanwhile."""
    queue = f"bench-bare-start-{uuid.uuid4().hex[:8]}"
    gate = asyncio.Semaphore(concurrency)

    async def start(n: int) -> None:
        async with gate:
            await client.start_workflow(
                BareStart.run, n, id=f"bare-start-{queue}-{n}", task_queue=queue
            )

    async with Worker(client, task_queue=queue, workflows=[BareStart]):
        cpu = cpu_seconds()
        began = time.perf_counter()
        await asyncio.gather(*(start(n) for n in range(rows)))
        seconds = time.perf_counter() - began
        used = cpu_since(cpu, rows)
    return {"bare_seconds": seconds, "bare_cpu_ms_per_start": used["all"] * 1000}


def count_listed(dsn: str, tag: str) -> int:
    """Rows in `deals` (what GET /deals lists) of this run's file."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM deals WHERE email_key LIKE %s", (f"%-{tag}.example",))
        found = cur.fetchone()
    conn.close()
    return int(found[0]) if found else 0


async def run_import(
    client: Client, settings: Settings, rows: int, tag: str
) -> dict[str, float | int]:
    """Post the file; poll until done, every deal listed, every deal workflow counted."""
    dsn = (settings.database_url or "").replace("postgresql+psycopg2", "postgresql")
    data = leads_csv(rows, tag)
    async with httpx.AsyncClient(base_url=settings.base_url, timeout=600) as http:
        token = await http.post("/auth/token", data={"username": "manager", "password": PASSWORD})
        http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        cpu = cpu_seconds()
        began = time.perf_counter()
        answer = await http.post("/leads/import", files={"file": ("leads.csv", data, "text/csv")})
        assert answer.status_code == 202, answer.text
        answered = time.perf_counter() - began
        result = answer.json()
        assert result["created"] == rows and not result["errors"], result["errors"][:3]
        seen: dict[str, float] = {}
        shown, listed, workflows = 0.0, 0, 0
        query = (
            "WorkflowType = 'DealWorkflowV2'"  # DealWorkflow's name; the stack is this run's own
        )
        while len(seen) < 3:
            now = time.perf_counter() - began
            if "done" not in seen:
                status = (await http.get(result["progress_url"])).json()
                if status["done"]:
                    seen["done"] = now
            if "listed" not in seen:
                listed = await asyncio.to_thread(count_listed, dsn, tag)
                if listed == rows:
                    seen["listed"] = now
            if "workflows" not in seen:
                workflows = (await client.count_workflows(query)).count
                if workflows >= rows:
                    seen["workflows"] = now
            if now >= shown + 10:  # progress, for a run stopped early
                shown = now
                print(
                    f"{now:.0f}s: listed {listed}, started {status['started']}, "
                    f"workflows {workflows} of {rows}",
                    file=sys.stderr,
                )
            await asyncio.sleep(POLL_SECONDS)
        used = cpu_since(cpu, rows)
    visible = max(seen["done"], seen["listed"])
    return {
        "answered_seconds": answered,
        "done_seconds": seen["done"],
        "listed_seconds": seen["listed"],
        "visible_seconds": visible,
        "workflows_seconds": seen["workflows"],
        "import_cpu_ms_per_row": used["all"] * 1000,
    }


async def measure(
    settings: Settings, rows: int, bare_rows: int, concurrency: int
) -> dict[str, Any]:
    client = await connect_temporal(settings)
    r: dict[str, Any] = {"rows": rows, "bare_rows": bare_rows, "concurrency": concurrency}
    r |= await bare_starts(client, bare_rows, concurrency)
    r |= await run_import(client, settings, rows, uuid.uuid4().hex[:8])
    r["import_rows_per_s"] = rows / r["visible_seconds"]
    r["bare_starts_per_s"] = bare_rows / r["bare_seconds"]
    r["ratio"] = r["import_rows_per_s"] / r["bare_starts_per_s"]
    r["load_after"] = [round(load, 2) for load in os.getloadavg()]
    return {key: r.pop(key) for key in HEADLINE} | r


HEADLINE = ("rows", "import_rows_per_s", "bare_starts_per_s", "ratio")


def print_table(r: dict[str, Any]) -> None:
    rows = r["rows"]
    print(f"\n{rows} rows ({r['bare_rows']} bare starts), concurrency {r['concurrency']}")
    print(f"{'':44}{'seconds':>10}{'per s':>10}")
    for label, key in (
        ("import: POST answered (202)", "answered_seconds"),
        ("import: every deal listed (rows in deals)", "listed_seconds"),
        ("import: GET /imports/{id} done", "done_seconds"),
        ("import: every deal workflow (visibility)", "workflows_seconds"),
    ):
        print(f"{label:44}{r[key]:>10.2f}{rows / r[key]:>10.1f}")
    bare = "bare: start_workflow calls"
    print(f"{bare:44}{r['bare_seconds']:>10.2f}{r['bare_starts_per_s']:>10.1f}")
    print(f"ratio import/bare (done and listed)         {r['ratio']:>10.3f}")
    print(
        f"CPU ms per row: bare start {r['bare_cpu_ms_per_start']:.1f}, "
        f"import {r['import_cpu_ms_per_row']:.1f} (all processes of the stack and this one)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument(
        "--bare-rows", type=int, help="bare starts to time (default: as many as rows)"
    )
    options = parser.parse_args()
    # Real days: no follow-up timer of a deal fires while the benchmark runs.
    stack, settings, loop, stop, serving = start_stack(day_seconds=86_400.0)
    try:
        results = asyncio.run(
            measure(settings, options.rows, options.bare_rows or options.rows, CONCURRENCY)
        )
    finally:
        stop_stack(stack, settings, loop, stop, serving)
    report_and_exit(results, print_table)


if __name__ == "__main__":
    main()
