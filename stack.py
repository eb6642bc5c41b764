"""The dev stack: the servers l2c runs itself when none is configured, plus worker and API.

`l2c dev` and the test fixtures both use it, so the tests run what users run.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import uvicorn

from adapters.embedded.postgres import EmbeddedPostgres
from adapters.embedded.smtp_sink import SmtpSink
from adapters.embedded.temporal import TemporalDevServer
from adapters.storage.catalogue import Catalogue
from adapters.storage.db import make_engine, migrate
from adapters.storage.users import UserDirectory
from adapters.temporal import connect_temporal
from api.app import create_app
from config import Settings
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
            engine = make_engine(url, pool_size=1)
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
    from worker import make_worker

    assert settings.database_url is not None
    engine = make_engine(settings.database_url, audit_key=settings.audit_secret)
    client = await connect_temporal(settings)
    tasks: list[asyncio.Task[None]] = []
    worker, relay = make_worker(client, settings, engine) if with_worker else (None, None)
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
        engine.dispose()
