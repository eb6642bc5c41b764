"""How long each kind of activity may take and how it is retried.

Every activity is idempotent, so retrying is always safe; what differs is how quickly a
lost attempt is noticed and how hard to hammer the service behind it.

- A deal's command (`commit_deal`): one short Postgres transaction, run as a *local*
  activity in the workflow's own task: no activity task round trip through the server and
  two history events fewer per command (measured in docs/benchmarks.md). A worker that dies
  in it fails the workflow task, which Temporal retries on another worker after the task
  timeout; the commit is keyed, so the retry changes nothing that was already written.
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

from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig, LocalActivityConfig

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

STORAGE: ActivityConfig = {
    "start_to_close_timeout": timedelta(seconds=10),
    "retry_policy": _DATABASE_RETRY,
}
FINANCE: ActivityConfig = {
    "start_to_close_timeout": timedelta(seconds=10),
    "retry_policy": _DATABASE_RETRY,
}
# A report over every open deal (the forecast's snapshot): longer than one row's write.
REPORT: ActivityConfig = {
    "start_to_close_timeout": timedelta(minutes=2),
    "retry_policy": _DATABASE_RETRY,
}
EMAIL: ActivityConfig = {
    "start_to_close_timeout": timedelta(seconds=60),
    "retry_policy": _SMTP_RETRY,
}
# A command's commit runs inside the workflow task: retried briefly, in the task, and the
# deal shows itself blocked after its policy's `unwritable_after` (workflows/deal/effects.py).
COMMIT_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
    non_retryable_error_types=FINAL,
)

COMMIT: LocalActivityConfig = {
    "start_to_close_timeout": timedelta(seconds=10),
    "retry_policy": COMMIT_RETRY,
    # Past this, retries are scheduled by the server as timers instead of in the task.
    "local_retry_threshold": timedelta(seconds=10),
}
READ: LocalActivityConfig = COMMIT
