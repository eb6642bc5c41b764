"""Retrains the win-probability model: one activity, started by the Temporal Schedule
`l2c-win-model-training-<task queue>` (worker.py creates it) or by hand.

The activity is called by name, so this module never imports scikit-learn into the
workflow sandbox.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

WIN_MODEL_SCHEDULE_ID = "l2c-win-model-training"


def win_model_schedule_id(task_queue: str) -> str:
    """One schedule per task queue: workers of another l2c on the same namespace (a test
    stack, a second deployment) keep to their own and never repoint this one."""
    return f"{WIN_MODEL_SCHEDULE_ID}-{task_queue}"


# Reading 20,000 deals and fitting takes about a minute; a lost worker is noticed after this.
TRAINING_TIMEOUT = timedelta(minutes=30)


@workflow.defn
class WinModelTraining:
    @workflow.run
    async def run(self) -> str | None:
        """The version of the model stored, or None when nothing new was learned."""
        version: str | None = await workflow.execute_activity(
            "train_win_model",
            start_to_close_timeout=TRAINING_TIMEOUT,
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        return version
