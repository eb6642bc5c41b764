"""Who must approve a contract: value and maximum discount decide the steps, in order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from .errors import Conflict, NotApprover
from .quotes import Quote
from .users import Actor, Role


class ApprovalBand(BaseModel):
    """Deals within these limits need these roles, one after the other."""

    model_config = ConfigDict(frozen=True)

    max_discount_pct: Decimal | None = None  # inclusive; None: no limit
    below_value: Decimal | None = None  # exclusive, net of tax, in the quote's currency
    roles: list[Role] = Field(min_length=1)

    def covers(self, quote: Quote) -> bool:
        if self.max_discount_pct is not None and quote.max_discount_pct > self.max_discount_pct:
            return False
        return self.below_value is None or quote.net_total < self.below_value


DEFAULT_BANDS = [
    ApprovalBand(
        max_discount_pct=Decimal(10), below_value=Decimal(50_000), roles=[Role.SALES_MANAGER]
    ),
    ApprovalBand(
        max_discount_pct=Decimal(30),
        below_value=Decimal(250_000),
        roles=[Role.SALES_MANAGER, Role.FINANCE],
    ),
    ApprovalBand(roles=[Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN]),
]


class StepStatus(StrEnum):
    WAITING = "waiting"  # an earlier step is still undecided
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ApprovalStep(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    role: Role
    status: StepStatus = StepStatus.WAITING
    requested_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    comment: str | None = None


class ApprovalPolicy(BaseModel):
    """The first band that covers a quote gives its approval steps."""

    model_config = ConfigDict(frozen=True)

    bands: list[ApprovalBand] = Field(default_factory=lambda: list(DEFAULT_BANDS), min_length=1)

    def steps_for(self, quote: Quote) -> list[ApprovalStep]:
        band = next((b for b in self.bands if b.covers(quote)), self.bands[-1])
        return [ApprovalStep(index=i, role=role) for i, role in enumerate(band.roles)]


def pending_step(steps: list[ApprovalStep]) -> ApprovalStep | None:
    return next((s for s in steps if s.status is StepStatus.PENDING), None)


def check_approver(steps: list[ApprovalStep], actor: Actor, owner: str) -> ApprovalStep:
    """The step `actor` may decide now, or the reason they may not."""
    if actor.username == owner:
        raise NotApprover("the deal owner cannot approve their own deal")
    step = pending_step(steps)
    if step is None:
        raise Conflict("no approval step is pending")
    if actor.role is not step.role:
        raise NotApprover(f"the pending step is for {step.role}, not {actor.role}")
    return step
