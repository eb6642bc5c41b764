"""Qualifying a lead: automatic decisions by score, follow-up timing, who owns a new lead."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.assignment import NoSeller, choose_owner
from domain.leads import LeadScore
from domain.qualification import (
    FollowUpStep,
    QualificationPolicy,
    QualifyDecision,
    auto_decision,
    follow_up_plan,
)


def decide(score: int, **policy) -> QualifyDecision | None:
    decided = auto_decision(LeadScore(score=score, reasons=[]), QualificationPolicy(**policy))
    return None if decided is None else decided.decision


@pytest.mark.parametrize(
    ("score", "decision"),
    [
        (100, QualifyDecision.QUALIFY),
        (90, QualifyDecision.QUALIFY),
        (89, None),
        (5, None),
        (4, QualifyDecision.DISQUALIFY),
        (0, QualifyDecision.DISQUALIFY),
    ],
)
def test_default_thresholds_qualify_at_90_and_disqualify_below_5(score, decision):
    assert decide(score) == decision


def test_an_automatic_decision_says_why():
    decided = auto_decision(LeadScore(score=95, reasons=[]), QualificationPolicy())
    assert decided is not None and decided.reason == "score 95 >= 90"


@pytest.mark.parametrize("score", [0, 50, 100])
def test_without_thresholds_a_human_always_decides(score):
    assert decide(score, auto_qualify_at=None, auto_disqualify_below=None) is None


def test_equal_thresholds_qualify_at_the_threshold():
    assert decide(50, auto_qualify_at=50, auto_disqualify_below=50) == QualifyDecision.QUALIFY


def test_disqualifying_above_the_qualifying_threshold_is_refused():
    with pytest.raises(ValidationError, match="must not exceed"):
        QualificationPolicy(auto_qualify_at=40, auto_disqualify_below=60)


@pytest.mark.parametrize(
    ("remind", "escalate", "close"), [(2, 2, 10), (4, 2, 10), (2, 10, 10), (2, 4, 3)]
)
def test_follow_ups_must_come_one_after_the_other(remind, escalate, close):
    with pytest.raises(ValidationError, match="one after the other"):
        QualificationPolicy(
            remind_after_days=remind, escalate_after_days=escalate, close_after_days=close
        )


def test_the_follow_up_plan_reminds_then_escalates_then_closes():
    policy = QualificationPolicy(remind_after_days=1.5, escalate_after_days=3, close_after_days=7)
    assert follow_up_plan(policy) == [
        (1.5, FollowUpStep.REMIND_OWNER),
        (3, FollowUpStep.ESCALATE),
        (7, FollowUpStep.CLOSE),
    ]


# --- who owns a new lead ---

REPS = ["rep1", "rep2", "rep3"]


def test_the_territory_rep_of_the_country_gets_the_lead_without_using_a_turn():
    assert choose_owner(REPS, {"DE": "rep2"}, "DE", turn=0) == ("rep2", False)


@pytest.mark.parametrize("turn", range(7))
def test_otherwise_the_reps_take_turns(turn):
    assert choose_owner(REPS, {"DE": "rep2"}, "FR", turn) == (REPS[turn % 3], True)


def test_a_lead_without_country_goes_to_the_next_rep_in_turn():
    assert choose_owner(REPS, {"DE": "rep2"}, None, 4) == ("rep2", True)


def test_a_territory_rep_who_is_no_longer_active_is_skipped():
    assert choose_owner(["rep1", "rep3"], {"DE": "rep2"}, "DE", 1) == ("rep3", True)


def test_without_active_reps_nobody_can_own_the_lead():
    with pytest.raises(NoSeller) as refused:
        choose_owner([], {"DE": "rep2"}, "DE", 0)
    assert refused.value.field == ("owner",)
