"""Fault injection for the reliability tests (and for anyone who wants to see l2c survive):
off unless configured.

- kill: the worker process dies (os._exit) right after an activity of a deal has done its
  effect and before it reports back, at one point per deal: the worst moment, since the
  effect must not happen twice when the activity is retried elsewhere.
- refuse: the first attempt of the named activity, per workflow, fails as a business
  refusal (non-retryable), which blocks the deal until someone resumes it.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

KILLED_EXIT = 137


class _Chaos(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, plan: ChaosPlan) -> None:
        super().__init__(next)
        self.plan = plan

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        self.plan.maybe_refuse(info.activity_type, info.workflow_id or "")
        result = await super().execute_activity(input)
        self.plan.maybe_kill(info.workflow_id or "")
        return result


class ChaosPlan(Interceptor):
    """Which faults to inject; the ledger file remembers them across worker restarts."""

    def __init__(self, ledger: Path, kill_within: int = 0, refuse: str | None = None) -> None:
        self.ledger = ledger
        self.kill_within = kill_within
        self.refuse = refuse

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Chaos(next, self)

    def _done(self, event: str) -> bool:
        return self.ledger.exists() and event in self.ledger.read_text().split()

    def _remember(self, event: str) -> None:
        with open(self.ledger, "a") as out:
            out.write(event + "\n")
            out.flush()
            os.fsync(out.fileno())

    def maybe_kill(self, workflow_id: str) -> None:
        if not self.kill_within or not workflow_id.startswith("deal-"):
            return
        event = f"kill:{workflow_id}"
        if self._done(event):
            return
        # Counted in the ledger, not in memory: a worker restarted after another deal's kill
        # must not start this deal's count again.
        self._remember(f"ran:{workflow_id}")
        ran = self.ledger.read_text().split().count(f"ran:{workflow_id}")
        point = zlib.crc32(workflow_id.encode()) % self.kill_within + 1
        if ran >= point:
            self._remember(event)
            os._exit(KILLED_EXIT)

    def maybe_refuse(self, activity_type: str, workflow_id: str) -> None:
        event = f"refuse:{workflow_id}:{activity_type}"
        if activity_type == self.refuse and not self._done(event):
            self._remember(event)
            raise ApplicationError(
                f"chaos: {activity_type} refused once", type="InvalidInput", non_retryable=True
            )


def chaos_refusal(settings: Any) -> Callable[[str, str], None] | None:
    """For effects written inside one commit: refuse the first `settings.chaos_refuse` one."""
    if settings.chaos_ledger is None or not settings.chaos_refuse:
        return None
    return ChaosPlan(Path(settings.chaos_ledger), 0, settings.chaos_refuse).maybe_refuse


def chaos_from(settings: Any) -> list[Interceptor]:
    if settings.chaos_ledger is None:
        return []
    return [
        ChaosPlan(Path(settings.chaos_ledger), settings.chaos_kill_within, settings.chaos_refuse)
    ]
