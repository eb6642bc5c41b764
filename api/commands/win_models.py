"""The win-probability models trained so far (issue 19), for the managers who trust them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from adapters.storage.win_history import WinHistory
from adapters.storage.win_scores import rules_note
from domain.access import Action
from domain.users import Actor
from domain.win_model import MIN_CLOSED_DEALS, WinModelMetrics

from ..services import Services
from .authorization import authorize

SHOWN = 20


class WinModels(BaseModel):
    """Who answers the deals' win probabilities, and each model's holdout metrics (AUC,
    Brier score, calibration error and curve) beside the fixed rules' on the same deals."""

    in_charge: Literal["model", "rules"]
    closed_deals: int
    needed: int
    note: str | None
    models: list[WinModelMetrics]  # newest first


def win_models(services: Services, user: Actor) -> WinModels:
    authorize(user, Action.VIEW_WIN_MODELS)
    models = services.win_models.metrics(SHOWN)
    closed = WinHistory(services.engine).data_cut()[0]
    return WinModels(
        in_charge="model" if models else "rules",
        closed_deals=closed,
        needed=MIN_CLOSED_DEALS,
        note=None if models else rules_note(closed),
        models=models,
    )
