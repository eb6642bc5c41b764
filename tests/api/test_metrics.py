"""GET /metrics: the API's requests by route template, its commands' Temporal round trips,
and deals by stage and the outbox's depth read at scrape time, as Prometheus reads them."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import delete, func, insert, select

from adapters.observability.gauges import OutboxDepth
from adapters.observability.metrics import ApiMetrics
from adapters.storage.tables import deals, emails
from tests.flows import to_quoting


def scrape(api) -> list[Sample]:
    """Every sample of one scrape (no login: Prometheus has none)."""
    answer = api.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return [s for family in text_string_to_metric_families(answer.text) for s in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sample's value (0 if absent: a series appears with its first event)."""
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    return sum(found)


def test_metrics_count_requests_time_commands_and_read_deals_by_stage(live, as_user):
    anonymous, rep = as_user(None), as_user("rep1")
    before = scrape(anonymous)

    deal = to_quoting(rep)  # POST /leads (update-with-start "opened"), then "qualify"
    assert rep.get(f"/deals/{deal['deal_id']}").status_code == 200
    assert rep.get("/no-such-page").status_code == 404
    with live.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(deals)).scalar_one()
    after = scrape(anonymous)

    requests, seconds = "l2c_http_requests_total", "l2c_http_request_duration_seconds_count"
    posted = {"method": "POST", "route": "/leads", "status": "201"}
    assert value(after, requests, **posted) == value(before, requests, **posted) + 1
    read = {"method": "GET", "route": "/deals/{deal_id}"}
    assert value(after, seconds, **read) >= value(before, seconds, **read) + 1
    assert value(after, requests, route="unmatched", status="404") >= 1
    routes = {s.labels.get("route", "") for s in after if s.name == requests}
    assert not [r for r in routes if deal["deal_id"] in r], routes  # templates, never paths

    commands = "l2c_command_duration_seconds_count"
    for command in ("opened", "qualify"):
        grew = value(after, commands, command=command) - value(before, commands, command=command)
        assert grew == 1, command
    assert value(after, "l2c_command_duration_seconds_sum", command="qualify") > 0

    by_stage = {s.labels["stage"]: s.value for s in after if s.name == "l2c_deals"}
    assert by_stage["QUOTING"] >= 1 and by_stage["WON"] >= 0  # every stage, empty ones as 0
    assert sum(by_stage.values()) == total
    assert value(after, "l2c_outbox_depth") >= 0


def test_outbox_depth_counts_the_mails_not_yet_sent(fresh_engine):
    metrics = ApiMetrics()
    metrics.watch(fresh_engine, OutboxDepth)

    def depth() -> float:
        text = metrics.exposition().decode()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        return families["l2c_outbox_depth"].samples[0].value

    assert depth() == 0
    row = {
        "kind": "test",
        "recipients": ["a@example.com"],
        "subject": "s",
        "body": "b",
        "message_id": "<m@l2c>",
        "created_at": datetime.now(UTC),
    }
    with fresh_engine.begin() as conn:
        conn.execute(insert(emails), [row | {"key": "one", "status": "pending"}])
        conn.execute(insert(emails), [row | {"key": "two", "status": "pending"}])
        conn.execute(insert(emails), [row | {"key": "sent", "status": "sent"}])
    assert depth() == 2
    with fresh_engine.begin() as conn:
        conn.execute(delete(emails).where(emails.c.key == "one"))
    assert depth() == 1
    metrics.unwatch()
    assert "l2c_outbox_depth" not in metrics.exposition().decode()


def test_a_deployment_with_a_metrics_token_shows_metrics_only_to_its_holder(live):
    from fastapi.testclient import TestClient

    from api.app import create_app

    token = "scrape-" + "t" * 24
    settings = live.settings.model_copy(update={"metrics_token": token})
    with TestClient(create_app(settings)) as api:
        assert api.get("/metrics").status_code == 401
        assert api.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        answer = api.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and "l2c_http_requests" in answer.text
