"""`l2c dev` as a user runs it: from an empty folder, Ctrl-C, and again with the same data."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from adapters.embedded import free_port, port_open
from tests.conftest import wait_for


def l2c_executable() -> str:
    found = Path(sys.executable).parent / "l2c"
    assert found.exists(), "install the project first: pip install -e '.[test]'"
    return str(found)


@pytest.fixture
def dev_env(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS", "SMTP_HOST", "SMTP_PORT")
        and not k.startswith("L2C_")
    }
    ports = {
        "L2C_API_PORT": free_port(),
        "L2C_POSTGRES_PORT": free_port(),
        "L2C_TEMPORAL_PORT": free_port(),
        "L2C_TEMPORAL_UI_PORT": free_port(),
        "SMTP_PORT": free_port(),
    }
    env.update({k: str(v) for k, v in ports.items()})
    env["L2C_DEV_PASSWORD"] = "dev-test-password"
    return tmp_path, env, ports


def start(folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [l2c_executable(), "dev"],
        cwd=folder,
        env=env,
        stdout=open(folder / "dev.log", "ab"),
        stderr=subprocess.STDOUT,
    )


def healthy(process: subprocess.Popen[bytes], api: str, folder: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError((folder / "dev.log").read_text())
    try:
        return httpx.get(f"{api}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(60)


def login(api: str) -> dict[str, str]:
    token = httpx.post(
        f"{api}/auth/token", data={"username": "rep1", "password": "dev-test-password"}
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def mail_viewer(api: str) -> str:
    with httpx.Client(base_url=api) as browser:
        form = re.search(r'name="login_csrf" value="([^"]+)"', browser.get("/ui/login").text)
        assert form is not None  # the login form's own CSRF token
        login = {"username": "rep1", "password": "dev-test-password", "login_csrf": form.group(1)}
        assert browser.post("/ui/login", data=login, follow_redirects=True).status_code == 200
        page = browser.get("/ui/mail")
    assert page.status_code == 200, page.text
    return page.text


def says_where_everything_is(folder: Path, ports: dict[str, int]) -> None:
    banner = (folder / "dev.log").read_text()
    api = f"http://127.0.0.1:{ports['L2C_API_PORT']}"
    for shown in (
        f"{api}/ui\n",
        f"{api}/docs",
        f"{api}/ui/mail",
        f"http://127.0.0.1:{ports['L2C_TEMPORAL_UI_PORT']}",
        f"psql postgresql://postgres@127.0.0.1:{ports['L2C_POSTGRES_PORT']}/l2c",
        "rep1 rep2",
        "dev-test-password",
    ):
        assert shown in banner, shown
    assert "alembic.runtime.plugins" not in banner


def a_second_terminal_finds_it(folder: Path, env: dict[str, str]) -> None:
    """`l2c kpis` in the same folder, nothing configured: it reads .l2c/dev.json."""
    assert (folder / ".l2c" / "dev.json").exists()
    kpis = subprocess.run(
        [l2c_executable(), "kpis"], cwd=folder, env=env, capture_output=True, text=True
    )
    assert kpis.returncode == 0, kpis.stderr
    assert "leads created" in kpis.stdout


def a_second_l2c_dev_is_refused(folder: Path, env: dict[str, str], api_port: int) -> None:
    """At once, saying which port and which setting; nothing of the first stack is touched."""
    folder.mkdir()
    second = subprocess.run(
        [l2c_executable(), "dev"], cwd=folder, env=env, capture_output=True, text=True, timeout=30
    )
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        f"l2c dev: port {api_port} is in use (L2C_API_PORT); "
        "stop what runs there or set L2C_API_PORT"
    ]


def test_l2c_dev_runs_the_whole_stack_and_keeps_its_data(dev_env):
    folder, env, ports = dev_env
    api = f"http://127.0.0.1:{ports['L2C_API_PORT']}"
    process = start(folder, env)
    try:
        wait_for(lambda: healthy(process, api, folder), 120, "l2c dev to be healthy")
        lead = {
            "company": "Dev Run AG",
            "contact_name": "Grace",
            "source": "referral",
            "email": "grace@devrun.example",
        }
        created = httpx.post(f"{api}/leads", json=lead, headers=login(api))
        assert created.status_code == 201, created.text
        workflow_id = created.json()["workflow_id"]

        # The Temporal UI answers, and the deal is found there by its stage.
        ui = httpx.get(f"http://127.0.0.1:{ports['L2C_TEMPORAL_UI_PORT']}/", timeout=10)
        assert ui.status_code == 200
        temporal = str(Path(sys.executable).parent / "temporal")
        listed = subprocess.run(
            [
                temporal,
                "workflow",
                "list",
                "--address",
                f"127.0.0.1:{ports['L2C_TEMPORAL_PORT']}",
                "--query",
                "DealStage='QUALIFYING'",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert workflow_id in listed.stdout

        # The owner's e-mail landed in the Maildir, and shows in the mail viewer.
        mail = folder / ".l2c" / "mail" / "new"
        wait_for(lambda: mail.exists() and any(mail.iterdir()), 30, "the lead e-mail")
        assert "Dev Run AG" in next(mail.iterdir()).read_text()
        assert "Dev Run AG" in mail_viewer(api)

        says_where_everything_is(folder, ports)
        a_second_terminal_finds_it(folder, env)
        a_second_l2c_dev_is_refused(folder / "elsewhere", env, ports["L2C_API_PORT"])
    finally:
        code = stop(process)
    assert code == 0
    assert not (folder / ".l2c" / "dev.json").exists()
    for name in ("L2C_API_PORT", "L2C_POSTGRES_PORT", "L2C_TEMPORAL_PORT", "SMTP_PORT"):
        assert not port_open("127.0.0.1", ports[name]), f"{name} still open after Ctrl-C"

    # A second run reuses the data: the deal is still there and its workflow still runs.
    process = start(folder, env)
    try:
        wait_for(lambda: healthy(process, api, folder), 120, "the second l2c dev")
        deals = httpx.get(f"{api}/deals", headers=login(api)).json()["items"]
        assert [f"deal-{d['deal_id']}" for d in deals] == [workflow_id]
        qualified = httpx.post(
            f"{api}/deals/{deals[0]['deal_id']}/qualify",
            json={"decision": "qualify"},
            headers=login(api),
        )
        assert qualified.json()["stage"] == "QUOTING"
    finally:
        assert stop(process) == 0
