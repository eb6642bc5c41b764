"""The stages a deal moves through, in order, and which of them end it."""

from __future__ import annotations

from enum import StrEnum


class DealStage(StrEnum):
    QUALIFYING = "QUALIFYING"
    QUOTING = "QUOTING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    PROPOSED = "PROPOSED"  # the approved quote is with the customer
    AWAITING_SIGNATURE = "AWAITING_SIGNATURE"
    FULFILLING = "FULFILLING"
    INVOICING = "INVOICING"
    COLLECTING = "COLLECTING"
    WON = "WON"
    LOST = "LOST"
    DISQUALIFIED = "DISQUALIFIED"
    CANCELLED = "CANCELLED"
    WRITTEN_OFF = "WRITTEN_OFF"

    @property
    def is_closed(self) -> bool:
        return self in CLOSED_STAGES

    @property
    def is_invoiced(self) -> bool:
        """From here on money is owed, so ending the deal needs compensation."""
        return self in (DealStage.INVOICING, DealStage.COLLECTING)


# Before signature: the owner may still give the deal up (close-lost).
NEGOTIATING = frozenset(
    {
        DealStage.QUOTING,
        DealStage.AWAITING_APPROVAL,
        DealStage.PROPOSED,
        DealStage.AWAITING_SIGNATURE,
    }
)

CLOSED_STAGES = frozenset(
    {
        DealStage.WON,
        DealStage.LOST,
        DealStage.DISQUALIFIED,
        DealStage.CANCELLED,
        DealStage.WRITTEN_OFF,
    }
)
OPEN_STAGES = tuple(stage for stage in DealStage if stage not in CLOSED_STAGES)
