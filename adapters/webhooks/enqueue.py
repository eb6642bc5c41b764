"""Writing a webhook delivery for each subscribed endpoint, in the transaction of the audit
event it tells (adapters/storage/audit.py calls this): an event is sent if and only if it
happened, and a retried write adds nothing (one delivery per endpoint and event id)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert

from adapters.storage.tables import invoices, webhook_deliveries, webhook_endpoints
from domain.invoices import InvoiceStatus
from domain.webhooks import SETTLING_ACTIONS, events_for, is_told


def enqueue_in(
    conn: Connection, deal_id: str, key: str, at: datetime, action: str, data: dict[str, Any]
) -> None:
    if not is_told(action):
        return
    paid = _paid_invoice(conn, data) if action in SETTLING_ACTIONS else None
    for event in events_for(deal_id, key, at, action, data, paid):
        endpoints = conn.execute(
            select(webhook_endpoints.c.endpoint_id).where(
                webhook_endpoints.c.enabled.is_(True),
                webhook_endpoints.c.events.contains([event.type.value]),
            )
        ).scalars()
        payload = event.model_dump(mode="json")
        for endpoint_id in endpoints:
            conn.execute(
                insert(webhook_deliveries)
                .values(
                    delivery_id=f"whd_{uuid.uuid4().hex}",
                    endpoint_id=endpoint_id,
                    event_id=event.id,
                    event_type=event.type.value,
                    deal_id=deal_id,
                    payload=payload,
                    status="pending",
                    created_at=at,
                )
                .on_conflict_do_nothing(constraint="uq_webhook_deliveries_event")
            )


def _paid_invoice(conn: Connection, data: dict[str, Any]) -> dict[str, Any] | None:
    """The invoice a settling action named, if that left it paid (read in this transaction)."""
    row = conn.execute(
        select(invoices.c.number, invoices.c.total, invoices.c.currency, invoices.c.status).where(
            invoices.c.number == data.get("invoice")
        )
    ).first()
    if row is None or row.status != InvoiceStatus.PAID:
        return None
    return {"invoice": row.number, "total": str(row.total), "currency": row.currency}
