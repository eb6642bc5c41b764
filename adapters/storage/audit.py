"""Appending to and reading the hash-chained audit log of each deal."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text

from domain.audit import GENESIS, AuditEvent, event_hash

from .tables import audit_events


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    # Hash exactly what Postgres will hand back: Decimals and datetimes as strings.
    return dict(json.loads(json.dumps(data, default=str)))


def append_event(
    conn: Connection,
    deal_id: str,
    key: str,
    at: datetime,
    actor: str,
    action: str,
    data: dict[str, Any],
) -> None:
    """Add one event to the deal's chain, once per `key` (a retried write is a no-op)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:deal))"), {"deal": deal_id})
    exists = conn.execute(
        select(audit_events.c.seq).where(
            audit_events.c.deal_id == deal_id, audit_events.c.event_key == key
        )
    ).first()
    if exists is not None:
        return
    last = conn.execute(
        select(audit_events.c.seq, audit_events.c.hash)
        .where(audit_events.c.deal_id == deal_id)
        .order_by(audit_events.c.seq.desc())
        .limit(1)
    ).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    data = _jsonable(data)
    conn.execute(
        audit_events.insert().values(
            deal_id=deal_id,
            seq=seq,
            event_key=key,
            at=at,
            actor=actor,
            action=action,
            data=data,
            prev_hash=prev,
            hash=event_hash(prev, deal_id, seq, at, actor, action, data),
        )
    )


def deal_events(conn: Connection, deal_id: str) -> list[AuditEvent]:
    rows = conn.execute(
        select(audit_events).where(audit_events.c.deal_id == deal_id).order_by(audit_events.c.seq)
    ).mappings()
    return [AuditEvent.model_validate(dict(row)) for row in rows]
