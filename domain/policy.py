"""A deal's policy: every duration and threshold the workflow obeys, fixed at the deal's start.

Durations are counted in policy days; `day` is how long one is, so tests and demos run a
whole deal in seconds by shortening it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .approval import ApprovalPolicy
from .qualification import QualificationPolicy


class CollectionPolicy(BaseModel):
    """Dunning steps and write-off, in policy days after an invoice's due date."""

    model_config = ConfigDict(frozen=True)

    dunning_days: list[float] = Field(default_factory=lambda: [3.0, 10.0, 20.0])
    write_off_after_days: float = Field(default=45, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> CollectionPolicy:
        steps = [*self.dunning_days, self.write_off_after_days]
        if any(b <= a for a, b in zip(steps, steps[1:], strict=False)) or steps[0] < 0:
            raise ValueError("dunning steps and the write-off must come one after the other")
        return self


class DealPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    day: timedelta = Field(default=timedelta(days=1), gt=timedelta(0))
    delivery_due_days: int = Field(default=14, ge=1)
    quote_lapses_before_lost: int = Field(default=3, ge=1)
    approval: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    qualification: QualificationPolicy = Field(default_factory=QualificationPolicy)
    collection: CollectionPolicy = Field(default_factory=CollectionPolicy)
    # A customer finance gave no credit terms (domain/credit.py) has this limit, in the
    # currency of the deal that asks; one with an invoice unpaid this many days past its due
    # date is on credit hold.
    credit_limit: Decimal = Field(default=Decimal(100_000), ge=0)
    credit_hold_overdue_days: float = Field(default=30, ge=0)
    # Real time, not policy days: how long a command's effects may fail to be written (the
    # database away) before the deal shows itself blocked; it then tries again as often.
    unwritable_after: timedelta = Field(default=timedelta(minutes=2), gt=timedelta(0))

    def days(self, count: float) -> timedelta:
        return self.day * count

    def credit_grace(self) -> timedelta:
        """How long after its due date an invoice of this deal may stay unpaid before its
        customer is on credit hold."""
        return self.days(self.credit_hold_overdue_days)
