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
    DealStage.AWAITING_APPROVAL: Decimal("0.50"),
    DealStage.PROPOSED: Decimal("0.60"),
    DealStage.AWAITING_SIGNATURE: Decimal("0.80"),
    DealStage.FULFILLING: Decimal("1"),
    DealStage.INVOICING: Decimal("1"),
    DealStage.COLLECTING: Decimal("1"),
}

# The funnel: how far a deal got, in order. A deal counts at every step up to the furthest
# it reached, so each step holds at most the one before (approval is optional in v2 and
# counts with quoting; invoicing and collecting count with fulfilment).
FUNNEL = (
    DealStage.QUALIFYING,
    DealStage.QUOTING,
    DealStage.PROPOSED,
    DealStage.AWAITING_SIGNATURE,
    DealStage.FULFILLING,
    DealStage.WON,
)
FUNNEL_STEP: dict[DealStage, int] = {
    **{stage: step for step, stage in enumerate(FUNNEL)},
    DealStage.AWAITING_APPROVAL: FUNNEL.index(DealStage.QUOTING),
    DealStage.INVOICING: FUNNEL.index(DealStage.FULFILLING),
    DealStage.COLLECTING: FUNNEL.index(DealStage.FULFILLING),
}


def funnel_reached(furthest: dict[int, int]) -> list[int]:
    """Deals that reached each funnel step, from how many deals got furthest to each step."""
    return [sum(n for step, n in furthest.items() if step >= index) for index in range(len(FUNNEL))]


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
