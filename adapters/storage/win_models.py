"""Trained win-probability models: each kept once under its version, the latest answers.

The model is pickled (domain.win_model.WinModel.to_bytes): only rows this code wrote are
ever read back, since unpickling runs code. Beside its holdout metrics (the `metrics` JSON)
a model keeps the stage probabilities learned from the funnel at the same data cut
(domain/stage_probabilities.py), under the key `stage_probabilities`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert

from domain.stages import DealStage
from domain.win_model import WinModel, WinModelMetrics

from .tables import win_models

_NEWEST = (win_models.c.trained_at.desc(), win_models.c.version.desc())


class WinModelStore:
    """Trained models with their holdout metrics, newest by training time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(
        self, model: WinModel, stage_probabilities: dict[DealStage, Decimal] | None = None
    ) -> None:
        """Keep `model` (once per version: a retried save writes nothing more)."""
        metrics = model.metrics
        document = metrics.model_dump(mode="json")
        if stage_probabilities is not None:
            document["stage_probabilities"] = {
                str(stage): str(p) for stage, p in stage_probabilities.items()
            }
        row = {
            "version": metrics.version,
            "trained_at": metrics.trained_at,
            "training_deals": metrics.training_deals,
            "metrics": document,
            "model": model.to_bytes(),
        }
        with self.engine.begin() as conn:
            conn.execute(insert(win_models).values(**row).on_conflict_do_nothing())

    def has(self, version: str) -> bool:
        query = select(win_models.c.version).where(win_models.c.version == version)
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def latest_version(self) -> str | None:
        """The version of the model in charge, without loading it."""
        query = select(win_models.c.version).order_by(*_NEWEST).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def latest(self) -> WinModel | None:
        """The most recently trained model; None while the rules are in charge."""
        query = select(win_models.c.model).order_by(*_NEWEST).limit(1)
        with self.engine.connect() as conn:
            data = conn.execute(query).scalar_one_or_none()
        return None if data is None else WinModel.from_bytes(data)

    def stage_probabilities(self) -> dict[DealStage, Decimal] | None:
        """The stage probabilities learned with the latest model; None without a model (or
        with a model stored before they were learned)."""
        query = select(win_models.c.metrics["stage_probabilities"]).order_by(*_NEWEST).limit(1)
        with self.engine.connect() as conn:
            learned = conn.execute(query).scalar_one_or_none()
        if not learned:
            return None
        return {DealStage(stage): Decimal(p) for stage, p in learned.items()}

    def metrics(self, limit: int = 20) -> list[WinModelMetrics]:
        """The holdout metrics of the latest `limit` models, newest first, without the models."""
        query = select(win_models.c.metrics).order_by(*_NEWEST).limit(limit)
        with self.engine.connect() as conn:
            return [WinModelMetrics.model_validate(m) for m in conn.execute(query).scalars()]


def learned_stage_probabilities_in(conn: Any) -> dict[DealStage, Decimal] | None:
    """WinModelStore.stage_probabilities, inside a connection the caller holds."""
    query = select(win_models.c.metrics["stage_probabilities"]).order_by(*_NEWEST).limit(1)
    learned = conn.execute(query).scalar_one_or_none()
    if not learned:
        return None
    return {DealStage(stage): Decimal(p) for stage, p in learned.items()}
