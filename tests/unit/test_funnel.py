"""The funnel counts a deal at every step up to the furthest it reached."""

from __future__ import annotations

from domain.kpis import FUNNEL, FUNNEL_STEP, funnel_reached
from domain.stages import DealStage


def test_a_deal_counts_at_every_step_before_the_furthest_it_reached():
    won, stuck_quoting = FUNNEL.index(DealStage.WON), FUNNEL.index(DealStage.QUOTING)
    assert funnel_reached({won: 1, stuck_quoting: 2}) == [3, 3, 1, 1, 1, 1]


def test_each_step_holds_at_most_the_one_before():
    reached = funnel_reached({step: step + 1 for step in range(len(FUNNEL))})
    assert reached == sorted(reached, reverse=True)


def test_optional_approval_counts_with_quoting_and_money_stages_with_fulfilment():
    assert FUNNEL_STEP[DealStage.AWAITING_APPROVAL] == FUNNEL_STEP[DealStage.QUOTING]
    assert FUNNEL_STEP[DealStage.COLLECTING] == FUNNEL_STEP[DealStage.FULFILLING]
    assert DealStage.LOST not in FUNNEL_STEP  # an ending is not a step forward
