"""Rate limits kept in this API process's memory (docs/webhooks.md says what that means
behind several processes: each counts on its own)."""

from __future__ import annotations

import threading
import time

from domain.rate_limit import Bucket, TokenBucket

MAX_CLIENTS = 10_000  # past this, buckets that refilled are forgotten


class RateLimiter:
    """One token bucket per client address; thread-safe (routes run in a thread pool)."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rule = TokenBucket(per_minute=per_minute, burst=burst)
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> int | None:
        """None if `client` may go on; else the seconds it should wait."""
        now = time.monotonic()
        with self._lock:
            bucket, wait = self.rule.take(self._buckets.get(client), now)
            self._buckets[client] = bucket
            if len(self._buckets) > MAX_CLIENTS:
                self._forget_full(now)
        return wait

    def _forget_full(self, now: float) -> None:
        for client in [c for c, b in self._buckets.items() if self.rule.is_full(b, now)]:
            del self._buckets[client]
