"""Signing webhook bodies and checking a signature, as a receiver does (docs/webhooks.md).

`L2C-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the secret>`.
Signing the time with the body lets a receiver refuse replays older than its tolerance."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "L2C-Signature"
EVENT_HEADER = "L2C-Event-Id"
TOLERANCE_SECONDS = 300


class SignatureInvalid(ValueError):
    """The body was not signed by this secret, or too long ago."""


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS
) -> int:
    """The signed timestamp, if `header` signs `body` with `secret` within `tolerance`
    seconds of `now`; else SignatureInvalid. Any of several v1 values may match (during a
    secret's rotation a sender may sign with both)."""
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureInvalid("no timestamp or no v1 signature in the header")
    if abs(now - timestamp) > tolerance:
        raise SignatureInvalid("the signature's timestamp is outside the tolerance")
    expected = _mac(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise SignatureInvalid("no signature matches the body")
    return timestamp
