"""A token bucket: `rate` requests a minute on average, up to `burst` at once. Pure: the
caller keeps the state and passes the time."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field


class Bucket(BaseModel):
    model_config = ConfigDict(frozen=True)

    tokens: float
    at: float  # monotonic seconds of the last update


class TokenBucket(BaseModel):
    """The rule; `take` answers the new state and, when refused, the seconds to wait."""

    model_config = ConfigDict(frozen=True)

    per_minute: float = Field(gt=0)
    burst: int = Field(ge=1)

    def take(self, bucket: Bucket | None, now: float) -> tuple[Bucket, int | None]:
        """(the bucket after this request, None) if allowed; (unchanged, retry after)."""
        rate = self.per_minute / 60
        if bucket is None:
            tokens = float(self.burst)
        else:
            tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * rate)
        if tokens >= 1:
            return Bucket(tokens=tokens - 1, at=now), None
        wait = math.ceil((1 - tokens) / rate)
        return Bucket(tokens=tokens, at=now), max(1, wait)

    def is_full(self, bucket: Bucket, now: float) -> bool:
        """A bucket that has refilled is as good as none: it may be forgotten."""
        return bucket.tokens + (now - bucket.at) * self.per_minute / 60 >= self.burst
