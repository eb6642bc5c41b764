"""How good a win probability is on deals whose ending we know: ranking (AUC), accuracy
(Brier score) and calibration (do deals given 30 % win about 30 % of the time)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from sklearn.metrics import brier_score_loss, roc_auc_score

CALIBRATION_BINS = 10


class CalibrationPoint(BaseModel):
    """One bin of the calibration curve: deals given about `predicted`, of which `observed` won."""

    model_config = ConfigDict(frozen=True)
    predicted: float = Field(ge=0, le=1)
    observed: float = Field(ge=0, le=1)
    deals: int = Field(ge=1)


class Scores(BaseModel):
    """AUC, Brier score and expected calibration error of one way of predicting."""

    model_config = ConfigDict(frozen=True)
    name: str
    auc: float
    brier: float
    calibration_error: float
    calibration: list[CalibrationPoint]


def calibration_curve(won: Sequence[bool], p: Sequence[float]) -> list[CalibrationPoint]:
    """Equal-width bins over 0..1; the last bin includes 1. Empty bins are left out."""
    probabilities, outcomes = np.asarray(p, dtype=float), np.asarray(won, dtype=float)
    bins = np.minimum((probabilities * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    points = []
    for index in range(CALIBRATION_BINS):
        members = bins == index
        if members.any():
            points.append(
                CalibrationPoint(
                    predicted=float(probabilities[members].mean()),
                    observed=float(outcomes[members].mean()),
                    deals=int(members.sum()),
                )
            )
    return points


def expected_calibration_error(points: Sequence[CalibrationPoint]) -> float:
    """The gap between predicted and observed win rates, averaged over bins by their deals."""
    total = sum(point.deals for point in points)
    return sum(abs(point.predicted - point.observed) * point.deals for point in points) / total


def score(name: str, won: Sequence[bool], p: Sequence[float]) -> Scores:
    """Scores of the probabilities `p` against what happened; needs wins and losses both."""
    curve = calibration_curve(won, p)
    return Scores(
        name=name,
        auc=float(roc_auc_score(won, p)),
        brier=float(brier_score_loss(won, p)),
        calibration_error=expected_calibration_error(curve),
        calibration=curve,
    )
