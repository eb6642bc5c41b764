"""The README, as a new user follows it: a fresh virtualenv (no system site-packages, no test
extra), `pip install -e '.[dev]'`, `l2c dev`, its curl example, then `l2c demo` and `l2c kpis`
in a second terminal that is told nothing.

It installs into a new venv (about a minute from the local package index here), so it also
catches a runtime import that only the test extra happens to provide.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import wait_for
from tests.e2e.test_l2c_dev import dev_env, healthy, stop  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parents[2]


def fresh_venv(where: Path) -> Path:
    """`python -m venv` + `pip install -e '.[dev]'`: the README's first command, minus `l2c dev`."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(where)], check=True, timeout=120)
    subprocess.run(
        [str(where / "bin" / "pip"), "install", "-q", "-e", f"{ROOT}[dev]"],
        check=True,
        timeout=600,
        capture_output=True,
    )
    return where / "bin"


@pytest.mark.timeout(900)
def test_the_readme_commands_work_in_a_fresh_virtualenv(dev_env, tmp_path_factory):  # noqa: F811
    folder, env, ports = dev_env
    bin_dir = fresh_venv(tmp_path_factory.mktemp("venv") / "venv")
    env = env | {"PATH": f"{bin_dir}:{env.get('PATH', '')}", "VIRTUAL_ENV": str(bin_dir.parent)}
    env.pop("L2C_DEV_PASSWORD")  # the README's password
    api = f"http://127.0.0.1:{ports['L2C_API_PORT']}"
    with open(folder / "dev.log", "ab") as log:
        dev = subprocess.Popen(
            [str(bin_dir / "l2c"), "dev"], cwd=folder, env=env, stdout=log, stderr=log
        )
    try:
        wait_for(lambda: healthy(dev, api, folder), 120, "l2c dev")
        # "Try a deal": the README's two curl commands.
        token = httpx.post(f"{api}/auth/token", data={"username": "rep1", "password": "l2c-dev"})
        lead = {"company": "Acme GmbH", "contact_name": "Ada", "email": "ada@acme.example"}
        created = httpx.post(
            f"{api}/leads",
            json=lead | {"source": "web"},
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        assert created.status_code == 201, created.text
        # The second terminal: same folder, nothing configured.
        second = {k: v for k, v in env.items() if not k.startswith(("L2C_", "SMTP_"))}
        for command in (["l2c", "demo"], ["l2c", "kpis"]):
            done = subprocess.run(
                command, cwd=folder, env=second, capture_output=True, text=True, timeout=600
            )
            assert done.returncode == 0, done.stderr
        assert "leads created" in done.stdout
        assert int(done.stdout.split("leads created", 1)[1].split()[0]) >= 11
    finally:
        assert stop(dev) == 0, (folder / "dev.log").read_text()
