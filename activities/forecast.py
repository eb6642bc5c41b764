"""The weekly forecast snapshot's activity: keep the forecast of the given periods as it
stands. Idempotent: the rows are keyed by (period, taken_at, owner, currency) and taken_at
comes from the workflow, so a retry writes nothing new."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import activity

from domain.forecast import parse_period

if TYPE_CHECKING:
    from adapters.forecasting import Forecaster


class TakeSnapshot(BaseModel):
    periods: list[str]
    taken_at: datetime


class ForecastActivities:
    def __init__(self, forecaster: Forecaster) -> None:
        self.forecaster = forecaster

    @activity.defn
    def snapshot_forecast(self, request: TakeSnapshot) -> int:
        """Snapshot each period's forecast; the rows written."""
        return sum(
            self.forecaster.take_snapshot(parse_period(key), request.taken_at)
            for key in request.periods
        )
