"""Benchmark: deals per second from lead to WON over the HTTP API, against a bare Temporal
workflow taking the same number of Updates, on the same Temporal server in the same run.

It starts its own stack in a temp dir (embedded Postgres, Temporal dev server, SMTP sink,
worker, API) with a short policy day, then:
  1. l2c: drives N deals at concurrency C as the clients would, each step chosen by the stage
     the server shows (rep: lead, qualify, quote; manager: approve; customer: accept and sign
     through the e-mailed portal links; ops: deliver; finance: pay), until GET shows WON;
  2. bare: N workflows at concurrency C taking as many Updates as a deal got, then again with
     as many no-op activities as a deal ran (bench/throughput_bare.py);
and prints deals/s and their ratio, history events and activities per deal (deal workflow,
and with its children), API latency percentiles by call, payment -> WON visible latency,
and CPU seconds per deal over this process and the servers it started. The last line is JSON.

Run by hand:  python bench/throughput.py --deals 40 --concurrency 10 [--day-seconds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import httpx
import psutil
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from throughput_bare import BareRun
from throughput_l2c import POLL_SECONDS, L2cRun, MailSink

from adapters.embedded import free_port
from adapters.temporal import connect_temporal
from config import Settings
from stack import Stack, serve
from workflows.ids import deal_workflow_id

PASSWORD = "bench-password"


LOCAL_ACTIVITY = "core_local_activity"  # the marker a local activity leaves in history


async def history_of(client: Client, deal_ids: list[str]) -> dict[str, float]:
    """Per deal: events, activities scheduled, updates accepted, timers fired, of the deal
    workflow alone and with its children."""
    counted = {"events", "activities", "local_activities", "updates", "timers_fired"}
    totals = {f"{scope}_{name}": 0.0 for scope in ("deal", "all") for name in counted}
    kinds = {
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activities",
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "updates",
        EventType.EVENT_TYPE_TIMER_FIRED: "timers_fired",
    }
    for deal_id in deal_ids:
        pending, first = [deal_workflow_id(deal_id)], True
        while pending:
            history = await client.get_workflow_handle(pending.pop()).fetch_history()
            scopes = ("deal", "all") if first else ("all",)
            first = False
            for event in history.events:
                for scope in scopes:
                    totals[f"{scope}_events"] += 1
                    if event.event_type in kinds:
                        totals[f"{scope}_{kinds[event.event_type]}"] += 1
                    if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED and (
                        event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY
                    ):
                        totals[f"{scope}_local_activities"] += 1
                if (
                    event.event_type
                    == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
                ):
                    pending.append(
                        event.start_child_workflow_execution_initiated_event_attributes.workflow_id
                    )
    return {name: value / max(1, len(deal_ids)) for name, value in totals.items()}


async def wait_closed(client: Client, deal_ids: list[str], timeout: float = 60) -> int:
    """Wait for the deal workflows to finish their last effects; how many did not."""
    open_ = 0
    for deal_id in deal_ids:
        try:
            await asyncio.wait_for(
                client.get_workflow_handle(deal_workflow_id(deal_id)).result(), timeout
            )
        except TimeoutError:
            open_ += 1
    return open_


def cpu_seconds() -> dict[str, float]:
    """CPU time so far, by process name, of this process (API, worker and the bench's
    clients) and every process under it (Postgres, Temporal), exited children included."""
    me = psutil.Process()
    used: dict[str, float] = defaultdict(float)
    for process in [me, *me.children(recursive=True)]:
        try:
            name = "bench process" if process.pid == me.pid else process.name()
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        used[name] += times.user + times.system + times.children_user + times.children_system
    return used


def cpu_since(before: dict[str, float], per: int) -> dict[str, float]:
    """CPU seconds per deal used since `before`, by process name, and "all"."""
    now = cpu_seconds()
    used = {name: (now[name] - before.get(name, 0.0)) / per for name in now}
    return used | {"all": sum(used.values())}


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99)}


async def serve_until(settings: Settings, stop: asyncio.Event) -> None:
    """The worker and the API until `stop` is set; then shut them down cleanly."""
    serving = asyncio.create_task(serve(settings))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait([serving, stopping], return_when=asyncio.FIRST_COMPLETED)
    serving.cancel()
    stopping.cancel()
    await asyncio.gather(serving, stopping, return_exceptions=True)


def start_stack(
    day_seconds: float,
) -> tuple[Stack, Settings, asyncio.AbstractEventLoop, asyncio.Event, Future[None]]:
    """The real stack in a temp dir; worker and API on an event loop in a thread."""
    api_port = free_port()
    settings = Settings(
        _env_file=None,
        data_dir=Path(tempfile.mkdtemp(prefix="l2c-throughput-")),
        api_port=api_port,
        postgres_port=free_port(),
        temporal_port=free_port(),
        smtp_port=free_port(),
        secret_key="bench-" + uuid.uuid4().hex + uuid.uuid4().hex,
        dev_password=PASSWORD,
        day_seconds=day_seconds,
        public_url=f"http://127.0.0.1:{api_port}",
    )
    stack = Stack(settings, persist_temporal=False, temporal_ui=False)
    settings = stack.start()
    stack.prepare()
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    stop = asyncio.Event()
    serving = asyncio.run_coroutine_threadsafe(serve_until(settings, stop), loop)
    for _ in range(600):
        if serving.done():
            serving.result()  # why it could not start
        try:
            if httpx.get(f"{settings.base_url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return stack, settings, loop, stop, serving


async def measure_l2c(
    client: Client, settings: Settings, stack: Stack, deals: int, concurrency: int
) -> dict[str, Any]:
    """Phase 1: deals from lead to WON over HTTP; their histories; CPU until they closed."""
    assert stack.smtp is not None
    l2c = L2cRun(settings.base_url, settings.dev_password, MailSink(stack.smtp.path))
    await l2c.log_in()
    cpu = cpu_seconds()
    seconds = await l2c.run(deals, concurrency)
    won_ids = [deal.deal_id for deal in l2c.won]
    still_open = await wait_closed(client, won_ids)
    cpu_used = cpu_since(cpu, max(1, len(won_ids)))
    await l2c.close()
    history = await history_of(client, won_ids)
    gets = l2c.gets_to_won
    return {
        "won": len(won_ids),
        "failed": len(l2c.failed),
        "deal_workflows_still_open": still_open,
        "l2c_seconds": seconds,
        "l2c_deals_per_s": len(won_ids) / seconds,
        "cpu_s_per_deal": cpu_used["all"],
        "cpu_s_per_deal_by_process": cpu_used,
        "updates_per_deal": round(sum(deal.updates for deal in l2c.won) / max(1, len(won_ids))),
        "events_per_deal": history["all_events"],
        "deal_events_per_deal": history["deal_events"],
        "activities_per_deal": history["all_activities"],
        "deal_activities_per_deal": history["deal_activities"],
        "local_activities_per_deal": history["all_local_activities"],
        "deal_local_activities_per_deal": history["deal_local_activities"],
        "updates_accepted_per_deal": history["all_updates"],
        "timers_fired_per_deal": history["all_timers_fired"],
        "payment_to_won": percentiles(l2c.payment_to_won)
        | {"gets_mean": sum(gets) / max(1, len(gets)), "gets_max": max(gets, default=0)},
        "latency": dict(l2c.latency),
        "failures": l2c.failed[:5],
    }


async def measure_bare(
    client: Client,
    name: str,
    updates: int,
    activities: int,
    local_activities: int,
    deals: int,
    concurrency: int,
) -> dict[str, Any]:
    """Phase 2: bare workflows with as many Updates (and as many no-op activities and local
    activities as a deal ran)."""
    bare = BareRun(client, updates, activities, local_activities)
    cpu = cpu_seconds()
    seconds = await bare.run(deals, concurrency)
    cpu_used = cpu_since(cpu, deals)
    return {
        f"{name}_seconds": seconds,
        f"{name}_deals_per_s": deals / seconds,
        f"{name}_cpu_s_per_deal": cpu_used["all"],
        f"{name}_cpu_s_per_deal_by_process": cpu_used,
        f"{name}_round_trips": bare.round_trips,
    }


async def measure(settings: Settings, stack: Stack, deals: int, concurrency: int) -> dict[str, Any]:
    """Both phases on the same Temporal server; every number, latencies as percentiles."""
    client = await connect_temporal(settings)
    r: dict[str, Any] = {
        "deals": deals,
        "concurrency": concurrency,
        "day_seconds": settings.day_seconds,
    }
    r |= await measure_l2c(client, settings, stack, deals, concurrency)
    r["bare_activities_per_deal"] = round(r["activities_per_deal"])
    r["bare_local_activities_per_deal"] = round(r["local_activities_per_deal"])
    r |= await measure_bare(client, "bare", r["updates_per_deal"], 0, 0, deals, concurrency)
    r |= await measure_bare(
        client,
        "bare_activities",
        r["updates_per_deal"],
        r["bare_activities_per_deal"],
        r["bare_local_activities_per_deal"],
        deals,
        concurrency,
    )
    # The same round trips with every local activity a regular one: what local buys.
    r |= await measure_bare(
        client,
        "bare_regular",
        r["updates_per_deal"],
        r["bare_activities_per_deal"] + r["bare_local_activities_per_deal"],
        0,
        deals,
        concurrency,
    )
    r["ratio"] = r["l2c_deals_per_s"] / r["bare_deals_per_s"]
    r["ratio_with_activities"] = r["l2c_deals_per_s"] / r["bare_activities_deals_per_s"]
    calls = r.pop("latency") | {
        "bare update": r.pop("bare_round_trips"),
        "bare+activities update": r.pop("bare_activities_round_trips"),
        "bare+regular update": r.pop("bare_regular_round_trips"),
    }
    r["calls"] = {kind: len(values) for kind, values in calls.items()}
    for p in ("p50", "p95", "p99"):
        r[p] = {kind: round(percentiles(values)[p], 4) for kind, values in calls.items()}
    return r


def print_table(r: dict[str, Any]) -> None:
    def row(label: str, *cells: str) -> None:
        print(f"{label:28}" + "".join(f"{cell:>12}" for cell in cells))

    print(f"\n{r['won']}/{r['deals']} deals WON, concurrency {r['concurrency']}, ", end="")
    print(f"policy day {r['day_seconds']} s, {r['updates_per_deal']} Updates per deal")
    row("", "l2c", "bare", "bare+act", "bare+reg")
    row(
        "deals/s",
        *(
            f"{r[f'{run}deals_per_s']:.2f}"
            for run in ("l2c_", "bare_", "bare_activities_", "bare_regular_")
        ),
    )
    row(
        "CPU s/deal (all processes)",
        *(
            f"{r[f'{run}cpu_s_per_deal']:.3f}"
            for run in ("", "bare_", "bare_activities_", "bare_regular_")
        ),
    )
    for process in sorted(r["cpu_s_per_deal_by_process"]):
        if process != "all":
            runs = ("", "bare_", "bare_activities_", "bare_regular_")
            cells = (r[f"{run}cpu_s_per_deal_by_process"].get(process, 0.0) for run in runs)
            row(f"  of which {process}", *(f"{cell:.3f}" for cell in cells))
    row(
        "activities/deal",
        f"{r['activities_per_deal']:.1f}",
        "0",
        str(r["bare_activities_per_deal"]),
        str(r["bare_activities_per_deal"] + r["bare_local_activities_per_deal"]),
    )
    row(
        "local activities/deal",
        f"{r['local_activities_per_deal']:.1f}",
        "0",
        str(r["bare_local_activities_per_deal"]),
        "0",
    )
    row("ratio l2c/bare", "", f"{r['ratio']:.3f}", f"{r['ratio_with_activities']:.3f}")
    print("\nper deal (from the histories)      deal workflow   with children")
    row("history events", f"{r['deal_events_per_deal']:.1f}", f"{r['events_per_deal']:.1f}")
    row(
        "activities scheduled",
        f"{r['deal_activities_per_deal']:.1f}",
        f"{r['activities_per_deal']:.1f}",
    )
    row(
        "local activities",
        f"{r['deal_local_activities_per_deal']:.1f}",
        f"{r['local_activities_per_deal']:.1f}",
    )
    row("updates accepted", "", f"{r['updates_accepted_per_deal']:.1f}")
    row("timers fired", "", f"{r['timers_fired_per_deal']:.1f}")
    print(f"\n{'latency (ms)':28}{'n':>6}{'p50':>8}{'p95':>8}{'p99':>8}")
    for kind, n in r["calls"].items():
        print(
            f"{kind:28}{n:>6}"
            + "".join(f"{r[p][kind] * 1000:>8.0f}" for p in ("p50", "p95", "p99"))
        )
    won = r["payment_to_won"]
    print(
        f"{'payment answered -> WON':28}{r['won']:>6}"
        + "".join(f"{won[p] * 1000:>8.0f}" for p in ("p50", "p95", "p99"))
    )
    print(
        f"  GETs until WON shown: mean {won['gets_mean']:.1f}, max {won['gets_max']} "
        f"(one every {POLL_SECONDS} s)"
    )
    for failure in r["failures"]:
        print("failed:", failure)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deals", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--day-seconds", type=float, default=1.0, help="length of a policy day")
    options = parser.parse_args()
    stack, settings, loop, stop, serving = start_stack(options.day_seconds)
    try:
        results = asyncio.run(measure(settings, stack, options.deals, options.concurrency))
    finally:
        stop_stack(stack, settings, loop, stop, serving)
    report_and_exit(results, print_table)


def stop_stack(stack: Any, settings: Any, loop: Any, stop: Any, serving: Any) -> None:
    """Stop what `start_stack` started and remove its data."""
    loop.call_soon_threadsafe(stop.set)
    serving.result(60)
    loop.call_soon_threadsafe(loop.stop)
    stack.stop()
    shutil.rmtree(settings.data_dir, ignore_errors=True)


def report_and_exit(results: dict[str, Any], table: Any) -> None:
    """The table, then the results as the last line (JSON), then exit at once."""
    table(results)
    print(json.dumps(results, default=str))
    sys.stdout.flush()
    os._exit(0)  # temporalio/sdk-python#300: a process that used a client may abort at exit


if __name__ == "__main__":
    main()
