"""The tamper-evident audit log: each event of a deal carries an HMAC over its content and
the hash of the one before, and a signed head names each deal's last event.

The key is l2c's (a setting), not the database's: whoever can write the tables can neither
recompute the chain after an edit nor move the head back after deleting the last events.
Chains written before the key existed (`legacy_upto`) are plain SHA-256 up to that event;
the signed head covers them, since it names a last hash that depends on every one of them.
"""

from __future__ import annotations

import hashlib
import hmac
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


class AuditHead(BaseModel):
    """A deal's checkpoint: its last event, and the MAC that makes it unforgeable."""

    model_config = ConfigDict(frozen=True)

    deal_id: str
    seq: int
    hash: str
    legacy_upto: int = 0
    mac: str | None = None


class ChainVerdict(BaseModel):
    """Intact (`first_broken_seq` None), or where and why the chain breaks."""

    model_config = ConfigDict(frozen=True)

    first_broken_seq: int | None = None
    reason: str | None = None


def event_hash(
    key: bytes | None,
    prev_hash: str,
    deal_id: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    data: dict[str, Any],
) -> str:
    """HMAC-SHA256 with `key` (plain SHA-256 without, for legacy events) over the previous
    hash and a canonical JSON of the event."""
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
    message = (prev_hash + body).encode()
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def head_mac(key: bytes, deal_id: str, seq: int, last_hash: str, legacy_upto: int) -> str:
    message = f"l2c-audit-head\x1f{deal_id}\x1f{seq}\x1f{last_hash}\x1f{legacy_upto}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_head(key: bytes, deal_id: str, seq: int, last_hash: str, legacy_upto: int) -> AuditHead:
    mac = head_mac(key, deal_id, seq, last_hash, legacy_upto)
    return AuditHead(deal_id=deal_id, seq=seq, hash=last_hash, legacy_upto=legacy_upto, mac=mac)


def head_is_genuine(head: AuditHead, key: bytes) -> bool:
    if head.mac is None:
        return False
    expected = head_mac(key, head.deal_id, head.seq, head.hash, head.legacy_upto)
    return hmac.compare_digest(head.mac, expected)


def first_broken_link(events: list[AuditEvent], key: bytes, legacy_upto: int = 0) -> int | None:
    """The seq of the first event whose hash does not prove its content and place, or None.
    Events up to `legacy_upto` are checked with plain SHA-256, the rest with the key."""
    prev = GENESIS
    for event in events:
        expected = event_hash(
            key if event.seq > legacy_upto else None,
            prev,
            event.deal_id,
            event.seq,
            event.at,
            event.actor,
            event.action,
            event.data,
        )
        if event.prev_hash != prev or not hmac.compare_digest(event.hash, expected):
            return event.seq
        prev = event.hash
    return None


def check_chain(events: list[AuditEvent], head: AuditHead | None, key: bytes) -> ChainVerdict:
    """The whole check: every link, and the signed head naming the last event."""
    genuine = head is not None and head_is_genuine(head, key)
    broken = first_broken_link(events, key, head.legacy_upto if head and genuine else 0)
    if broken is not None:
        return ChainVerdict(first_broken_seq=broken, reason="an event does not match its hash")
    if head is None:
        if not events:
            return ChainVerdict()
        return ChainVerdict(first_broken_seq=events[0].seq, reason="the signed head is missing")
    if not genuine:
        return ChainVerdict(first_broken_seq=head.seq, reason="the head's signature is wrong")
    last_seq, last_hash = (events[-1].seq, events[-1].hash) if events else (0, GENESIS)
    if (last_seq, last_hash) != (head.seq, head.hash):
        return ChainVerdict(
            first_broken_seq=last_seq + 1,
            reason=f"the head names event {head.seq}; events after {last_seq} are missing",
        )
    return ChainVerdict()
