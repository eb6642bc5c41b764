"""Deals whose change order was asked before `change-orders-after-delivery` replay: its
approvers' reminders (new timers) are behind the patch; without it the history breaks."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from tests.conftest import HISTORIES, run_alone
from worker import WORKFLOWS
from workflows.deal.change_orders import AFTER_DELIVERY

# A change order asked a manager, who rejected it: recorded before the patch.
HISTORY = HISTORIES / "deal-change-order-rejected-while-fulfilling.json"


def replay() -> None:
    history = WorkflowHistory.from_json("deal", json.loads(HISTORY.read_text()))
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    run_alone(replayer.replay_workflow(history))


def unpatched(real: Callable[[str], bool]) -> Callable[[str], bool]:
    """`workflow.patched` as if the change had been made without a patch."""
    return lambda patch_id: True if patch_id == AFTER_DELIVERY else real(patch_id)


def test_the_follow_ups_of_a_change_approval_without_the_patch_break_an_old_deal(monkeypatch):
    monkeypatch.setattr(workflow, "patched", unpatched(workflow.patched))
    with pytest.raises(NondeterminismError):
        replay()


def test_behind_the_patch_the_old_deal_replays():
    replay()
