"""The weekly forecast snapshot: its schedule is created once however many workers start,
and its workflow snapshots the current quarter and month through the worker's activity."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.worker import Worker

from activities.forecast import ForecastActivities
from adapters.forecasting import Forecaster
from adapters.storage.forecast import ForecastBook, StageScorer
from domain.forecast import quarter_of
from tests.conftest import Live
from tests.integration.test_forecast_closed_quarter import load
from worker import ensure_forecast_snapshot_schedule, workflow_runner
from workflows.forecast_snapshot import ForecastSnapshotWorkflow, forecast_schedule_id


def test_the_schedule_is_created_once(live: Live) -> None:
    async def ensure_again() -> tuple[bool, str, Any]:
        # The stack's worker made it at start (stack.serve): asking again creates nothing.
        again = await ensure_forecast_snapshot_schedule(live.client, live.settings.task_queue)
        schedule_id = forecast_schedule_id(live.settings.task_queue)
        described = await live.client.get_schedule_handle(schedule_id).describe()
        return again, described.id, described.schedule.action

    again, found, action = live.run(ensure_again())
    assert again is False
    assert found == forecast_schedule_id(live.settings.task_queue)
    assert isinstance(action, ScheduleActionStartWorkflow)  # the workflow the worker runs
    assert action.workflow == ForecastSnapshotWorkflow.__name__  # its defn has no other name


def test_the_snapshot_workflow_keeps_this_quarter_and_month(
    live: Live, fresh_engine: Engine
) -> None:
    load(fresh_engine)  # deals dated 2025: this quarter has no open deal dated in it
    with fresh_engine.begin() as conn:  # ...except this one, due today
        conn.execute(
            text("UPDATE deal_forecasts SET close_date = :today WHERE deal_id = 'A1'"),
            {"today": datetime.now(UTC).date()},
        )
    queue = f"forecast-{uuid.uuid4().hex[:8]}"
    activities = ForecastActivities(
        Forecaster(ForecastBook(fresh_engine), StageScorer(fresh_engine))
    )

    async def run() -> int:
        async with Worker(
            live.client,
            task_queue=queue,
            workflows=[ForecastSnapshotWorkflow],
            activities=[activities.snapshot_forecast],
            activity_executor=ThreadPoolExecutor(2),
            workflow_runner=workflow_runner(),
        ):
            return await live.client.execute_workflow(
                ForecastSnapshotWorkflow.run, id=f"forecast-snapshot-{queue}", task_queue=queue
            )

    rows = live.run(run())

    today = datetime.now(UTC).date()
    month = f"{today.year}-{today.month:02d}"
    assert rows == 2  # ann's EUR row, in the quarter and in the month
    book = ForecastBook(fresh_engine)
    for period in (quarter_of(today).key, month):
        [snapshot] = book.snapshots(period)
        assert (snapshot.owner, snapshot.commit) == ("ann", Decimal(10000))  # A1, commit
