"""`l2c dev`: the embedded servers, the worker and the API as processes of their own, the
banner, and the note (`.l2c/dev.json`) by which commands in another terminal find them."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.embedded.running import RunningDev, psql_url
from cli import CliError
from config import DEV_SECRET, Settings

if TYPE_CHECKING:
    from stack import Stack


def _banner(settings: Settings, stack: Stack) -> str:
    local = f"http://{settings.api_host}:{settings.api_port}"
    lines = [
        "",
        "l2c is running. Ctrl-C stops everything.",
        f"  Web UI         {local}/ui",
        f"  API docs       {local}/docs",
    ]
    if stack.maildir is not None:
        lines.append(f"  Mail viewer    {local}/ui/mail   (Maildir {stack.maildir}/new/)")
    if stack.temporal is not None or settings.temporal_ui_url:
        lines.append(f"  Temporal UI    {settings.temporal_ui}")
    lines += [
        f"  Temporal       {settings.temporal_address} (namespace {settings.temporal_namespace})",
        f"  Postgres       psql {psql_url(settings.database_url or '')}",
        f"  SMTP           {settings.smtp_host}:{settings.smtp_port}",
        "  Users          rep1 rep2 (sales_rep), manager, finance, ops, admin",
        f"  Password       {settings.dev_password}   (L2C_DEV_PASSWORD)",
        f"  Data           {stack.data_dir}",
        "  Next, in another terminal here: l2c demo, then l2c kpis",
        "",
    ]
    return "\n".join(lines)


def run_dev(settings: Settings) -> int:
    """Start what is not configured (Postgres, Temporal, SMTP), migrate, seed, then run the
    worker and the API as two processes of their own (one per core)."""
    from stack import Stack

    stack = Stack(settings)
    running = RunningDev.read(stack.data_dir)
    if running is not None:
        raise CliError(f"l2c dev already runs in {stack.data_dir} (pid {running.pid})")
    busy = stack.busy_port()
    if busy is not None:
        raise CliError(busy)
    children: list[subprocess.Popen[bytes]] = []
    try:
        settings = stack.start()
        stack.prepare(seed=True)
        env = _child_env(settings, stack)
        children = [_spawn("worker", env), _spawn("api", env)]
        _record(settings, stack).write(stack.data_dir)
        print(_banner(settings, stack), flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        RunningDev.remove(stack.data_dir)
        print("l2c: stopping", flush=True)
        for child in children:
            _stop(child, settings.worker_grace_seconds + 10)
        stack.stop()
    return 0


def _record(settings: Settings, stack: Stack) -> RunningDev:
    return RunningDev(
        pid=os.getpid(),
        api_url=f"http://{settings.api_host}:{settings.api_port}",
        database_url=settings.database_url or "",
        temporal_address=settings.temporal_address or "",
        temporal_ui=settings.temporal_ui,
        maildir=str(stack.maildir) if stack.maildir else None,
        dev_password=settings.dev_password,
    )


def _child_env(settings: Settings, stack: Stack) -> dict[str, str]:
    """Where the started servers are, for `l2c worker` and `l2c api`; a random secret of
    this data folder's own instead of the public dev one (kept, so portal links survive a
    restart)."""
    secret = settings.secret_key
    if secret == DEV_SECRET:
        path = stack.data_dir / "secret"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        secret = path.read_text().strip()
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": settings.database_url or "",
            "TEMPORAL_ADDRESS": settings.temporal_address or "",
            "TEMPORAL_NAMESPACE": settings.temporal_namespace,
            "SMTP_HOST": settings.smtp_host or "",
            "SMTP_PORT": str(settings.smtp_port),
            "L2C_SECRET_KEY": secret,
            "L2C_PUBLIC_URL": settings.base_url,
        }
    )
    if stack.maildir is not None:
        env["L2C_MAILDIR"] = str(stack.maildir)
    return env


def _spawn(command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    from adapters.embedded import die_with_parent

    l2c = Path(sys.executable).parent / "l2c"
    argv = [str(l2c), command] if l2c.exists() else [sys.executable, "-m", "cli", command]
    return subprocess.Popen(argv, env=env, preexec_fn=die_with_parent(), start_new_session=True)


def _stop(child: subprocess.Popen[bytes], timeout: float) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def with_running_dev(settings: Settings) -> Settings:
    """Fill in what is not configured from the `l2c dev` running in this folder."""
    running = RunningDev.read(Path(settings.data_dir).resolve())
    if running is None:
        return settings
    update: dict[str, object] = {}
    if settings.database_url is None:
        update["database_url"] = running.database_url
    if not settings.public_url:
        update["public_url"] = running.api_url
    if "dev_password" not in settings.model_fields_set:
        update["dev_password"] = running.dev_password
    return settings.model_copy(update=update)
