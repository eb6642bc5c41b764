"""A deal's policy: every duration and threshold the workflow obeys, fixed at the deal's start.

Durations are counted in policy days; `day` is how long one is, so tests and demos run a
whole deal in seconds by shortening it.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from .approval import ApprovalPolicy
from .qualification import QualificationPolicy


class DealPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    day: timedelta = Field(default=timedelta(days=1), gt=timedelta(0))
    delivery_due_days: int = Field(default=14, ge=1)
    quote_lapses_before_lost: int = Field(default=3, ge=1)
    approval: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    qualification: QualificationPolicy = Field(default_factory=QualificationPolicy)

    def days(self, count: float) -> timedelta:
        return self.day * count
