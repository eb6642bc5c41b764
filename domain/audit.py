"""The tamper-evident audit log: each event of a deal carries the hash of the one before."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

GENESIS = "0" * 64


class AuditEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    deal_id: str
    seq: int
    at: datetime
    actor: str
    action: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


def event_hash(
    prev_hash: str,
    deal_id: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    data: dict[str, Any],
) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the event."""
    body = json.dumps(
        {
            "deal_id": deal_id,
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(),
            "actor": actor,
            "action": action,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def first_broken_link(events: list[AuditEvent]) -> int | None:
    """The seq of the first event whose hash does not prove its content and place, or None."""
    prev = GENESIS
    for event in events:
        expected = event_hash(
            prev, event.deal_id, event.seq, event.at, event.actor, event.action, event.data
        )
        if event.prev_hash != prev or event.hash != expected:
            return event.seq
        prev = event.hash
    return None
