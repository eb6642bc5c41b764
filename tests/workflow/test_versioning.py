"""Changing a workflow that has running executions: without `workflow.patched` an old
history no longer replays; behind a patch it does (the recipe in docs/operations.md)."""

from __future__ import annotations

import json

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from activities.storage import DealEvent, StorageActivities
from domain.deal import DealInput, DealOutcome
from tests.conftest import HISTORIES, run_alone
from workflows.activity_options import STORAGE
from workflows.invoice import InvoiceWorkflow
from workflows.legacy.deal import DealWorkflow
from workflows.revenue import RevenueWorkflow

HISTORY = HISTORIES / "legacy" / "deal-won-on-delivery.json"


async def _audit_welcome(flow: DealWorkflow) -> None:
    # The change: one more activity right after the lead is recorded.
    await workflow.execute_activity_method(
        StorageActivities.record_deal_event,
        DealEvent(
            deal_id=flow._deal.deal_id,
            key="welcome",
            at=workflow.now(),
            actor="system",
            action="lead.welcomed",
        ),
        **STORAGE,
    )


@workflow.defn(name="DealWorkflow")
class UnpatchedChange(DealWorkflow):
    @workflow.init
    def __init__(self, deal: DealInput) -> None:
        super().__init__(deal)

    @workflow.run
    async def run(self, deal: DealInput) -> DealOutcome:
        return await super().run(deal)

    async def open_deal(self) -> bool:
        opened = await super().open_deal()
        await _audit_welcome(self)
        return opened


@workflow.defn(name="DealWorkflow")
class PatchedChange(UnpatchedChange):
    @workflow.init
    def __init__(self, deal: DealInput) -> None:
        super().__init__(deal)

    @workflow.run
    async def run(self, deal: DealInput) -> DealOutcome:
        return await DealWorkflow.run(self, deal)

    async def open_deal(self) -> bool:
        opened = await DealWorkflow.open_deal(self)
        if workflow.patched("welcome-event"):  # new deals only; old histories skip it
            await _audit_welcome(self)
        return opened


def replay(workflow_class: type) -> None:
    history = WorkflowHistory.from_json("deal", json.loads(HISTORY.read_text()))
    replayer = Replayer(
        workflows=[workflow_class, InvoiceWorkflow, RevenueWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    run_alone(replayer.replay_workflow(history))


def test_an_unpatched_change_breaks_the_replay_of_an_old_deal():
    with pytest.raises(NondeterminismError):
        replay(UnpatchedChange)


def test_the_same_change_behind_workflow_patched_replays():
    replay(PatchedChange)


def test_todays_workflow_replays_the_old_deal():
    replay(DealWorkflow)
