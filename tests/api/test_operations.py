"""Health and failure of the database: 503 with Retry-After, quickly, never a 500."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import text

from adapters.embedded import free_port
from adapters.storage.users import User
from api.app import create_app
from api.auth import issue_token
from domain.users import Role


def api_on(live, database_url: str) -> TestClient:
    settings = live.settings.model_copy(update={"database_url": database_url})
    return TestClient(create_app(settings), raise_server_exceptions=False)


def test_health_is_503_while_the_database_refuses_writes(live, fresh_engine):
    name = fresh_engine.url.database
    with fresh_engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    url = fresh_engine.url.render_as_string(hide_password=False)
    with api_on(live, url) as api:
        answer = api.get("/healthz")
    assert answer.status_code == 503 and int(answer.headers["retry-after"]) > 0
    assert answer.json()["database"] == "read_only"


def test_a_database_that_is_down_answers_503_fast(live):
    down = f"postgresql://l2c:l2c@127.0.0.1:{free_port()}/l2c"
    user = User(username="rep1", role=Role.SALES_REP, email="rep1@l2c.local", active=True)
    token = issue_token(user, live.settings).access_token
    with api_on(live, down) as api:
        started = time.monotonic()
        health = api.get("/healthz")
        deals = api.get("/deals", headers={"Authorization": f"Bearer {token}"})
        took = time.monotonic() - started
    assert health.status_code == 503 and int(health.headers["retry-after"]) > 0
    assert deals.status_code == 503 and int(deals.headers["retry-after"]) > 0
    assert took < 15
