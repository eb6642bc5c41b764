"""Recorded histories of real deals replay on today's workflow code (no nondeterminism):
those of today's DealWorkflowV2; in accepted-first/ those of DealWorkflowV2 deals started
before approval came first (the `approve-before-proposing` patch); in before-schedule/ those
of deals started before billing on schedule (the `billing-on-schedule` patch); and in legacy/
those of deals started before the Step 9 reshape, which still run on the frozen DealWorkflow."""

from __future__ import annotations

import json

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.conftest import HISTORIES, run_alone
from worker import WORKFLOWS, workflow_runner

RECORDED = sorted(HISTORIES.rglob("*.json"))


ENDINGS = {
    "deal-won-on-delivery",
    "deal-disqualified",
    "deal-lost-quote-rejected",
    "deal-cancelled-while-quoting",
}


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        (
            HISTORIES,
            ENDINGS
            | {
                "invoice-paid",
                "deal-installments-on-schedule",
                "deal-subscription-billed-quarterly",
                "subscription-billed-quarterly",
            },
        ),
        (HISTORIES / "accepted-first", ENDINGS),
        (HISTORIES / "legacy", ENDINGS | {"invoice-paid"}),
    ],
    ids=["v2", "accepted-first", "legacy"],
)
def test_histories_are_recorded_for_every_ending_and_the_invoice_child(folder, expected):
    assert expected <= {path.stem for path in folder.glob("*.json")}


@pytest.mark.parametrize("path", RECORDED, ids=[str(p.relative_to(HISTORIES)) for p in RECORDED])
def test_a_recorded_history_replays(path):
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    run_alone(replayer.replay_workflow(history))
