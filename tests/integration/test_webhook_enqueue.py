"""Deliveries are written with their audit event: one per subscribed, enabled endpoint, and
a retried write of the event adds none."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from adapters.storage.audit import append_event
from adapters.storage.tables import webhook_deliveries
from adapters.webhooks.secrets import SecretBox
from adapters.webhooks.store import WebhookStore
from domain.webhooks import EventType

# Nothing listens there: whatever the relay sends fails, and the endpoints are disabled after.
NOWHERE = "https://hooks.invalid/l2c"


def test_an_event_is_written_once_per_subscribed_enabled_endpoint(live) -> None:
    store = WebhookStore(live.engine, SecretBox(live.settings.webhook_sealing_key))
    now = datetime.now(UTC)
    stages = store.create(NOWHERE, [EventType.DEAL_STAGE_CHANGED], None, "admin", now)
    invoices = store.create(NOWHERE, [EventType.INVOICE_ISSUED], None, "admin", now)
    disabled = store.create(NOWHERE, [EventType.DEAL_STAGE_CHANGED], None, "admin", now)
    store.disable(disabled.id, "test", now)
    chain = f"hooks-{uuid.uuid4().hex[:12]}"
    try:
        for _ in range(2):  # the second is a retried write of the same event
            with live.engine.begin() as conn:
                append_event(conn, chain, "stage:1", now, "rep1", "stage.changed", {"stage": "WON"})
        with live.engine.connect() as conn:
            written = conn.execute(
                select(webhook_deliveries.c.endpoint_id, webhook_deliveries.c.payload).where(
                    webhook_deliveries.c.deal_id == chain
                )
            ).all()
    finally:
        for endpoint in (stages, invoices):
            store.disable(endpoint.id, "test over", datetime.now(UTC))
    assert [row.endpoint_id for row in written] == [stages.id]
    payload = written[0].payload
    assert payload["type"] == "deal.stage_changed"
    assert payload["deal_id"] == chain
    assert payload["data"] == {"stage": "WON"}
