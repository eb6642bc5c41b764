"""How a deal is billed: the plans a quote may choose (see shared/API.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .catalogue import Percent


class OnDelivery(BaseModel):
    """An invoice for each delivery, for what it delivered."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["on_delivery"] = "on_delivery"


class Upfront(BaseModel):
    """One invoice for everything, at signature."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["upfront"] = "upfront"


class Milestone(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    percent: Annotated[Percent, Field(gt=0)]
    trigger: Literal["signature", "delivery_complete"]


class Milestones(BaseModel):
    """A share of the total at each milestone; the shares add up to 100 %."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["milestones"] = "milestones"
    milestones: list[Milestone] = Field(min_length=1, max_length=12)

    @model_validator(mode="after")
    def _adds_up(self) -> Milestones:
        if sum((m.percent for m in self.milestones), Decimal(0)) != Decimal(100):
            raise ValueError("milestone percents must add up to 100")
        return self


class Installments(BaseModel):
    """`count` equal invoices, the first at signature, then every `every_days`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["installments"] = "installments"
    count: int = Field(ge=2, le=60)
    every_days: int = Field(ge=1, le=366)


BillingPlan = Annotated[
    OnDelivery | Upfront | Milestones | Installments, Field(discriminator="kind")
]


# How often a subscription line is invoiced (shared/API.md: the quote line's billing_period).
BillingPeriod = Literal["monthly", "quarterly", "annual"]
PERIOD_MONTHS: dict[str, int] = {"monthly": 1, "quarterly": 3, "annual": 12}
