"""Trained win-probability models: each kept once under its version, the latest answers.

The model is pickled (domain.win_model.WinModel.to_bytes): only rows this code wrote are
ever read back, since unpickling runs code.
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert

from domain.win_model import WinModel, WinModelMetrics

from .tables import win_models


class WinModelStore:
    """Trained models with their holdout metrics, newest by training time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, model: WinModel) -> None:
        """Keep `model` (once per version: a retried save writes nothing more)."""
        metrics = model.metrics
        row = {
            "version": metrics.version,
            "trained_at": metrics.trained_at,
            "training_deals": metrics.training_deals,
            "metrics": metrics.model_dump(mode="json"),
            "model": model.to_bytes(),
        }
        with self.engine.begin() as conn:
            conn.execute(insert(win_models).values(**row).on_conflict_do_nothing())

    def latest(self) -> WinModel | None:
        """The most recently trained model; None while the rules are in charge."""
        query = (
            select(win_models.c.model)
            .order_by(win_models.c.trained_at.desc(), win_models.c.version.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            data = conn.execute(query).scalar_one_or_none()
        return None if data is None else WinModel.from_bytes(data)

    def metrics(self, limit: int = 20) -> list[WinModelMetrics]:
        """The holdout metrics of the latest `limit` models, newest first, without the models."""
        query = (
            select(win_models.c.metrics)
            .order_by(win_models.c.trained_at.desc(), win_models.c.version.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [WinModelMetrics.model_validate(m) for m in conn.execute(query).scalars()]
