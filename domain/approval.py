"""Who must approve a contract: value and maximum discount decide the steps.

A band lists roles in order; a nested list is a group of roles asked at the same time
(`["sales_manager", ["finance", "admin"]]`); a band with no roles needs no approval. A step
not decided in time is reminded, then escalated to the next role up, who may decide it too.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .credit import CreditStanding, credit_check
from .errors import Conflict, NotApprover
from .money import Money
from .quotes import Quote
from .users import Actor, Role

ESCALATES_TO: dict[Role, Role] = {
    Role.SALES_REP: Role.SALES_MANAGER,
    Role.SALES_MANAGER: Role.ADMIN,
    Role.FINANCE: Role.ADMIN,
    Role.OPS: Role.ADMIN,
}


class ApprovalBand(BaseModel):
    """Deals within these limits need these roles, group after group."""

    model_config = ConfigDict(frozen=True)

    # Inclusive; None: no limit.
    max_discount_pct: Decimal | None = Field(default=None, ge=0, le=100)
    # Exclusive, net of tax, in the quote's currency; None: no limit.
    below_value: Decimal | None = Field(default=None, gt=0)
    roles: list[Role | list[Role]]  # empty: the quote goes to the customer unapproved

    @model_validator(mode="after")
    def _groups_not_empty(self) -> ApprovalBand:
        if any(isinstance(group, list) and not group for group in self.roles):
            raise ValueError("a parallel group needs at least one role")
        return self

    def covers(self, quote: Quote) -> bool:
        return self.covers_terms(quote.net_total, quote.max_discount_pct)

    def covers_terms(self, net: Decimal, max_discount_pct: Decimal) -> bool:
        if self.max_discount_pct is not None and max_discount_pct > self.max_discount_pct:
            return False
        return self.below_value is None or net < self.below_value

    def groups(self) -> list[list[Role]]:
        return [group if isinstance(group, list) else [group] for group in self.roles]

    def reaches_beyond(self, earlier: ApprovalBand) -> bool:
        """A rung up the ladder: no limit below the earlier band's and one above it (None is
        no limit). A band no wider than the one before would never be reached."""
        pairs = [
            (_limit(earlier.max_discount_pct), _limit(self.max_discount_pct)),
            (_limit(earlier.below_value), _limit(self.below_value)),
        ]
        return all(mine >= theirs for theirs, mine in pairs) and any(
            mine > theirs for theirs, mine in pairs
        )


def _limit(value: Decimal | None) -> Decimal:
    return Decimal("Infinity") if value is None else value


# shared/API.md v2: a line discounted by more than 10 % needs a sales manager; so does a
# large deal, and a very large or deeply discounted one finance and an admin too.
DEFAULT_BANDS = [
    ApprovalBand(max_discount_pct=Decimal(10), below_value=Decimal(50_000), roles=[]),
    ApprovalBand(
        max_discount_pct=Decimal(30), below_value=Decimal(250_000), roles=[Role.SALES_MANAGER]
    ),
    ApprovalBand(roles=[Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN]),
]


class StepStatus(StrEnum):
    WAITING = "waiting"  # an earlier group is still undecided
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # another step rejected the contract first


class ApprovalStep(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    role: Role
    group: int = 0
    status: StepStatus = StepStatus.WAITING
    requested_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    comment: str | None = None
    escalated_to: Role | None = None
    carried_over: bool = False  # approved in an earlier round, and nothing got worse since
    reason: str | None = None  # why this step is asked beyond the band (a credit check)
    subject: StepSubject = "contract"  # what is approved: the contract, or a cancellation

    def may_decide(self, role: Role | None) -> bool:
        return role is not None and role in (self.role, self.escalated_to)


class ApprovalPolicy(BaseModel):
    """The first band that covers a quote gives its approval steps; undecided steps are
    reminded and then escalated after these many policy days."""

    model_config = ConfigDict(frozen=True)

    bands: list[ApprovalBand] = Field(default_factory=lambda: list(DEFAULT_BANDS), min_length=1)
    remind_after_days: float = Field(default=1, gt=0)
    escalate_after_days: float = Field(default=2, gt=0)

    @field_validator("bands")
    @classmethod
    def _bands_ordered(cls, bands: list[ApprovalBand]) -> list[ApprovalBand]:
        """The first band that covers a quote decides, so each reaches beyond the one before."""
        for index in range(1, len(bands)):
            if not bands[index].reaches_beyond(bands[index - 1]):
                raise ValueError(
                    f"band {index} must reach beyond band {index - 1}: no limit lower and "
                    "one higher (bands are ordered from the narrowest to the widest)"
                )
        return bands

    @model_validator(mode="after")
    def _last_band_covers_all(self) -> ApprovalPolicy:
        last = self.bands[-1]
        if last.max_discount_pct is not None or last.below_value is not None:
            raise ValueError("the last band must have no limits: it takes every other deal")
        return self

    def steps_for(self, quote: Quote) -> list[ApprovalStep]:
        return self.steps_for_terms(quote.net_total, quote.max_discount_pct)

    def steps_for_change(self, current: Quote, changed: Quote) -> list[ApprovalStep]:
        """A change order is approved on its delta (a rise or a cut alike) and the largest
        discount it leaves."""
        delta = abs(changed.net_total - current.net_total)
        return self.steps_for_terms(delta, changed.max_discount_pct)

    def steps_for_terms(self, net: Decimal, max_discount_pct: Decimal) -> list[ApprovalStep]:
        band = next(
            (b for b in self.bands if b.covers_terms(net, max_discount_pct)), self.bands[-1]
        )
        steps: list[ApprovalStep] = []
        for group, roles in enumerate(band.groups()):
            steps += [
                ApprovalStep(index=len(steps) + i, role=role, group=group)
                for i, role in enumerate(roles)
            ]
        return steps


StepSubject = Literal["contract", "cancellation", "change_order"]


def cancellation_step(steps: list[ApprovalStep], reason: str, at: datetime) -> ApprovalStep:
    """Cancelling a deal that has invoices takes money back (credit notes): finance decides."""
    return ApprovalStep(
        index=max((s.index for s in steps), default=-1) + 1,
        role=Role.FINANCE,
        group=max((s.group for s in steps), default=-1) + 1,
        status=StepStatus.PENDING,
        requested_at=at,
        reason=f"cancellation: {reason}",
        subject="cancellation",
    )


def pending_cancellation(steps: list[ApprovalStep]) -> ApprovalStep | None:
    return next(
        (s for s in steps if s.subject == "cancellation" and s.status is StepStatus.PENDING), None
    )


def pending_step(steps: list[ApprovalStep]) -> ApprovalStep | None:
    return next((s for s in steps if s.status is StepStatus.PENDING), None)


def check_approver(
    steps: list[ApprovalStep], actor: Actor, owner: str, involved: Collection[str] = ()
) -> ApprovalStep:
    """The pending step `actor` may decide now, or the reason they may not. Nobody decides a
    step of a deal they own, or (`involved`) owned at any time or wrote a quote of."""
    if actor.username == owner:
        raise NotApprover("the deal owner cannot approve their own deal")
    if actor.username in involved:
        raise NotApprover("nobody approves a deal they owned or quoted")
    pending = [s for s in steps if s.status is StepStatus.PENDING]
    if not pending:
        raise Conflict("no approval step is pending")
    if any(s.decided_by == actor.username and not s.carried_over for s in steps):
        raise NotApprover("one person decides at most one step of a contract")
    for step in pending:
        if step.may_decide(actor.role):
            return step
    roles = ", ".join(sorted({s.role for s in pending}))
    raise NotApprover(f"the pending steps are for {roles}, not {actor.role}")


def terms_not_worse(before: Quote, after: Quote) -> bool:
    """Nothing an approver signed off got worse: the largest discount, the payment terms,
    the billing plan. Value is judged by the bands: a deal that grows into a higher band
    gets that band's extra roles, and they are asked."""
    return (
        after.currency == before.currency
        and after.max_discount_pct <= before.max_discount_pct
        and after.payment_terms_days <= before.payment_terms_days
        and after.billing_plan == before.billing_plan
    )


