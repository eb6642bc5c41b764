"""POSTing one signed event to an endpoint: the only place l2c talks HTTP to receivers."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from domain.webhook_signature import EVENT_HEADER, HEADER, signature_header
from domain.webhooks import Attempt, target_refused

from .store import Outgoing


def body_of(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


class WebhookSender:
    """Signs and posts; any answer or failure becomes an Attempt (never an exception).
    Redirects are not followed: a receiver that moved is told to update its URL. A host that
    resolves to this machine, the private network or a link-local address is not called
    (domain.webhooks.target_refused), checked at each attempt since DNS answers change."""

    def __init__(
        self, timeout_seconds: float, allow_loopback: bool = False, allow_private: bool = False
    ) -> None:
        self._http = httpx.Client(timeout=timeout_seconds, follow_redirects=False)
        self.allow_loopback, self.allow_private = allow_loopback, allow_private

    def refusal(self, url: str) -> str | None:
        """Why `url`'s host may not be called (None: it may)."""
        host = urlsplit(url).hostname or ""
        try:
            found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as err:
            return f"{host} does not resolve: {err}"
        for *_, sockaddr in found:
            why = target_refused(str(sockaddr[0]), self.allow_loopback, self.allow_private)
            if why is not None:
                return f"refused: {host} resolves to {sockaddr[0]}, {why}"
        return None

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
            error = self.refusal(out.url)
            if error is not None:
                raise ValueError(error)
            answer = self._http.post(out.url, content=body, headers=headers)
            code = answer.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}: {answer.text[:200]}"
        except ValueError as err:
            error = str(err)[:500]
        except (httpx.HTTPError, httpx.InvalidURL) as err:
            error = f"{type(err).__name__}: {err}"[:500]
        return Attempt(
            generation=generation,
            attempt=attempt,
            at=datetime.now(UTC),
            status_code=code,
            error=error,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
