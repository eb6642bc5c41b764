"""Retraining the win-probability model (issue 19), run weekly by the Temporal Schedule
`l2c-win-model-training-<task queue>` (workflows/win_model_training.py).

Idempotent: the model's version is derived from the data cut (how many deals had closed and
when the latest closed), so a run after no new closing, or a retried run, stores nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from temporalio import activity

from adapters.storage.win_history import WinHistory
from adapters.storage.win_models import WinModelStore
from domain.stage_probabilities import learned_stage_probabilities
from domain.win_model import MIN_CLOSED_DEALS, RulesStayInCharge, train

log = logging.getLogger(__name__)


def cut_version(closed: int, latest: datetime) -> str:
    """The version a model trained on this data cut gets."""
    return f"lr-{latest.astimezone(UTC):%Y%m%dT%H%M%S%f}-{closed}"


class WinModelActivities:
    """Trains the model from the deal tables and keeps it with its learned stage probabilities."""

    def __init__(
        self,
        history: WinHistory,
        store: WinModelStore,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.history, self.store = history, store
        self.clock = clock or (lambda: datetime.now(UTC))

    @activity.defn
    def train_win_model(self) -> str | None:
        """The version stored, or None: nothing new since the last model, or too few closings
        (the rules stay in charge)."""
        closed, latest = self.history.data_cut()
        if latest is None or closed < MIN_CLOSED_DEALS:
            # Counted in deals (as the deal page's note says), not in stage rows.
            log.info("win model not trained: %s closed deals of %s", closed, MIN_CLOSED_DEALS)
            return None
        version = cut_version(closed, latest)
        if self.store.has(version):
            return None
        model = train(self.history.closed_deals(), self.clock())
        if isinstance(model, RulesStayInCharge):
            log.info("win model not trained: %s", model.reason)
            return None
        model.metrics = model.metrics.model_copy(update={"version": version})
        self.store.save(model, learned_stage_probabilities(self.history.funnel_closings()))
        return version