def carry_over(
    steps: list[ApprovalStep], earlier: list[ApprovalStep], before: Quote, after: Quote
) -> list[ApprovalStep]:
    """Keep the approvals of roles that approved the earlier contract when nothing got worse."""
    if not terms_not_worse(before, after):
        return steps
    approved = {s.role: s for s in earlier if s.status is StepStatus.APPROVED}
    kept = []
    for step in steps:
        if step.role in approved:
            was = approved[step.role]
            step = step.model_copy(
                update={
                    "status": StepStatus.APPROVED,
                    "requested_at": was.requested_at,
                    "decided_at": was.decided_at,
                    "decided_by": was.decided_by,
                    "comment": was.comment,
                    "carried_over": True,
                }
            )
        kept.append(step)
    return kept


def with_credit_check(
    steps: list[ApprovalStep], exposure: Decimal, total: Decimal, limit: Decimal, currency: str
) -> list[ApprovalStep]:
    """Over the credit limit (open receivables plus this deal), finance must approve: its
    band step says why, or a finance step is added after the others. (Deals started before
    per-customer credit; today's deals use `with_credit_standing`.)"""
    if exposure + total <= limit:
        return steps
    why = (
        f"credit check: {exposure} {currency} open plus {total} {currency} exceeds "
        f"the limit of {limit} {currency}"
    )
    return _with_finance_step(steps, why)


def with_credit_standing(
    steps: list[ApprovalStep], standing: CreditStanding, total: Money
) -> list[ApprovalStep]:
    """A customer on credit hold, or that this deal would take over its limit, needs finance
    (domain/credit.py `credit_check`): its band step says why, or a finance step is added."""
    why = credit_check(standing, total)
    return steps if why is None else _with_finance_step(steps, why)


def _with_finance_step(steps: list[ApprovalStep], why: str) -> list[ApprovalStep]:
    if any(s.role is Role.FINANCE for s in steps):
        return [
            s.model_copy(update={"reason": why}) if s.role is Role.FINANCE else s for s in steps
        ]
    group = max((s.group for s in steps), default=-1) + 1
    return [*steps, ApprovalStep(index=len(steps), role=Role.FINANCE, group=group, reason=why)]
