"""Open deals' win probabilities: the latest trained model's, or the stage rule's while the
rules stay in charge (no model yet: fewer closed deals than a model needs).

A handful of statements for any number of deals (the model's version; the deals, their stage
changes, quotes and approval steps; the closings count when no model). The model itself is
loaded once per version and kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine

from domain.kpis import STAGE_PROBABILITY
from domain.win_features import STAGE_WORDS, DealAtStage
from domain.win_model import MIN_CLOSED_DEALS, WinModel
from domain.win_score import WinScore

from .win_history import WinHistory
from .win_models import WinModelStore


def rules_note(closed_deals: int) -> str:
    return f"rules stay in charge: {closed_deals} closed deals, the model needs {MIN_CLOSED_DEALS}"


def rule_score(deal: DealAtStage, note: str | None) -> WinScore:
    """The fixed stage probability of the weighted pipeline (domain/kpis.py)."""
    probability = STAGE_PROBABILITY[deal.stage].quantize(Decimal("0.0001"))
    words = STAGE_WORDS.get(deal.stage, f"deals at {deal.stage.lower().replace('_', ' ')}")
    return WinScore(
        probability=probability,
        reasons=[f"{words} count {probability:.0%} by the fixed stage rule"],
        source="rules",
        model_version=None,
        note=note,
    )


class WinScorer:
    """Scores open deals with the latest model (cached per version), else the stage rule."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self.history = WinHistory(engine)
        self.models = WinModelStore(engine)
        self.clock = clock or (lambda: datetime.now(UTC))
        self._model: WinModel | None = None
        self._lock = threading.Lock()

    def scores(self, deal_ids: Sequence[str]) -> dict[str, WinScore]:
        """The win score of each of `deal_ids` that is open; closed or unknown ones are left out."""
        if not deal_ids:
            return {}
        model = self._latest_model()
        found = self.history.open_deals(deal_ids, self.clock())
        if model is None:
            note = rules_note(self.history.data_cut()[0]) if found else None
            return {deal_id: rule_score(deal, note) for deal_id, deal in found.items()}
        predictions = model.predict_many(list(found.values()))
        return {
            deal_id: WinScore(
                probability=prediction.probability,
                reasons=prediction.reasons,
                source="model",
                model_version=prediction.model_version,
                note=None,
            )
            for deal_id, prediction in zip(found, predictions, strict=True)
        }

    def _latest_model(self) -> WinModel | None:
        version = self.models.latest_version()
        if version is None:
            return None
        with self._lock:
            if self._model is None or self._model.version != version:
                loaded = self.models.latest()
                self._model = loaded
            return self._model
