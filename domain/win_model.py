"""Win probability learned from the company's own closed deals, with the reasons in words.

A logistic regression over the features of domain/win_features.py, calibrated (sigmoid, five
folds), judged on a time-based holdout against the fixed rules (the stage probabilities of
the weighted pipeline and the BANT lead score). Pure computation: no database, no clock.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .kpis import STAGE_PROBABILITY
from .stages import NEGOTIATING, DealStage
from .win_features import (
    CATEGORICAL,
    NUMERIC,
    NUMERIC_WORDS,
    ClosedDeal,
    DealAtStage,
    OwnerRecord,
    category_words,
    feature_rows,
)
from .win_metrics import Scores, score

# Below this many closed deals the model is not trusted and the fixed rules stay in charge.
MIN_CLOSED_DEALS = 200
# The latest closings held out to judge the model: it learns from the earlier ones only.
HOLDOUT_SHARE = 0.2
# The stages a sales forecast is about: before the customer signs.
PIPELINE_STAGES = NEGOTIATING | {DealStage.QUALIFYING}
REASONS = 3


class RulesStayInCharge(BaseModel):
    """Why no model was trained: the fixed rules keep answering."""

    model_config = ConfigDict(frozen=True)
    closed_deals: int
    needed: int
    reason: str


class WinModelMetrics(BaseModel):
    """How the model did on the holdout, beside the fixed rules on the same deals."""

    model_config = ConfigDict(frozen=True)
    version: str
    trained_at: AwareDatetime
    training_deals: int  # the model in charge learned from all of them
    holdout_trained_on: int  # the model judged learned from the deals closed before holdout_from
    holdout_deals: int
    holdout_from: AwareDatetime
    holdout_win_rate: float
    model: Scores
    rules: list[Scores]
    # The same, on the holdout's rows before signature only: the pipeline a forecast is
    # about. Rows of signed deals are nearly all won, which flatters the figures above
    # (None when those rows are too few or all of one outcome; models stored before had none).
    pipeline_deals: int = 0
    pipeline: Scores | None = None
    pipeline_rules: list[Scores] = []


class Prediction(BaseModel):
    """A deal's chance to be won, and the three features that moved it most, in words."""

    model_config = ConfigDict(frozen=True)
    probability: Decimal = Field(ge=0, le=1)
    reasons: list[str]
    model_version: str


def rule_probabilities(deals: Sequence[DealAtStage]) -> dict[str, list[float]]:
    """What the fixed rules say: the stage's weighted-pipeline probability, the BANT score."""
    return {
        "stage probability (domain/kpis.py)": [float(STAGE_PROBABILITY[d.stage]) for d in deals],
        "BANT score / 100 (domain/leads.py)": [d.score / 100 for d in deals],
    }


def _table(deals: Sequence[DealAtStage], record: OwnerRecord) -> np.ndarray:
    cats, nums = feature_rows(deals, record)
    return np.array([c + n for c, n in zip(cats, nums, strict=True)], dtype=object)


def _fit(deals: Sequence[ClosedDeal], record: OwnerRecord) -> Pipeline:
    columns = len(CATEGORICAL)
    pipeline = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [
                        (
                            "categories",
                            OneHotEncoder(handle_unknown="ignore"),
                            list(range(columns)),
                        ),
                        ("numbers", "passthrough", list(range(columns, columns + len(NUMERIC)))),
                    ],
                    sparse_threshold=0,
                ),
            ),
            ("scale", StandardScaler()),
            (
                "classify",
                CalibratedClassifierCV(
                    LogisticRegression(C=1.0, max_iter=2000), method="sigmoid", cv=5
                ),
            ),
        ]
    )
    pipeline.fit(_table(deals, record), np.array([deal.won for deal in deals]))
    return pipeline


