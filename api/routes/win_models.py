"""GET /win-models: the trained win-probability models and their metrics (managers)."""

from __future__ import annotations

from fastapi import APIRouter

from ..commands import win_models
from ..deps import CurrentUser, ServicesDep

router = APIRouter(tags=["reports"])


@router.get("/win-models")
def list_win_models(user: CurrentUser, services: ServicesDep) -> win_models.WinModels:
    return win_models.win_models(services, user)
