"""How long each kind of activity may take and how it is retried.

Every activity is idempotent, so retrying is always safe; what differs is how quickly a
lost attempt is noticed and how hard to hammer the service behind it.

- Storage and finance: one short Postgres transaction each. A worker that dies mid-attempt is
  noticed after `start_to_close` (10 s), then retried at once; Postgres being restarted is
  retried with backoff up to 30 s between attempts, for as long as it takes.
- E-mail: an SMTP conversation can be slow; 60 s per attempt, backing off to 5 minutes
  between attempts, for as long as it takes (the outbox row keeps the message).
- Business refusals (domain errors, an e-mail with no recipient) are never retried: they are
  surfaced to the deal, which shows itself blocked until someone resolves it.
No activity runs long enough to need heartbeats (none loops or waits on anything but one
round trip); a long one would heartbeat and set `heartbeat_timeout`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

from domain.errors import ERRORS

FINAL = [*ERRORS, "NoRecipients"]

_DATABASE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=FINAL,
)
_SMTP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=FINAL,
)

STORAGE: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=10),
    "retry_policy": _DATABASE_RETRY,
}
FINANCE: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=10),
    "retry_policy": _DATABASE_RETRY,
}
EMAIL: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=60),
    "retry_policy": _SMTP_RETRY,
}