class WinModel:
    """A trained win-probability model: predicts, explains, and serializes to bytes."""

    def __init__(self, pipeline: Pipeline, record: OwnerRecord, metrics: WinModelMetrics) -> None:
        self._pipeline = pipeline
        self._record = record
        self.metrics = metrics
        encoder = pipeline.named_steps["encode"].named_transformers_["categories"]
        self._features: list[tuple[str, str | None]] = [
            (column, str(category))
            for column, known in zip(CATEGORICAL, encoder.categories_, strict=True)
            for category in known
        ] + [(name, None) for name in NUMERIC]
        # The calibrated classifier averages one regression per fold; so do the reasons.
        folds = pipeline.named_steps["classify"].calibrated_classifiers_
        self._weights = np.mean([fold.estimator.coef_[0] for fold in folds], axis=0)

    @property
    def version(self) -> str:
        return self.metrics.version

    def probabilities(self, deals: Sequence[DealAtStage]) -> list[float]:
        table = _table(deals, self._record)
        return [float(p) for p in self._pipeline.predict_proba(table)[:, 1]]

    def predict(self, deal: DealAtStage) -> Prediction:
        table = _table([deal], self._record)
        probability = float(self._pipeline.predict_proba(table)[0, 1])
        scaled = self._pipeline[:-1].transform(table)[0]
        return Prediction(
            probability=Decimal(probability).quantize(Decimal("0.0001"), ROUND_HALF_UP),
            reasons=self._reasons(scaled),
            model_version=self.version,
        )

    def predict_many(self, deals: Sequence[DealAtStage]) -> list[Prediction]:
        """`predict` of each deal, in one pass of the pipeline (a whole pipeline at once)."""
        if not deals:
            return []
        table = _table(deals, self._record)
        probabilities = self._pipeline.predict_proba(table)[:, 1]
        scaled = self._pipeline[:-1].transform(table)
        return [
            Prediction(
                probability=Decimal(float(p)).quantize(Decimal("0.0001"), ROUND_HALF_UP),
                reasons=self._reasons(row),
                model_version=self.version,
            )
            for p, row in zip(probabilities, scaled, strict=True)
        ]

    def to_bytes(self) -> bytes:
        """For storing the model (a bytea column); read back only bytes we wrote ourselves."""
        return pickle.dumps(self)

    @staticmethod
    def from_bytes(data: bytes) -> WinModel:
        model = pickle.loads(data)
        if not isinstance(model, WinModel):
            raise TypeError("not a WinModel")
        return model

    def _reasons(self, scaled: np.ndarray) -> list[str]:
        # Each feature's pull on the log-odds against the average deal: weight x scaled value.
        # A category counts only when the deal has it ("not a referral" explains nothing).
        pulls = self._weights * scaled
        candidates = [
            (abs(float(pulls[index])), index)
            for index, (_, category) in enumerate(self._features)
            if category is None or scaled[index] > 0
        ]
        top = sorted(candidates, reverse=True)[:REASONS]
        return [self._words(index, float(pulls[index]), float(scaled[index])) for _, index in top]

    def _words(self, index: int, pull: float, scaled: float) -> str:
        column, category = self._features[index]
        if category is not None:
            return f"{category_words(column, category)} win {'more' if pull > 0 else 'less'} often"
        high, low = NUMERIC_WORDS[column]
        return f"{high if scaled > 0 else low} {'raises' if pull > 0 else 'lowers'} the odds"


def train(deals: Sequence[ClosedDeal], now: datetime) -> WinModel | RulesStayInCharge:
    """Judge the recipe on the latest closings (trained on the earlier ones), then train the
    model in charge on every deal closed by `now`. Too few closings: the rules stay."""
    closed = sorted((d for d in deals if d.closed_at <= now), key=lambda d: d.closed_at)
    if len(closed) < MIN_CLOSED_DEALS:
        return RulesStayInCharge(
            closed_deals=len(closed),
            needed=MIN_CLOSED_DEALS,
            reason=f"{len(closed)} closed deals, a model needs {MIN_CLOSED_DEALS}",
        )
    holdout_from = closed[int(len(closed) * (1 - HOLDOUT_SHARE))].closed_at
    earlier = [d for d in closed if d.closed_at < holdout_from]
    later = [d for d in closed if d.closed_at >= holdout_from]
    for part, name in ((earlier, "earlier"), (later, "holdout")):
        if len({d.won for d in part}) < 2:
            return RulesStayInCharge(
                closed_deals=len(closed),
                needed=MIN_CLOSED_DEALS,
                reason=f"the {name} deals are all won or all lost: nothing to learn or judge",
            )
    # Every closing is history for the owner's rate; each deal sees only what closed before it.
    record = OwnerRecord(closed)
    judged = _fit(earlier, record).predict_proba(_table(later, record))[:, 1]
    won = [d.won for d in later]
    rules = rule_probabilities(later)
    before = [i for i, d in enumerate(later) if d.stage in PIPELINE_STAGES]
    pipeline_won = [won[i] for i in before]
    judged_pipeline = len(set(pipeline_won)) == 2  # AUC needs wins and losses
    pipeline = (
        score("model", pipeline_won, [float(judged[i]) for i in before])
        if judged_pipeline
        else None
    )
    pipeline_rules = (
        [score(name, pipeline_won, [p[i] for i in before]) for name, p in rules.items()]
        if judged_pipeline
        else []
    )
    metrics = WinModelMetrics(
        version=f"lr-{now:%Y%m%dT%H%M%S}-{len(closed)}",
        trained_at=now,
        training_deals=len(closed),
        holdout_trained_on=len(earlier),
        holdout_deals=len(later),
        holdout_from=holdout_from,
        holdout_win_rate=sum(won) / len(won),
        model=score("model", won, [float(p) for p in judged]),
        rules=[score(name, won, p) for name, p in rules.items()],
        pipeline_deals=len(before),
        pipeline=pipeline,
        pipeline_rules=pipeline_rules,
    )
    return WinModel(_fit(closed, record), record, metrics)
