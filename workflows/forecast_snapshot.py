"""ForecastSnapshotWorkflow: run weekly by a Temporal Schedule, it keeps the forecast of the
current quarter and month as it stands, so once the period ends the forecast can be set
beside what actually closed (docs/forecast.md)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.forecast import ForecastActivities, TakeSnapshot
    from domain.forecast import quarter_of

    from .activity_options import REPORT

FORECAST_SCHEDULE_ID = "l2c-forecast-snapshot"


def forecast_schedule_id(task_queue: str) -> str:
    """One schedule per task queue, as the win model's (workflows/win_model_training.py)."""
    return f"{FORECAST_SCHEDULE_ID}-{task_queue}"


@workflow.defn
class ForecastSnapshotWorkflow:
    @workflow.run
    async def run(self) -> int:
        """Snapshot this quarter and this month; the rows written."""
        today = workflow.now().date()
        periods = [quarter_of(today).key, f"{today.year}-{today.month:02d}"]
        return await workflow.execute_activity_method(
            ForecastActivities.snapshot_forecast,
            TakeSnapshot(periods=periods, taken_at=workflow.now()),
            **REPORT,
        )
