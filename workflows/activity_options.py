"""How long activities may take and how they are retried, by kind of effect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

from domain.errors import ERRORS

# Business refusals are final; anything else (a database restart, an SMTP hiccup) is retried.
_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=[*ERRORS, "NoRecipients"],
)

STORAGE: dict[str, Any] = {"start_to_close_timeout": timedelta(seconds=30), "retry_policy": _RETRY}
FINANCE: dict[str, Any] = {"start_to_close_timeout": timedelta(seconds=30), "retry_policy": _RETRY}
EMAIL: dict[str, Any] = {"start_to_close_timeout": timedelta(seconds=60), "retry_policy": _RETRY}
