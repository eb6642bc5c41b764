"""The `l2c` command as a new user meets it: a version, and refusals in one line each, with
an exit status, instead of tracebacks."""

from __future__ import annotations

import os
import subprocess

import pytest

from adapters.embedded import free_port
from tests.e2e.test_l2c_dev import l2c_executable


def l2c(*args: str, cwd: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("L2C_") and k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")
    }
    return subprocess.run(
        [l2c_executable(), *args],
        env=clean | env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version(tmp_path):
    done = l2c("--version", cwd=str(tmp_path))
    assert done.returncode == 0
    assert done.stdout.startswith("l2c 0.")


NOWHERE = f"postgresql://postgres@127.0.0.1:{free_port()}/l2c"


@pytest.mark.parametrize(
    ("args", "env", "code", "says"),
    [
        (["kpis"], {}, 2, "l2c kpis: DATABASE_URL is not set"),
        (["kpis", "--from", "last week"], {"DATABASE_URL": NOWHERE}, 2, "is not a date"),
        (["kpis"], {"DATABASE_URL": NOWHERE}, 1, "cannot reach the database (DATABASE_URL)"),
        (["demo", "--url", f"http://127.0.0.1:{free_port()}"], {}, 1, "is `l2c dev` running?"),
        (["worker"], {"DATABASE_URL": NOWHERE}, 2, "L2C_SECRET_KEY must be set"),
        (["api"], {"L2C_SECRET_KEY": "x" * 40}, 2, "l2c api: DATABASE_URL is not set"),
        (["users", "add", "bob", "--role", "admin", "--email", "b@x.example"], {}, 2, "DATABASE"),
    ],
)
def test_a_refusal_is_one_line_with_an_exit_status(tmp_path, args, env, code, says):
    done = l2c(*args, cwd=str(tmp_path), **env)
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # no traceback, no alembic chatter
    assert says in lines[0]
