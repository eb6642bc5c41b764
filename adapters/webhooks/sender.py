"""POSTing one signed event to an endpoint: the only place l2c talks HTTP to receivers."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import httpx

from domain.webhook_signature import EVENT_HEADER, HEADER, signature_header
from domain.webhooks import Attempt

from .store import Outgoing


def body_of(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


class WebhookSender:
    """Signs and posts; any answer or failure becomes an Attempt (never an exception).
    Redirects are not followed: a receiver that moved is told to update its URL."""

    def __init__(self, timeout_seconds: float) -> None:
        self._http = httpx.Client(timeout=timeout_seconds, follow_redirects=False)

    def post(self, out: Outgoing, generation: int, attempt: int) -> Attempt:
        body = body_of(out.payload)
        now = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "l2c-webhooks/1",
            HEADER: signature_header(out.secret, now, body),
            EVENT_HEADER: out.event_id,
        }
        started = time.monotonic()
        code: int | None = None
        error: str | None = None
        try:
            answer = self._http.post(out.url, content=body, headers=headers)
            code = answer.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}: {answer.text[:200]}"
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as err:
            error = f"{type(err).__name__}: {err}"[:500]
        return Attempt(
            generation=generation,
            attempt=attempt,
            at=datetime.now(UTC),
            status_code=code,
            error=error,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
