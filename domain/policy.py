"""A deal's policy: every duration and threshold the workflow obeys, fixed at the deal's start.

`CompanyPolicy` is what an admin sets: stored as numbered versions (policy_versions), and
each new deal takes a copy of the current one. `DealPolicy` is that copy as the deal's
workflow carries it, with the version it came from and how long a policy day lasts there
(durations are counted in policy days, so tests and demos run a whole deal in seconds).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .approval import ApprovalPolicy
from .qualification import QualificationPolicy

FieldPath = tuple[str | int, ...]


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


class CompanyPolicy(BaseModel):
    """The policy an admin changes (`PUT /policy`): the business rules of every new deal.
    Fields are added with a default and never removed or renamed: running deals carry
    their copy in their workflow input (`DealPolicy`), and stored versions are read again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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
    # Renewals of subscriptions: the customer is told this many days before a term ends, and
    # the next term is priced this much higher.
    renewal_notice_days: int = Field(default=30, ge=1, le=365)
    renewal_uplift_pct: Decimal = Field(default=Decimal(3), ge=0, le=100)

    def for_deal(
        self, version: int | None, day: timedelta, unwritable_after: timedelta
    ) -> DealPolicy:
        """This policy as a new deal keeps it, with its version and the deal's day."""
        return DealPolicy(**dict(self), version=version, day=day, unwritable_after=unwritable_after)


class DealPolicy(CompanyPolicy):
    """One deal's copy of the company policy, fixed at its start."""

    # A workflow input written by a newer build still loads here (a rollback).
    model_config = ConfigDict(frozen=True, extra="ignore")

    # How long a policy day lasts for this deal: a deployment setting, or an admin's per
    # lead (demos); never part of the stored policy.
    day: timedelta = Field(default=timedelta(days=1), gt=timedelta(0))
    # Real time, not policy days: how long a command's effects may fail to be written (the
    # database away) before the deal shows itself blocked; it then tries again as often.
    # A deployment setting (L2C_UNWRITABLE_AFTER_SECONDS), not part of the stored policy.
    unwritable_after: timedelta = Field(default=timedelta(minutes=2), gt=timedelta(0))
    version: int | None = Field(default=None, ge=1)  # None: a deal started before versions

    def days(self, count: float) -> timedelta:
        return self.day * count

    def credit_grace(self) -> timedelta:
        """How long after its due date an invoice of this deal may stay unpaid before its
        customer is on credit hold."""
        return self.days(self.credit_hold_overdue_days)


class PolicyVersionSummary(BaseModel):
    """Who made one version of the company policy, when, and why."""

    version: int
    created_by: str
    created_at: datetime
    note: str | None = None


class PolicyVersion(PolicyVersionSummary):
    """One version of the company policy, whole."""

    policy: CompanyPolicy


class PolicyChange(BaseModel):
    """One field that a new version changed (a dotted path, list items by index)."""

    field: str
    before: Any = None
    after: Any = None


def policy_changes(before: CompanyPolicy, after: CompanyPolicy) -> list[PolicyChange]:
    """What changed from one version to the next, field by field, for the audit log."""
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    return [
        PolicyChange(field=".".join(map(str, path)), before=a, after=b)
        for path, a, b in _differences(old, new, ())
    ]


def _differences(old: Any, new: Any, path: FieldPath) -> Iterator[tuple[FieldPath, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            yield from _differences(old.get(key), new.get(key), (*path, key))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _differences(a, b, (*path, index))
    elif old != new:
        yield path, old, new


def missing_fields(model: BaseModel, path: FieldPath = ()) -> list[FieldPath]:
    """The fields a body left out, at any depth. A new version replaces the policy whole,
    so a field left out must not quietly fall back to its default."""
    missing: list[FieldPath] = []
    for name, info in type(model).model_fields.items():
        if name not in model.model_fields_set:
            missing.append((*path, name))
            continue
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            missing += missing_fields(value, (*path, name))
        elif get_origin(info.annotation) is list and _is_model(get_args(info.annotation)[0]):
            for index, item in enumerate(value):
                missing += missing_fields(item, (*path, name, index))
    return missing


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
