"""The real services, once per test session: Postgres, the Temporal dev server, an SMTP
sink, the worker and the API, on free ports (so the tests run beside a running `l2c dev`)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from google.protobuf.message import Message
from sqlalchemy import Engine
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from adapters.embedded import free_port
from adapters.payload_codec import EncryptionCodec, new_key_setting, parse_keys
from adapters.storage.db import make_engine
from adapters.temporal import connect_temporal
from config import Settings
from stack import Stack, serve

T = TypeVar("T")
PASSWORD = "l2c-test-password"


def body_of(message: EmailMessage) -> str:
    """The plain-text body of a message, attachments or not."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def wait_for(check: Callable[[], T], timeout: float = 30, what: str = "condition") -> T:
    """Poll until `check` returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def run_alone(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: another test may hold a loop in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class LoopThread:
    """An event loop in a thread: the worker, the API and Temporal clients live there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return self.submit(coro).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class Live:
    """Everything a test needs to drive and inspect the running stack."""

    def __init__(
        self, settings: Settings, stack: Stack, loop: LoopThread, engine: Engine, client: Client
    ) -> None:
        self.settings, self.stack, self.loop = settings, stack, loop
        self.engine, self.client = engine, client
        self.base_url = f"http://{settings.api_host}:{settings.api_port}"

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return self.loop.run(coro, timeout)

    def mail(self) -> list[EmailMessage]:
        assert self.stack.smtp is not None
        return self.stack.smtp.messages()

    def mail_to(self, address: str, subject_has: str = "") -> list[EmailMessage]:
        return [
            m for m in self.mail() if address in str(m["To"]) and subject_has in str(m["Subject"])
        ]


def test_settings(root: Path) -> Settings:
    api_port = free_port()
    return Settings(
        _env_file=None,
        data_dir=root,
        api_port=api_port,
        postgres_port=free_port(),
        temporal_port=free_port(),
        smtp_port=free_port(),
        task_queue=f"l2c-test-{uuid.uuid4().hex[:8]}",
        secret_key="test-secret-" + uuid.uuid4().hex,
        dev_password=PASSWORD,
        day_seconds=3600,
        public_url=f"http://127.0.0.1:{api_port}",
        payload_keys=new_key_setting("test1"),
        # Webhooks to a receiver in the test, retried within seconds (docs/webhooks.md).
        webhook_allow_loopback_http=True,
        webhook_retry_initial_seconds=0.2,
        webhook_retry_max_interval_seconds=1,
        webhook_retry_max_attempts=4,
        worker_metrics_port=free_port(),
        temporal_metrics_port=free_port(),
        metrics_host="127.0.0.1",
    )


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    stack = Stack(
        test_settings(tmp_path_factory.mktemp("l2c")), persist_temporal=False, temporal_ui=False
    )
    loop = LoopThread()
    try:
        settings = stack.start()
        stack.prepare()
        serving = loop.submit(serve(settings))
        client = loop.run(connect_temporal(settings))
        engine = make_engine(settings.database_url or "", audit_key=settings.audit_secret)
        live = Live(settings, stack, loop, engine, client)

        def api_up() -> bool:
            if serving.done():
                serving.result()
            try:
                return httpx.get(f"{live.base_url}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(api_up, 60, "the API")
        yield live
        serving.cancel()
        wait_for(serving.done, 30, "the worker and API to stop")
        engine.dispose()
    finally:
        loop.stop()
        stack.stop()


class Api:
    """An HTTP client logged in as one user."""

    def __init__(self, live: Live, username: str | None) -> None:
        self.live = live
        self.username = username
        self.http = httpx.Client(base_url=live.base_url, timeout=60)
        if username is not None:
            token = self.http.post("/auth/token", data={"username": username, "password": PASSWORD})
            assert token.status_code == 200, token.text
            self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(path, **kw)

    def every(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        """Every item of a paged list (`{items, next_cursor}`), walking its pages in order;
        a `limit` asked for is left out (the largest page is read)."""
        url = httpx.URL(path)
        asked = {k: v for k, v in {**dict(url.params), **(params or {})}.items() if k != "limit"}
        items: list[Any] = []
        cursor: str | None = None
        while True:
            paging: dict[str, Any] = {"limit": 200}
            if cursor is not None:
                paging["cursor"] = cursor
            answer = self.http.get(url.copy_with(query=None), params={**asked, **paging})
            assert answer.status_code == 200, answer.text
            page = answer.json()
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.put(path, **kw)


@pytest.fixture(scope="session")
def as_user(live: Live) -> Callable[[str | None], Api]:
    cache: dict[str | None, Api] = {}

    def login(username: str | None) -> Api:
        if username not in cache:
            cache[username] = Api(live, username)
        return cache[username]

    return login


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT] = int(exitstatus)


_EXIT = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # temporalio/sdk-python#300: a process that used a Temporal client may abort at exit
    # after all its work is done. Leave with pytest's own status before that can happen.
    if _EXIT in config.stash and os.environ.get("L2C_PYTEST_SOFT_EXIT") != "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(config.stash[_EXIT])


HISTORIES = Path(__file__).parent / "histories"


def unseal(codec: EncryptionCodec, message: Any) -> None:
    """Open every sealed payload in a history's messages, in place."""
    if isinstance(message, Payload):
        message.CopyFrom(codec.open(message))
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if isinstance(value, Message):
            unseal(codec, value)
        else:  # a repeated field, or a map whose values may be messages
            items = value.values() if hasattr(value, "values") else value
            for item in items:
                if isinstance(item, Message):
                    unseal(codec, item)


@pytest.fixture
def keep_history(live: Live) -> Callable[[str, str], None]:
    """Record a finished workflow's history for the replay tests (L2C_RECORD_HISTORIES=1)."""

    def keep(workflow_id: str, name: str) -> None:
        if os.environ.get("L2C_RECORD_HISTORIES") != "1":
            return
        handle = live.client.get_workflow_handle(workflow_id)
        history = live.run(handle.fetch_history())
        if live.settings.payload_keys:  # replay tests have no key: keep the payloads open
            for event in history.events:
                unseal(EncryptionCodec(parse_keys(live.settings.payload_keys)), event)
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())

    return keep


@pytest.fixture
def fresh_engine(live: Live) -> Iterator[Engine]:
    """An empty, migrated database of its own on the session's Postgres."""
    from sqlalchemy import create_engine, text

    from adapters.storage.db import migrate

    name = f"t_{uuid.uuid4().hex[:10]}"
    base = live.settings.database_url or ""
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    migrate(url)
    engine = make_engine(url, pool_size=2, audit_key=live.settings.audit_secret)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
