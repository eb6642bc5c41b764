"""`l2c worker` stops cleanly on SIGTERM, and two workers share one task queue so that
killing one mid-run (SIGKILL: no goodbye) loses no deal: the other finishes every one."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from adapters.embedded import free_port
from demo import Demo
from tests.conftest import PASSWORD, Live, wait_for
from tests.e2e.test_l2c_dev import l2c_executable

LINES = [{"sku": "GW-100", "quantity": "4"}, {"sku": "SENSOR-T", "quantity": "5"}]


class Processes:
    """`l2c worker` and `l2c api` processes on a task queue of their own, on live's servers."""

    def __init__(self, live: Live, log: Path) -> None:
        s = live.settings
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("L2C_")} | {
            "DATABASE_URL": s.database_url or "",
            "TEMPORAL_ADDRESS": s.temporal_address or "",
            "SMTP_HOST": s.smtp_host or "",
            "SMTP_PORT": str(s.smtp_port),
            "L2C_TASK_QUEUE": f"two-workers-{uuid.uuid4().hex[:8]}",
            "L2C_API_PORT": str(self.port),
            "L2C_SECRET_KEY": s.secret_key,
            "L2C_WORKER_GRACE_SECONDS": "5",
        }
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, command: str) -> subprocess.Popen[bytes]:
        with open(self.log, "ab") as out:
            process = subprocess.Popen(
                [l2c_executable(), command], env=self.env, stdout=out, stderr=out
            )
        self.started.append(process)
        return process

    def api_up(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def processes(live, tmp_path):
    started = Processes(live, tmp_path / "processes.log")
    yield started
    started.stop_all()


def deal_to_cash(demo: Demo, index: int) -> str:
    owner = ("rep1", "rep2")[index % 2]
    deal = demo.lead(f"Two Workers {index}", owner, "web", budget_confirmed=True)
    demo.quote(deal, owner, LINES, {"kind": "on_delivery"})
    demo.to_signed(deal, owner)
    demo.deliver(deal, "D1", LINES)
    demo.wait(deal, {"COLLECTING"}, timeout=240)
    demo.pay(deal)
    demo.wait(deal, {"WON"}, timeout=240)
    return deal


def identities(live: Live, deal_id: str) -> set[str]:
    """The workers that completed this deal's workflow tasks or started its activities."""
    history = live.run(live.client.get_workflow_handle(f"deal-{deal_id}").fetch_history())
    found = set()
    for event in history.events:
        if event.HasField("workflow_task_completed_event_attributes"):
            found.add(event.workflow_task_completed_event_attributes.identity)
        if event.HasField("activity_task_started_event_attributes"):
            found.add(event.activity_task_started_event_attributes.identity)
    return found


def test_every_deal_finishes_on_the_other_worker_when_one_is_killed(live, processes):
    doomed, survivor = processes.start("worker"), processes.start("worker")
    processes.start("api")
    wait_for(processes.api_up, 180, "l2c api")  # importing the app is slow on a busy machine
    assert live.stack.smtp is not None
    demo = Demo(processes.base_url, PASSWORD, day_seconds=60, mail=live.stack.smtp.path)
    with ThreadPoolExecutor(4) as pool:
        running = [pool.submit(deal_to_cash, demo, i) for i in range(4)]
        wait_for(lambda: len(demo.log) >= 4, 60, "the deals to open")
        doomed.kill()  # SIGKILL, mid-run: its sticky workflows and running activities are lost
        deals = [future.result() for future in running]
    assert doomed.wait(10) == -signal.SIGKILL and survivor.poll() is None
    workers = set().union(*(identities(live, deal) for deal in deals))
    assert any(w.startswith(f"{doomed.pid}@") for w in workers), workers  # it had work
    assert any(w.startswith(f"{survivor.pid}@") for w in workers), workers


def test_a_worker_stops_gracefully_on_sigterm(processes):
    worker = processes.start("worker")
    wait_for(lambda: b"worker on task queue" in processes.log.read_bytes(), 180, "the worker")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0, processes.log.read_text()
    assert "worker stopped" in processes.log.read_text()
