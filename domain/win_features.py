"""What the win-probability model may know about a deal at a stage, as numbers.

Only what was known when the deal stood at that stage: the lead (source, country, size, BANT
flags and score), the quote so far (discount, approvals needed), time spent, and the owner's
record from deals that closed *before* that moment (no leakage from the future).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from itertools import accumulate
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from .leads import LeadSource
from .stages import OPEN_STAGES, DealStage

Days = Annotated[float, Field(ge=0, le=3650)]


class DealAtStage(BaseModel):
    """A deal as it stood at `stage` at `decided_at`: the moment a probability is asked for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    deal_id: str
    owner: str
    source: LeadSource
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    amount: Annotated[Decimal, Field(ge=0, le=10**12)]
    score: int = Field(ge=0, le=100)
    budget_confirmed: bool = False
    decision_maker: bool = False
    need_described: bool = False
    timeline_days: int | None = Field(default=None, ge=0, le=3650)
    discount_pct: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(0)
    approvals_needed: int = Field(default=0, ge=0, le=20)
    stage: DealStage
    days_qualifying: Days = 0.0
    days_at_stage: Days = 0.0
    decided_at: AwareDatetime

    @model_validator(mode="after")
    def _open_stage(self) -> DealAtStage:
        if self.stage not in OPEN_STAGES:
            raise ValueError("stage must be an open stage: a closed deal has nothing to predict")
        return self


class ClosedDeal(DealAtStage):
    """A deal seen at a stage, and how it ended (won or not) and when."""

    won: bool
    closed_at: AwareDatetime

    @model_validator(mode="after")
    def _closed_after_decision(self) -> ClosedDeal:
        if self.closed_at < self.decided_at:
            raise ValueError("closed_at must not come before decided_at")
        return self


# Weight (in deals) of the company's overall win rate in an owner's smoothed win rate, so
# an owner with three closings is not rated 0 % or 100 %.
OWNER_PRIOR_DEALS = 10.0


class OwnerRecord:
    """Who won what and when: answers an owner's win rate as it was at any moment."""

    def __init__(self, closings: Sequence[ClosedDeal]) -> None:
        ordered = sorted(closings, key=lambda deal: deal.closed_at)
        self._times = [deal.closed_at for deal in ordered]
        self._wins = list(accumulate((int(deal.won) for deal in ordered), initial=0))
        by_owner: dict[str, list[ClosedDeal]] = {}
        for deal in ordered:
            by_owner.setdefault(deal.owner, []).append(deal)
        self._owner_times = {o: [d.closed_at for d in ds] for o, ds in by_owner.items()}
        self._owner_wins = {
            o: list(accumulate((int(d.won) for d in ds), initial=0)) for o, ds in by_owner.items()
        }

    def win_rate(self, owner: str, before: datetime) -> float:
        """The owner's win rate over deals closed strictly before `before`, smoothed toward
        the company's rate over the same closings (0.5 when nothing had closed yet)."""
        closed = bisect_left(self._times, before)
        company = self._wins[closed] / closed if closed else 0.5
        times = self._owner_times.get(owner, [])
        owner_closed = bisect_left(times, before)
        owner_wins = self._owner_wins[owner][owner_closed] if owner_closed else 0
        return (owner_wins + OWNER_PRIOR_DEALS * company) / (owner_closed + OWNER_PRIOR_DEALS)


CATEGORICAL = ("source", "country", "stage")
NUMERIC = (
    "log_amount",
    "score",
    "budget_confirmed",
    "decision_maker",
    "need_described",
    "buying_within_90_days",
    "buying_within_180_days",
    "discount_pct",
    "approvals_needed",
    "days_qualifying",
    "days_at_stage",
    "owner_win_rate",
)

# How a feature reads in a reason: (when above the usual, when below the usual).
NUMERIC_WORDS: dict[str, tuple[str, str]] = {
    "log_amount": ("a large deal", "a small deal"),
    "score": ("a high lead score", "a low lead score"),
    "budget_confirmed": ("a confirmed budget", "no confirmed budget"),
    "decision_maker": ("talking to the decision maker", "not talking to the decision maker"),
    "need_described": ("a described need", "no described need"),
    "buying_within_90_days": ("buying within 90 days", "no purchase planned within 90 days"),
    "buying_within_180_days": ("buying within 180 days", "no purchase planned within 180 days"),
    "discount_pct": ("a large discount", "a small discount"),
    "approvals_needed": ("more approvals needed", "fewer approvals needed"),
    "days_qualifying": ("a long qualification", "a quick qualification"),
    "days_at_stage": ("a long wait at this stage", "a short time at this stage"),
    "owner_win_rate": ("the owner's high win rate", "the owner's low win rate"),
}
STAGE_WORDS = {
    DealStage.QUALIFYING: "deals still qualifying",
    DealStage.QUOTING: "deals being quoted",
    DealStage.AWAITING_APPROVAL: "deals awaiting approval",
    DealStage.PROPOSED: "deals with the proposal out",
    DealStage.AWAITING_SIGNATURE: "deals awaiting signature",
}


def category_words(column: str, category: str) -> str:
    """The deals a category names, in words: "referral leads", "deals in DE"."""
    if column == "source":
        return f"{category.replace('_', ' ')} leads"
    if column == "country":
        return "deals with no country" if category == "unknown" else f"deals in {category}"
    return STAGE_WORDS.get(DealStage(category), f"deals at {category.lower().replace('_', ' ')}")


assert set(NUMERIC_WORDS) == set(NUMERIC)


def categories(deal: DealAtStage) -> list[str]:
    return [str(deal.source), deal.country or "unknown", str(deal.stage)]


def numbers(deal: DealAtStage, owner_win_rate: float) -> list[float]:
    timeline = deal.timeline_days
    return [
        math.log1p(float(deal.amount)),
        float(deal.score),
        float(deal.budget_confirmed),
        float(deal.decision_maker),
        float(deal.need_described),
        float(timeline is not None and timeline <= 90),
        float(timeline is not None and 90 < timeline <= 180),
        float(deal.discount_pct),
        float(deal.approvals_needed),
        deal.days_qualifying,
        deal.days_at_stage,
        owner_win_rate,
    ]


def feature_rows(
    deals: Sequence[DealAtStage], record: OwnerRecord
) -> tuple[list[list[str]], list[list[float]]]:
    """The categorical and numeric features of each deal, the owner's rate as of its stage."""
    cats = [categories(deal) for deal in deals]
    nums = [numbers(deal, record.win_rate(deal.owner, deal.decided_at)) for deal in deals]
    return cats, nums
