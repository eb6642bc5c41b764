"""Stage probabilities learned from the funnel: how often a closed deal that reached a stage
was won, smoothed toward the fixed STAGE_PROBABILITY of domain/kpis.py.

A stage few closed deals reached keeps close to its fixed probability; one thousands reached
says what the company's own deals did. Pure: the counting happens in SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from .kpis import FUNNEL_STEP, STAGE_PROBABILITY
from .stages import DealStage

# Weight (in deals) of the fixed probability: a stage reached by 20 closed deals is half
# learned, half fixed.
PRIOR_DEALS = 20


class Closings(NamedTuple):
    """Closed deals that got furthest to one funnel step, and how many of them were won."""

    closed: int
    won: int


def learned_stage_probabilities(
    furthest: Mapping[int, Closings], prior_deals: int = PRIOR_DEALS
) -> dict[DealStage, Decimal]:
    """P(won | reached the stage) for each stage of STAGE_PROBABILITY, from the closed deals
    by the furthest funnel step they reached (a deal reached every step up to its furthest):
    (won + prior x fixed) / (reached + prior), to four places."""
    out: dict[DealStage, Decimal] = {}
    for stage, fixed in STAGE_PROBABILITY.items():
        step = FUNNEL_STEP[stage]
        reached = sum(c.closed for s, c in furthest.items() if s >= step)
        won = sum(c.won for s, c in furthest.items() if s >= step)
        if reached + prior_deals == 0:
            out[stage] = fixed
            continue
        smoothed = (Decimal(won) + prior_deals * fixed) / (reached + prior_deals)
        out[stage] = smoothed.quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return out
