"""The dev stack: the servers l2c runs itself when none is configured, plus worker and API.

`l2c dev` and the test fixtures both use it, so the tests run what users run. `l2c dev`
(`run_dev`) runs the worker and the API as processes of their own, prints the banner, and
leaves a note (`.l2c/dev.json`) by which commands in another terminal find its servers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import uvicorn

from adapters.embedded import die_with_parent, port_free, port_open, wait_until
from adapters.embedded.postgres import EmbeddedPostgres
from adapters.embedded.running import RunningDev, psql_url
from adapters.embedded.smtp_sink import SmtpSink
from adapters.embedded.temporal import TemporalDevServer
from adapters.payload_codec import new_key_setting
from adapters.storage.catalogue import Catalogue
from adapters.storage.db import make_engine, migrate
from adapters.storage.users import UserDirectory
from adapters.temporal import connect_temporal
from api.app import create_app
from cli import CliError
from config import DEV_SECRET, Settings
from domain.catalogue import DEV_PRICE_BOOK
from workflows.search_attributes import FOR_DEV_SERVER

log = logging.getLogger("l2c")


class Stack:
    """Starts what `settings` leaves unconfigured, in order; stops it in reverse."""

    def __init__(
        self, settings: Settings, persist_temporal: bool = True, temporal_ui: bool = True
    ) -> None:
        self.settings = settings
        self.data_dir = Path(settings.data_dir).resolve()
        self.persist_temporal = persist_temporal
        self.temporal_ui = temporal_ui
        self.postgres: EmbeddedPostgres | None = None
        self.temporal: TemporalDevServer | None = None
        self.smtp: SmtpSink | None = None

    def ports(self) -> dict[str, tuple[str, int]]:
        """Where `l2c dev` will listen, by the setting that moves each port."""
        s = self.settings
        wanted = {"L2C_API_PORT": (s.api_host, s.api_port)}
        if s.database_url is None:
            wanted["L2C_POSTGRES_PORT"] = ("127.0.0.1", s.postgres_port)
        if s.temporal_address is None:
            wanted["L2C_TEMPORAL_PORT"] = ("127.0.0.1", s.temporal_port)
            if self.temporal_ui:
                wanted["L2C_TEMPORAL_UI_PORT"] = ("127.0.0.1", s.temporal_ui_port)
        if s.smtp_host is None:
            wanted["SMTP_PORT"] = ("127.0.0.1", s.smtp_port)
        return wanted

    def busy_port(self) -> str | None:
        """Why the stack cannot start here, before anything started: a port in use (else
        its server would answer in place of ours, and l2c would use another stack's data)."""
        for setting, (host, port) in self.ports().items():
            if not port_free(host, port):
                return f"port {port} is in use ({setting}); stop what runs there or set {setting}"
        return None

    @property
    def maildir(self) -> Path | None:
        """The SMTP sink's Maildir, when l2c runs the sink."""
        return self.smtp.path if self.smtp is not None else None

    def start(self) -> Settings:
        """Start the missing servers; the settings that point at all of them."""
        s = self.settings
        self.data_dir.mkdir(parents=True, exist_ok=True)
        update: dict[str, object] = {}
        if s.database_url is None:
            self.postgres = EmbeddedPostgres(self.data_dir / "pg", s.postgres_port).start()
            self.postgres.ensure_database("l2c")
            update["database_url"] = self.postgres.url("l2c")
        if s.temporal_address is None:
            self.temporal = TemporalDevServer(
                port=s.temporal_port,
                ui_port=s.temporal_ui_port if self.temporal_ui else None,
                db_file=self.data_dir / "temporal.db" if self.persist_temporal else None,
                search_attributes=FOR_DEV_SERVER,
                log_path=self.data_dir / "temporal.log",
                namespace=s.temporal_namespace,
                # The UI shows sealed payloads through l2c's codec endpoint (api/routes/codec.py).
                extra_args=["--ui-codec-endpoint", f"{s.base_url}/ui/codec"]
                if self.temporal_ui
                else [],
            ).start()
            update["temporal_address"] = self.temporal.address
        if s.smtp_host is None:
            self.smtp = SmtpSink(self.data_dir / "mail", s.smtp_port).start()
            update |= {"smtp_host": "127.0.0.1", "smtp_port": s.smtp_port}
        self.settings = s.model_copy(update=update)
        return self.settings

    def prepare(self, seed: bool = True) -> None:
        """Migrate the schema; seed the dev users and price book (existing rows are kept)."""
        url = self.settings.database_url
        assert url is not None
        migrate(url, self.settings.audit_secret)
        if seed:
            engine = make_engine(url, pool_size=1, audit_key=self.settings.audit_secret)
            try:
                UserDirectory(engine).seed_dev_users(self.settings.dev_password)
                Catalogue(engine).seed(DEV_PRICE_BOOK)
            finally:
                engine.dispose()

    def stop(self) -> None:
        for server in (self.smtp, self.temporal, self.postgres):
            if server is not None:
                server.stop()


async def serve(
    settings: Settings,
    ready: asyncio.Event | None = None,
    with_api: bool = True,
    with_worker: bool = True,
) -> None:
    """Run the worker and the API in this event loop until the API stops or we are cancelled."""
    from worker import ensure_schedules, make_worker, serve_worker_metrics

    assert settings.database_url is not None
    engine = make_engine(settings.database_url, audit_key=settings.audit_secret)
    client = await connect_temporal(settings, worker=with_worker)
    tasks: list[asyncio.Task[None]] = []
    metrics = serve_worker_metrics(settings, engine) if with_worker else None
    worker, relay = make_worker(client, settings, engine, metrics) if with_worker else (None, None)
    server = (
        uvicorn.Server(
            uvicorn.Config(
                create_app(settings),
                host=settings.api_host,
                port=settings.api_port,
                log_level="warning",
                lifespan="on",
            )
        )
        if with_api
        else None
    )
    try:
        if worker is not None and relay is not None:
            await ensure_schedules(client, settings)
            relay.start()
            tasks.append(asyncio.create_task(worker.run()))
        if server is not None:
            tasks.append(asyncio.create_task(server.serve()))
            while not server.started:
                if tasks[-1].done():
                    tasks[-1].result()  # re-raise why it could not start
                await asyncio.sleep(0.05)
        if ready is not None:
            ready.set()
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if server is not None:
            server.should_exit = True
        if worker is not None:
            await worker.shutdown()
        if relay is not None:
            await asyncio.to_thread(relay.stop)
        await asyncio.gather(*tasks, return_exceptions=True)
        if metrics is not None:
            metrics.stop()
        engine.dispose()


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


def stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM stop everything, even when l2c dev was started with
    SIGINT ignored (a background job of a script inherits that, and Python then keeps it)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)


def run_dev(settings: Settings) -> int:
    """Start what is not configured (Postgres, Temporal, SMTP), migrate, seed, then run the
    worker and the API as two processes of their own (one per core)."""
    stop_on_signals()
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
        wait_until(
            lambda: port_open(settings.api_host, settings.api_port),
            120,
            "l2c api",
            alive=lambda: all(child.poll() is None for child in children),
        )
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
    env["L2C_PAYLOAD_KEYS"] = payload_keys(settings, stack.data_dir)
    env["L2C_CODEC_TRUSTS_LOOPBACK"] = "true"
    return env


def payload_keys(settings: Settings, data_dir: Path) -> str:
    """The payload keys set, or this data folder's own (made once, kept: histories written
    with it must stay readable)."""
    if settings.payload_keys:
        return settings.payload_keys
    path = data_dir / "payload-keys"
    if not path.exists():
        path.write_text(new_key_setting("dev1"))
        path.chmod(0o600)
    return path.read_text().strip()


def _spawn(command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
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
