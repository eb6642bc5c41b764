"""A deal's policy, its stages, and the bodies the API accepts for its commands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.deal import (
    ApprovalDecision,
    CancelRequest,
    CustomerAnswer,
    Qualification,
    Reassignment,
    SignatureIn,
)
from domain.policy import DealPolicy
from domain.stages import CLOSED_STAGES, OPEN_STAGES, DealStage


def test_policy_days_are_counted_in_the_policy_day():
    assert DealPolicy(day=timedelta(seconds=2)).days(2.5) == timedelta(seconds=5)


def test_a_policy_day_has_a_length():
    with pytest.raises(ValidationError):
        DealPolicy(day=timedelta(0))


def test_a_deal_starts_with_the_default_approval_bands():
    assert len(DealPolicy().approval.bands) == 3


@pytest.mark.parametrize(
    "stage",
    [
        DealStage.WON,
        DealStage.LOST,
        DealStage.DISQUALIFIED,
        DealStage.CANCELLED,
        DealStage.WRITTEN_OFF,
    ],
)
def test_these_stages_end_a_deal(stage):
    assert stage.is_closed


def test_every_stage_is_either_open_or_closed():
    assert set(OPEN_STAGES) | CLOSED_STAGES == set(DealStage)
    assert not set(OPEN_STAGES) & CLOSED_STAGES


def test_open_stages_are_in_the_order_a_deal_moves_through_them():
    assert [stage.value for stage in OPEN_STAGES] == [
        "QUALIFYING",
        "QUOTING",
        "AWAITING_APPROVAL",
        "PROPOSED",
        "AWAITING_SIGNATURE",
        "FULFILLING",
        "INVOICING",
        "COLLECTING",
    ]


@pytest.mark.parametrize("stage", DealStage)
def test_money_is_owed_only_while_invoicing_and_collecting(stage):
    assert stage.is_invoiced is (stage in (DealStage.INVOICING, DealStage.COLLECTING))


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        (Qualification, {"decision": "qualify"}),
        (CustomerAnswer, {}),
        (ApprovalDecision, {"decision": "approve"}),
        (SignatureIn, {"name": "Ada Lovelace"}),
        (CancelRequest, {"reason": "budget cut"}),
        (Reassignment, {"owner": "rep2"}),
    ],
    ids=lambda item: getattr(item, "__name__", ""),
)
def test_a_command_body_refuses_unknown_fields(body, valid):
    body.model_validate(valid)
    with pytest.raises(ValidationError):
        body.model_validate({**valid, "stage": "WON"})


def test_an_approval_decision_is_approve_or_reject():
    with pytest.raises(ValidationError):
        ApprovalDecision.model_validate({"decision": "maybe"})


def test_a_cancellation_needs_a_reason():
    with pytest.raises(ValidationError):
        CancelRequest.model_validate({"reason": ""})
