"""Stage probabilities learned from the funnel, checked by hand."""

from decimal import Decimal

from domain.kpis import STAGE_PROBABILITY
from domain.stage_probabilities import Closings, learned_stage_probabilities
from domain.stages import DealStage


def test_won_share_of_deals_that_reached_each_stage_smoothed_toward_the_fixed_one():
    # 10 lost while qualifying, 10 lost after a quote, 20 won (reached every step, WON is 5).
    learned = learned_stage_probabilities(
        {0: Closings(10, 0), 1: Closings(10, 0), 5: Closings(20, 20)}, prior_deals=20
    )
    assert learned == {
        DealStage.QUALIFYING: Decimal("0.3667"),  # (20 + 20 x 0.10) / (40 + 20) = 22/60
        DealStage.QUOTING: Decimal("0.5200"),  # (20 + 20 x 0.30) / (30 + 20)
        DealStage.AWAITING_APPROVAL: Decimal("0.6000"),  # counts with quoting: (20 + 10) / 50
        DealStage.PROPOSED: Decimal("0.8000"),  # (20 + 12) / 40
        DealStage.AWAITING_SIGNATURE: Decimal("0.9000"),  # (20 + 16) / 40
        DealStage.FULFILLING: Decimal("1.0000"),
        DealStage.INVOICING: Decimal("1.0000"),
        DealStage.COLLECTING: Decimal("1.0000"),
    }


def test_no_closings_keep_the_fixed_probabilities():
    assert learned_stage_probabilities({}) == STAGE_PROBABILITY
    assert learned_stage_probabilities({}, prior_deals=0) == STAGE_PROBABILITY


def test_many_closings_outweigh_the_prior():
    learned = learned_stage_probabilities({0: Closings(9_000, 0), 5: Closings(1_000, 1_000)})
    assert learned[DealStage.QUALIFYING] == Decimal("0.1000")  # 1002/10020
    assert learned[DealStage.QUOTING] == Decimal("0.9863")  # (1000 + 6) / 1020 = 0.98627..
