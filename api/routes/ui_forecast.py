"""The UI's forecast: the managers' page (a rep sees their own row) and the deal page's
small form to set a deal's category and close date. Same commands as routes/forecast.py."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from adapters.forecasting import Forecaster
from adapters.storage.forecast import ForecastBook
from domain.access import Action, can
from domain.deal import DealState
from domain.forecast import ForecastCategory
from domain.stages import DealStage
from domain.users import Actor

from ..commands import forecast
from ..commands.forecast import ForecastIn
from ..commands.win_models import win_models
from ..deps import ServicesDep
from ..services import Services
from ..ui_auth import UiForm, UiUser
from .forecast import ForecasterDep
from .ui import act, page, ui_router
from .ui_nav import MANAGERS, nav_entry

router = ui_router()
nav_entry("/ui/forecast", "Forecast", roles=MANAGERS, order=62)
# A deal's forecast is set until it is signed; after that what happened replaces it.
FORECASTABLE = (
    DealStage.QUALIFYING,
    DealStage.QUOTING,
    DealStage.AWAITING_APPROVAL,
    DealStage.PROPOSED,
    DealStage.AWAITING_SIGNATURE,
)
CATEGORY_LABELS = {
    ForecastCategory.COMMIT: "Commit",
    ForecastCategory.BEST_CASE: "Best case",
    ForecastCategory.PIPELINE: "Pipeline",
    ForecastCategory.OMITTED: "Omitted",
}


@router.get("/forecast")
def forecast_page(
    request: Request,
    session: UiUser,
    services: ServicesDep,
    forecaster: ForecasterDep,
    period: Annotated[str | None, Query(max_length=8)] = None,
    owner: Annotated[str | None, Query(max_length=64)] = None,
    team: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """Per owner and team: quota, closed, commit, best case, pipeline, expected ± its
    interval and attainment; an ended period's snapshots beside what closed."""
    report = forecast.forecast(
        forecaster, session.user, period or None, owner or None, team or None
    )
    context = {
        "report": report,
        "owner": owner or "",
        "team": team or "",
        "labels": CATEGORY_LABELS,
        # Whose probabilities the expected figures use; the model's holdout figures.
        "win_models": win_models(services, session.user)
        if can(session.user, Action.VIEW_WIN_MODELS, None)
        else None,
    }
    return page(request, session, "forecast.html", context)


def forecast_panel(
    request: Request, services: Services, user: Actor, deal: DealState
) -> dict[str, Any]:
    """What the deal page adds: the deal's forecast (set and suggested), and whether this
    user may set it now."""
    if deal.stage not in FORECASTABLE or not can(user, Action.SET_FORECAST, deal.owner):
        return {"deal_forecast": None}
    forecaster = Forecaster(ForecastBook(services.engine), request.app.state.win_scorer)
    return {
        "deal_forecast": forecast.deal_forecast(services, forecaster, user, deal.deal_id),
        "forecast_labels": CATEGORY_LABELS,
    }


@router.post("/deals/{deal_id}/forecast")
def set_deal_forecast(
    deal_id: str,
    session: UiForm,
    services: ServicesDep,
    forecaster: ForecasterDep,
    category: Annotated[ForecastCategory, Form()],
    close_date: Annotated[date, Form()],
) -> RedirectResponse:
    def command() -> str:
        body = ForecastIn(category=category, close_date=close_date)
        forecast.set_deal_forecast(services, forecaster, session.user, deal_id, body)
        return f"Forecast set: {CATEGORY_LABELS[category]}, closing {close_date.isoformat()}."

    return act(f"/ui/deals/{deal_id}", command)
