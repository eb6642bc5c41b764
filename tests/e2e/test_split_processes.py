"""`l2c api` and `l2c worker` as separate processes against configured servers."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid

import httpx

from adapters.embedded import free_port
from tests.conftest import PASSWORD, wait_for
from tests.e2e.test_l2c_dev import l2c_executable
from tests.flows import lead_body


def test_api_and_worker_processes_serve_a_deal_together(live, tmp_path):
    s = live.settings
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("L2C_")}
    env.update(
        {
            "DATABASE_URL": s.database_url or "",
            "TEMPORAL_ADDRESS": s.temporal_address or "",
            "SMTP_HOST": s.smtp_host or "",
            "SMTP_PORT": str(s.smtp_port),
            "L2C_TASK_QUEUE": f"split-{uuid.uuid4().hex[:8]}",
            "L2C_API_PORT": str(port),
            "L2C_SECRET_KEY": s.secret_key,
        }
    )
    with open(tmp_path / "processes.log", "ab") as log:
        worker = subprocess.Popen([l2c_executable(), "worker"], env=env, stdout=log, stderr=log)
        api = subprocess.Popen([l2c_executable(), "api"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert api.poll() is None and worker.poll() is None, (
            tmp_path / "processes.log"
        ).read_text()
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(up, 60, "l2c api")
        token = httpx.post(f"{base}/auth/token", data={"username": "rep1", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        # Only the separate worker polls this task queue: the deal opens because it runs.
        created = httpx.post(f"{base}/leads", json=lead_body(), headers=headers, timeout=60)
        assert created.status_code == 201, created.text
        assert created.json()["customer"]["customer_id"].startswith("cus_")
    finally:
        for process in (api, worker):
            process.send_signal(signal.SIGINT)
        codes = [api.wait(30), worker.wait(30)]
    assert codes == [0, 0], (tmp_path / "processes.log").read_text()
