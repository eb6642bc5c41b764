"""Temporal and Postgres restarted in the middle of deals; a business refusal that blocks a
deal until someone resumes it."""

from __future__ import annotations

from demo import Demo
from tests.conftest import PASSWORD, wait_for
from tests.faults.test_kill_worker import LINES, check_books

UPFRONT = {"kind": "upfront"}


def test_deals_finish_after_temporal_and_postgres_restart(fault_stack):
    stack = fault_stack({})
    demo = Demo(stack.base_url, PASSWORD, day_seconds=60, mail=stack.stack.smtp.path)
    deals = []
    for index in range(5):
        deal = demo.lead(f"Restart {index}", "rep1", "web")
        demo.quote(deal, "rep1", LINES, UPFRONT)
        demo.customer(deal, "rep1", "quote", "accept")
        demo.approve_all(deal)
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
    actions = [e["action"] for e in rep.get(f"/deals/{deal}/history").json()]
    assert (
        actions.index("deal.blocked")
        < actions.index("deal.resumed")
        < actions.index("invoice.issued")
    )
    assert rep.post(f"/deals/{deal}/resume").status_code == 409  # not blocked any more
