"""A deal's chance to be won as the forecast and the deal page show it: the learned model's
answer, or the fixed stage rule's while the rules stay in charge."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class WinScore(BaseModel):
    """One open deal's chance to be won, why, and who says so (the model or the rules)."""

    model_config = ConfigDict(frozen=True)

    probability: Decimal = Field(ge=0, le=1)
    reasons: list[str] = []
    source: Literal["model", "rules"]
    model_version: str | None = None
    note: str | None = None


class WinScorer(Protocol):
    """Whatever gives open deals their win probability (adapters/storage/win_scores.py)."""

    def scores(self, deal_ids: Sequence[str]) -> dict[str, WinScore]: ...
