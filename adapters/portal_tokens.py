"""Signed, expiring customer-portal tokens, scoped to one deal, action and version."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ValidationError

from domain.messages import PortalAction


class PortalClaim(BaseModel):
    deal_id: str
    action: PortalAction
    version: int
    expires: int  # unix seconds
    sent_to: str | None = None  # the address the link was e-mailed to


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PortalTokens:
    """HMAC-SHA256 over the claim, with a key derived from the app secret."""

    def __init__(self, secret: str, lifetime: timedelta) -> None:
        self._key = hashlib.sha256(b"l2c-portal\x00" + secret.encode()).digest()
        self.lifetime = lifetime

    def issue(
        self,
        deal_id: str,
        action: PortalAction,
        version: int,
        now: datetime | None = None,
        sent_to: str | None = None,
        expires_at: datetime | None = None,
    ) -> str:
        """A link that works until `expires_at` (a quote's validity), at most `lifetime`."""
        now = now or datetime.now(UTC)
        expires = now + self.lifetime
        if expires_at is not None:
            expires = min(expires, expires_at)
        claim = PortalClaim(
            deal_id=deal_id,
            action=action,
            version=version,
            expires=math.ceil(expires.timestamp()),  # never before what it points at lapses
            sent_to=sent_to,
        )
        body = _b64(claim.model_dump_json().encode())
        return f"{body}.{self._sign(body)}"

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def verify(self, token: str, now: datetime | None = None) -> PortalClaim | None:
        """The claim of a genuine, unexpired token, else None."""
        body, _, signature = token.partition(".")
        expected = self._sign(body).encode()
        if not body or not hmac.compare_digest(signature.encode(errors="replace"), expected):
            return None
        try:
            claim = PortalClaim.model_validate(json.loads(_unb64(body)))
        except (ValueError, ValidationError):
            return None
        now = now or datetime.now(UTC)
        return claim if claim.expires > now.timestamp() else None


def portal_tokens(secret: str, lifetime_days: int) -> PortalTokens:
    return PortalTokens(secret, timedelta(days=lifetime_days))
