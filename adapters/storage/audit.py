"""Appending to and reading the keyed, hash-chained audit log of each deal, and its signed
head (domain/audit.py). The key comes with the engine (`make_engine(audit_key=...)`), so
every writer of events signs them and the database never holds it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.dialects.postgresql import insert

from adapters.webhooks.enqueue import enqueue_in as enqueue_webhooks
from domain.audit import (
    GENESIS,
    AuditEvent,
    AuditHead,
    event_hash,
    first_broken_link,
    head_is_genuine,
    signed_head,
)
from domain.errors import Conflict

from .tables import audit_events, audit_heads

AUDIT_KEY = "l2c_audit_key"  # the engine's execution option that carries the key


class AuditChainBroken(Conflict):
    """The deal's chain does not end where its signed head says: nothing more is appended
    until someone looks (`l2c audit verify`)."""


def audit_key(conn: Connection) -> bytes:
    key = conn.get_execution_options().get(AUDIT_KEY)
    if not isinstance(key, bytes):
        raise RuntimeError("this engine was made without the audit key (make_engine audit_key)")
    return key


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
    """Add one event to the deal's chain, once per `key` (a retried write is a no-op), and
    move its signed head in the same transaction; the webhook deliveries it causes too."""
    secret = audit_key(conn)
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
    head = deal_head(conn, deal_id)
    _check_head(head, deal_id, seq - 1, prev, secret)
    data = _jsonable(data)
    digest = event_hash(secret, prev, deal_id, seq, at, actor, action, data)
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
            hash=digest,
        )
    )
    legacy_upto = head.legacy_upto if head else 0
    _save_head(conn, signed_head(secret, deal_id, seq, digest, legacy_upto))
    enqueue_webhooks(conn, deal_id, key, at, action, data)  # subscribers told, same commit


def _check_head(head: AuditHead | None, deal_id: str, seq: int, last: str, key: bytes) -> None:
    if head is None and seq == 0:
        return
    if head is None or not head_is_genuine(head, key) or (head.seq, head.hash) != (seq, last):
        raise AuditChainBroken(
            f"the audit chain of deal {deal_id} does not end at its signed head; "
            "nothing is recorded until it is checked (l2c audit verify)"
        )


def _save_head(conn: Connection, head: AuditHead) -> None:
    values = head.model_dump()
    conn.execute(
        insert(audit_heads)
        .values(**values)
        .on_conflict_do_update(index_elements=["deal_id"], set_=values)
    )


def deal_head(conn: Connection, deal_id: str) -> AuditHead | None:
    row = conn.execute(select(audit_heads).where(audit_heads.c.deal_id == deal_id)).mappings()
    found = row.first()
    return None if found is None else AuditHead.model_validate(dict(found))


def deal_events(conn: Connection, deal_id: str) -> list[AuditEvent]:
    rows = conn.execute(
        select(audit_events).where(audit_events.c.deal_id == deal_id).order_by(audit_events.c.seq)
    ).mappings()
    return [AuditEvent.model_validate(dict(row)) for row in rows]


def anchor_legacy_heads(conn: Connection, key: bytes) -> list[str]:
    """Sign the heads that migration 0011 wrote unsigned for chains older than the key,
    where the plain chain is intact and ends at its head; the deals left unsigned."""
    unsigned = conn.execute(
        select(audit_heads).where(audit_heads.c.mac.is_(None)).order_by(audit_heads.c.deal_id)
    ).mappings()
    left: list[str] = []
    for row in list(unsigned):
        head = AuditHead.model_validate(dict(row))
        events = deal_events(conn, head.deal_id)
        ends = bool(events) and (events[-1].seq, events[-1].hash) == (head.seq, head.hash)
        if not ends or first_broken_link(events, key, head.legacy_upto) is not None:
            left.append(head.deal_id)
            continue
        _save_head(conn, signed_head(key, head.deal_id, head.seq, head.hash, head.legacy_upto))
    return left
