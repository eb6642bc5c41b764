"""KPI definitions that need no database: rates, medians, stage probabilities, aging buckets.

The counting itself happens in SQL (adapters/storage/kpis.py); shared/API.md defines each KPI.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

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

AGING_BUCKETS = ("current", "1_30", "31_60", "61_90", "over_90")


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole to four places; None when there is nothing to divide."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def days_median(values: list[Decimal]) -> Decimal | None:
    return Decimal(median(values)).quantize(Decimal("0.01"), ROUND_HALF_UP) if values else None


def days_mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def aging_bucket(due: date, on: date) -> str:
    late = (on - due).days
    if late <= 0:
        return "current"
    if late <= 30:
        return "1_30"
    if late <= 60:
        return "31_60"
    if late <= 90:
        return "61_90"
    return "over_90"


def dso(receivables: Decimal, invoiced: Decimal, days: int) -> Decimal | None:
    """Days sales outstanding: open receivables at period end / invoiced in period x days."""
    if invoiced == 0:
        return None
    return (receivables / invoiced * days).quantize(Decimal("0.1"), ROUND_HALF_UP)
