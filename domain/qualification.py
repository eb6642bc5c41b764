"""Qualifying a lead: automatic decisions by score, and the follow-up plan while a human
decides (remind the owner, escalate to managers, close the lead as lost)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .leads import LeadScore


class QualifyDecision(StrEnum):
    QUALIFY = "qualify"
    DISQUALIFY = "disqualify"


class QualificationPolicy(BaseModel):
    """Score thresholds and follow-up timing, in policy days from the lead's creation."""

    model_config = ConfigDict(frozen=True)

    auto_qualify_at: int | None = Field(default=90, ge=0, le=100)
    auto_disqualify_below: int | None = Field(default=5, ge=0, le=100)
    remind_after_days: float = Field(default=2, gt=0)
    escalate_after_days: float = Field(default=4, gt=0)
    close_after_days: float = Field(default=10, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> QualificationPolicy:
        if not self.remind_after_days < self.escalate_after_days < self.close_after_days:
            raise ValueError("remind, escalate and close must come one after the other")
        low, high = self.auto_disqualify_below, self.auto_qualify_at
        if low is not None and high is not None and low > high:
            raise ValueError("auto_disqualify_below must not exceed auto_qualify_at")
        return self


class AutoDecision(BaseModel):
    model_config = ConfigDict(frozen=True)
    decision: QualifyDecision
    reason: str


class FollowUpStep(StrEnum):
    REMIND_OWNER = "remind_owner"
    ESCALATE = "escalate"
    CLOSE = "close"


def auto_decision(score: LeadScore, policy: QualificationPolicy) -> AutoDecision | None:
    """Qualify at or above one threshold, disqualify below the other, else a human decides."""
    if policy.auto_qualify_at is not None and score.score >= policy.auto_qualify_at:
        return AutoDecision(
            decision=QualifyDecision.QUALIFY,
            reason=f"score {score.score} >= {policy.auto_qualify_at}",
        )
    if policy.auto_disqualify_below is not None and score.score < policy.auto_disqualify_below:
        return AutoDecision(
            decision=QualifyDecision.DISQUALIFY,
            reason=f"score {score.score} < {policy.auto_disqualify_below}",
        )
    return None


def follow_up_plan(policy: QualificationPolicy) -> list[tuple[float, FollowUpStep]]:
    """When (policy days after creation) each follow-up step falls due, in order."""
    return [
        (policy.remind_after_days, FollowUpStep.REMIND_OWNER),
        (policy.escalate_after_days, FollowUpStep.ESCALATE),
        (policy.close_after_days, FollowUpStep.CLOSE),
    ]
