"""The yardstick for bench/import.py: a workflow that returns at once, so starting it costs
what a start costs (its own module, so the worker's sandbox can import it)."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn
class BareStart:
    """Does nothing: what starting a workflow costs, and no more."""

    @workflow.run
    async def run(self, n: int) -> int:
        return n
