"""A deal started on the workflow code from before the Step 9 reshape finishes after the
upgrade: the old worker runs it to fulfilment, is stopped, and today's worker (which keeps
the old type registered) takes it to WON, invoices, payments and audit chain intact."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from domain.deal import DealInput
from domain.leads import Lead
from domain.policy import DealPolicy
from tests.conftest import wait_for
from tests.flows import V1_APPROVAL, lead_body, lead_email, portal_token, quote_body
from worker import Effects, make_worker, workflow_runner
from workflows.ids import deal_workflow_id
from workflows.invoice import InvoiceWorkflow
from workflows.legacy.deal import DealWorkflow as LegacyDealWorkflow
from workflows.revenue import RevenueWorkflow

MILESTONES = {
    "kind": "milestones",
    "milestones": [
        {"percent": "30", "trigger": "signature"},
        {"percent": "70", "trigger": "delivery_complete"},
    ],
}


def start_on_old_code(live, queue: str, owner: str) -> str:
    deal = DealInput(
        deal_id=uuid.uuid4().hex,
        lead=Lead.model_validate(lead_body()),
        owner=owner,
        created_by=owner,
        policy=DealPolicy(approval=V1_APPROVAL),
    )

    async def start() -> None:
        operation = WithStartWorkflowOperation(
            LegacyDealWorkflow.run,
            deal,
            id=deal_workflow_id(deal.deal_id),
            task_queue=queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        await live.client.execute_update_with_start_workflow(
            LegacyDealWorkflow.opened, start_workflow_operation=operation
        )

    live.run(start())
    return deal.deal_id


async def old_release(live, settings) -> Worker:
    """A worker of the old release: only the old deal workflow (made on the client's loop)."""
    return Worker(
        live.client,
        task_queue=settings.task_queue,
        workflows=[LegacyDealWorkflow, InvoiceWorkflow, RevenueWorkflow],
        activities=Effects(settings, live.engine).activities,
        activity_executor=ThreadPoolExecutor(4),
        workflow_runner=workflow_runner(),
    )


async def todays_release(live, settings):
    return make_worker(live.client, settings, live.engine)


def test_a_deal_started_on_the_old_workflow_finishes_on_the_new_worker(live, as_user):
    rep, manager, ops, finance = (as_user(u) for u in ("rep1", "manager", "ops", "finance"))
    queue = f"upgrade-{uuid.uuid4().hex[:8]}"
    settings = live.settings.model_copy(update={"task_queue": queue})
    old = live.run(old_release(live, settings))
    running = live.loop.submit(old.run())
    deal = start_on_old_code(live, queue, "rep1")
    assert rep.post(f"/deals/{deal}/qualify", json={"decision": "qualify"}).status_code == 200
    quoted = rep.post(f"/deals/{deal}/quotes", json=quote_body(billing_plan=MILESTONES))
    assert quoted.status_code == 201, quoted.text
    token = portal_token(live, lead_email(rep, deal), "Your quote")
    assert rep.http.post(f"/portal/{token}/accept").json()["stage"] == "AWAITING_APPROVAL"
    assert manager.post(f"/deals/{deal}/approvals", json={"decision": "approve"}).status_code == 200
    token = portal_token(live, lead_email(rep, deal), "ready to sign")
    signed = rep.http.post(f"/portal/{token}/sign", json={"name": "Before Upgrade"})
    assert signed.json()["stage"] == "FULFILLING"
    assert len(rep.get(f"/deals/{deal}").json()["invoices"]) == 1  # the signature milestone

    live.run(old.shutdown())  # the upgrade: the old worker goes, today's comes
    running.result(30)
    new, relay = live.run(todays_release(live, settings))
    relay.start()
    running = live.loop.submit(new.run())
    try:
        delivered = ops.post(
            f"/deals/{deal}/deliveries",
            json={
                "reference": "AFTER-UPGRADE",
                "lines": [{"sku": "GW-100", "quantity": "3"}, {"sku": "ONBOARD", "quantity": "1"}],
            },
        )
        assert delivered.status_code == 200, delivered.text
        wait_for(
            lambda: rep.get(f"/deals/{deal}").json()["stage"] == "COLLECTING", 60, "COLLECTING"
        )
        for invoice in finance.every("/invoices", params={"deal_id": deal}):
            paid = finance.post(
                "/payments",
                json={
                    "invoice_number": invoice["number"],
                    "amount": invoice["total"],
                    "currency": "EUR",
                    "reference": f"UPG-{invoice['number']}",
                },
            )
            assert paid.status_code == 201, paid.text
        wait_for(lambda: rep.get(f"/deals/{deal}").json()["stage"] == "WON", 60, "WON")
        described = live.run(live.client.get_workflow_handle(deal_workflow_id(deal)).describe())
        assert described.workflow_type == "DealWorkflow"  # it stayed on the old code
        assert rep.get(f"/deals/{deal}/history/verify").json()["intact"] is True
    finally:
        live.run(new.shutdown())
        relay.stop()
        running.result(30)


def test_new_deals_start_on_the_reshaped_workflow(live, as_user):
    deal = as_user("rep1").post("/leads", json=lead_body()).json()["deal_id"]
    described = live.run(live.client.get_workflow_handle(deal_workflow_id(deal)).describe())
    assert described.workflow_type == "DealWorkflowV2"
