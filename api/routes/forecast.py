"""The sales forecast: a deal's category and close date, quotas, the forecast of a period
and its snapshots (docs/forecast.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from adapters.forecasting import Forecaster
from adapters.storage.forecast import ForecastBook, Quota

from ..commands import forecast
from ..commands.forecast import (
    DealForecastView,
    ForecastIn,
    ForecastReport,
    QuotaIn,
    SnapshotIn,
    SnapshotTaken,
)
from ..deps import CurrentUser, ServicesDep

router = APIRouter(tags=["forecast"])


def get_forecaster(request: Request, services: ServicesDep) -> Forecaster:
    """The forecast on the app's win scorer (app.state.win_scorer, set in the lifespan)."""
    return Forecaster(ForecastBook(services.engine), request.app.state.win_scorer)


ForecasterDep = Annotated[Forecaster, Depends(get_forecaster)]
PeriodQuery = Annotated[str | None, Query(max_length=8, examples=["2026-Q4"])]
NameQuery = Annotated[str | None, Query(max_length=64)]


@router.get("/deals/{deal_id}/forecast")
def deal_forecast(
    deal_id: str, user: CurrentUser, services: ServicesDep, forecaster: ForecasterDep
) -> DealForecastView:
    return forecast.deal_forecast(services, forecaster, user, deal_id)


@router.put("/deals/{deal_id}/forecast")
def set_deal_forecast(
    deal_id: str,
    body: ForecastIn,
    user: CurrentUser,
    services: ServicesDep,
    forecaster: ForecasterDep,
) -> DealForecastView:
    return forecast.set_deal_forecast(services, forecaster, user, deal_id, body)


@router.put("/quotas")
def set_quota(body: QuotaIn, user: CurrentUser, forecaster: ForecasterDep) -> Quota:
    return forecast.set_quota(forecaster, user, body)


@router.get("/quotas")
def quotas(user: CurrentUser, forecaster: ForecasterDep, period: PeriodQuery = None) -> list[Quota]:
    return forecast.quotas(forecaster, user, period)


@router.get("/forecast")
def get_forecast(
    user: CurrentUser,
    forecaster: ForecasterDep,
    period: PeriodQuery = None,
    owner: NameQuery = None,
    team: NameQuery = None,
) -> ForecastReport:
    return forecast.forecast(forecaster, user, period, owner, team)


@router.post("/forecast/snapshots", status_code=201)
def take_snapshot(body: SnapshotIn, user: CurrentUser, forecaster: ForecasterDep) -> SnapshotTaken:
    return forecast.take_snapshot(forecaster, user, body)
