"""Temporal and Postgres restarted in the middle of deals; a business refusal that blocks a
deal until someone resumes it."""

from __future__ import annotations

import asyncio

from temporalio.service import RPCError

from adapters.temporal import connect_temporal
from demo import Demo
from tests.conftest import PASSWORD, wait_for
from tests.faults.test_kill_worker import LINES, check_books
from workflows.deal import DealWorkflow
from workflows.ids import deal_workflow_id

UPFRONT = {"kind": "upfront"}


def test_deals_finish_after_temporal_and_postgres_restart(fault_stack):
    stack = fault_stack({})
    demo = Demo(stack.base_url, PASSWORD, day_seconds=60, mail=stack.stack.smtp.path)
    deals = []
    for index in range(5):
        deal = demo.lead(f"Restart {index}", "rep1", "web")
        demo.quote(deal, "rep1", LINES, UPFRONT)
        demo.approve_all(deal)
        demo.customer(deal, "rep1", "quote", "accept")
        deals.append(deal)
    servers = stack.stack
    assert servers.temporal is not None and servers.postgres is not None
    servers.temporal.stop()
    servers.postgres.kill()  # a crash: no checkpoint, recovery on start
    servers.postgres.start()
    servers.temporal.start()  # the same SQLite file: every workflow is still there
    for deal in deals:
        demo.customer(deal, "rep1", "contract", "sign", {"name": "After Restart"})
        demo.deliver(
            deal, "D1", [{"sku": "GW-100", "quantity": "4"}, {"sku": "SENSOR-T", "quantity": "5"}]
        )
        demo.wait(deal, {"COLLECTING"}, timeout=300)
        demo.pay(deal)
    for deal in deals:
        demo.wait(deal, {"WON"}, timeout=300)
    check_books(stack, [(deal, 1) for deal in deals], kills=0)


def test_a_refused_step_blocks_the_deal_until_resumed(fault_stack):
    stack = fault_stack({"L2C_CHAOS_LEDGER": "", "L2C_CHAOS_REFUSE": "issue_invoice"})
    demo = Demo(stack.base_url, PASSWORD, day_seconds=60, mail=stack.stack.smtp.path)
    deal = demo.lead("Blocked Ltd", "rep1", "web")
    demo.quote(deal, "rep1", LINES, UPFRONT)
    demo.to_signed(deal, "rep1")
    rep = stack.client("rep1")
    state = wait_for(
        lambda: (s := rep.get(f"/deals/{deal}").json())["blocked"] and s,
        60,
        "the deal to show it is blocked",
    )
    assert "issue_invoice" in state["blocked"] and state["invoices"] == []
    wait_for(
        lambda: any("is blocked" in str(m["Subject"]) for m in stack.stack.smtp.messages()),
        30,
        "the owner's e-mail",
    )
    assert stack.client("finance").post(f"/deals/{deal}/resume").status_code == 403
    assert rep.post(f"/deals/{deal}/resume").json()["stage"] == "FULFILLING"
    state = rep.get(f"/deals/{deal}").json()
    assert state["blocked"] is None and len(state["invoices"]) == 1
    actions = [
        e["action"]
        for e in rep.get(f"/deals/{deal}/history", params={"limit": 200}).json()["items"]
    ]
    assert (
        actions.index("deal.blocked")
        < actions.index("deal.resumed")
        < actions.index("invoice.issued")
    )
    assert rep.post(f"/deals/{deal}/resume").status_code == 409  # not blocked any more


def test_a_deal_that_cannot_write_shows_itself_blocked_and_goes_on_by_itself(fault_stack):
    """Postgres away when a deal's timer fires (the owner's reminder): after the policy's
    patience the deal says it is blocked; once Postgres is back it writes and goes on."""
    stack = fault_stack({"L2C_UNWRITABLE_AFTER_SECONDS": "2"})
    demo = Demo(stack.base_url, PASSWORD, day_seconds=10, mail=stack.stack.smtp.path)
    deal = demo.lead("Outage", "rep1", "web")  # waits to be qualified: reminded in 20 s
    servers = stack.stack
    assert servers.postgres is not None
    servers.postgres.kill()
    try:
        blocked = wait_for(lambda: _blocked(stack, deal), 90, "the deal to show it is blocked")
        assert blocked is not None and "could not be written" in blocked
    finally:
        servers.postgres.start()
    rep = stack.client("rep1")

    def written() -> list[str]:
        actions = [
            e["action"]
            for e in rep.get(f"/deals/{deal}/history", params={"limit": 200}).json()["items"]
        ]
        return actions if "lead.reminder_sent" in actions else []

    actions = wait_for(written, 90, "the reminder to be written")
    assert actions.index("deal.blocked") < actions.index("deal.resumed")
    assert rep.get(f"/deals/{deal}").json()["blocked"] is None


def _blocked(stack, deal: str) -> str | None:
    """What the deal's own state says (Postgres is away: ask the workflow)."""

    async def query() -> str | None:
        client = await connect_temporal(stack.settings)
        handle = client.get_workflow_handle(deal_workflow_id(deal))
        return (await handle.query(DealWorkflow.state)).blocked

    try:
        return asyncio.run(query())
    except RPCError:  # the deal is busy trying to write: ask again
        return None
