"""KPI definitions that need no database: rates, stage probabilities, aging buckets.

The counting itself happens in SQL (adapters/storage/kpis.py); shared/API.md defines each KPI.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from .stages import DealStage

# How likely an open deal at each stage is to be won, for the weighted pipeline.
STAGE_PROBABILITY: dict[DealStage, Decimal] = {
    DealStage.QUALIFYING: Decimal("0.10"),
    DealStage.QUOTING: Decimal("0.30"),
    DealStage.AWAITING_APPROVAL: Decimal("0.60"),
    DealStage.AWAITING_SIGNATURE: Decimal("0.80"),
    DealStage.FULFILLING: Decimal("1"),
    DealStage.INVOICING: Decimal("1"),
    DealStage.COLLECTING: Decimal("1"),
}

# The funnel: how far a deal got, in order.
FUNNEL = (
    DealStage.QUALIFYING,
    DealStage.QUOTING,
    DealStage.AWAITING_APPROVAL,
    DealStage.AWAITING_SIGNATURE,
    DealStage.FULFILLING,
    DealStage.WON,
)


class AgingBucket(NamedTuple):
    """Open receivables this many days past due, at most (None: no upper bound)."""

    name: str
    max_days_late: int | None


# AR aging (shared/API.md): the one definition, read by the SQL of the KPIs and invoice views.
AGING: tuple[AgingBucket, ...] = (
    AgingBucket("current", 0),
    AgingBucket("1_30", 30),
    AgingBucket("31_60", 60),
    AgingBucket("61_90", 90),
    AgingBucket("over_90", None),
)
AGING_BUCKETS = tuple(bucket.name for bucket in AGING)


def days_past_due(due: date, on: date) -> int:
    """Whole days between the due date and `on` (0 or less: not due yet)."""
    return (on - due).days


def aging_bucket(days_late: int) -> str:
    """The AR-aging bucket of an invoice `days_late` days past its due date."""
    for bucket in AGING:
        if bucket.max_days_late is None or days_late <= bucket.max_days_late:
            return bucket.name
    raise AssertionError("the last aging bucket has no upper bound")


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole to four places; None when there is nothing to divide."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def dso(receivables: Decimal, invoiced: Decimal, days: int) -> Decimal | None:
    """Days sales outstanding: open receivables at period end / invoiced in period x days."""
    if invoiced == 0:
        return None
    return (receivables / invoiced * days).quantize(Decimal("0.1"), ROUND_HALF_UP)
