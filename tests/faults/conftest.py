"""A stack of its own for fault tests: the worker runs as a process we can kill, under a
supervisor that restarts it; Temporal keeps its state in a file, so it can restart too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.embedded import free_port
from adapters.storage.db import make_engine
from config import Settings
from stack import Stack
from tests.conftest import PASSWORD, wait_for


class Supervised:
    """Keeps `l2c worker` running: when it dies (killed by chaos), it is started again."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.restarts = 0
        self._stop = threading.Event()
        self.process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        l2c = str(Path(sys.executable).parent / "l2c")
        with open(self.log, "ab") as out:
            while not self._stop.is_set():
                self.process = subprocess.Popen(
                    [l2c, "worker"], env=self.env, stdout=out, stderr=out
                )
                self.process.wait()
                if not self._stop.is_set():
                    self.restarts += 1

    def stop(self) -> None:
        self._stop.set()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._thread.join(40)


class FaultStack:
    def __init__(self, root: Path, chaos: dict[str, str]) -> None:
        self.root = root
        if "L2C_CHAOS_LEDGER" in chaos:
            chaos = {**chaos, "L2C_CHAOS_LEDGER": str(root / "chaos.ledger")}
        settings = Settings(
            _env_file=None,
            data_dir=root,
            api_port=free_port(),
            postgres_port=free_port(),
            temporal_port=free_port(),
            smtp_port=free_port(),
            task_queue=f"faults-{uuid.uuid4().hex[:6]}",
            secret_key="faults-" + uuid.uuid4().hex,
            dev_password=PASSWORD,
        )
        self.stack = Stack(settings, persist_temporal=True, temporal_ui=False)
        self.settings = self.stack.start()
        self.stack.prepare()
        s = self.settings
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("L2C_")} | {
            "DATABASE_URL": s.database_url or "",
            "TEMPORAL_ADDRESS": s.temporal_address or "",
            "SMTP_HOST": s.smtp_host or "",
            "SMTP_PORT": str(s.smtp_port),
            "L2C_TASK_QUEUE": s.task_queue,
            "L2C_SECRET_KEY": s.secret_key,
            "L2C_API_PORT": str(s.api_port),
            "L2C_DEV_PASSWORD": PASSWORD,
            **chaos,
        }
        self.ledger = Path(chaos.get("L2C_CHAOS_LEDGER", root / "chaos.ledger"))
        self.worker = Supervised(self.env, root / "worker.log")
        api_env = {k: v for k, v in self.env.items() if not k.startswith("L2C_CHAOS")}
        self.api_log = (root / "api.log").open("ab")  # closed in close()
        self.api = subprocess.Popen(
            [str(Path(sys.executable).parent / "l2c"), "api"],
            env=api_env,
            stdout=self.api_log,
            stderr=self.api_log,
        )
        self.base_url = f"http://127.0.0.1:{s.api_port}"
        wait_for(self._healthy, 60, "the fault stack's API")
        self.engine = make_engine(s.database_url or "", pool_size=2, audit_key=s.audit_secret)

    def _show_tracebacks(self) -> None:
        """Print the last tracebacks of the API and the worker (shown by pytest only when
        the test failed): a 500 in a chaos run is otherwise a mystery."""
        for name in ("api.log", "worker.log"):
            log = (self.root / name).read_text(errors="replace")
            at = log.rfind("Traceback")
            if at >= 0:
                print(f"--- last traceback in {name} ---\n{log[max(0, at - 2000) : at + 6000]}")

    def _healthy(self) -> bool:
        assert self.api.poll() is None, (self.root / "api.log").read_text()
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def client(self, user: str | None) -> httpx.Client:
        client = httpx.Client(base_url=self.base_url, timeout=180)
        if user:
            token = client.post("/auth/token", data={"username": user, "password": PASSWORD})
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        return client

    def close(self) -> None:
        self._show_tracebacks()
        self.worker.stop()
        self.api.send_signal(signal.SIGINT)
        try:
            self.api.wait(30)
        except subprocess.TimeoutExpired:
            self.api.kill()
        self.api_log.close()
        self.engine.dispose()
        self.stack.stop()


@pytest.fixture
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[type[FaultStack]]:
    made: list[FaultStack] = []

    def make(chaos: dict[str, str]) -> FaultStack:
        stack = FaultStack(tmp_path_factory.mktemp("faults"), chaos)
        made.append(stack)
        return stack

    yield make  # type: ignore[misc]
    for stack in made:
        stack.close()
