"""Change orders after a partial delivery: quantities added and removed, approved on their
delta, signed by the customer, then invoices, credit notes and revenue to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import wait_for
from tests.flows import lead_email, portal_token, quote_body, stage_of, to_fulfilment
from tests.workflow.test_collection import ledger
from workflows.ids import deal_workflow_id

D = Decimal
MILESTONES = {
    "kind": "milestones",
    "milestones": [
        {"percent": "30", "trigger": "signature"},
        {"percent": "70", "trigger": "delivery_complete"},
    ],
}


def deliver(ops, deal_id: str, reference: str, **quantities: str) -> None:
    lines = [{"sku": sku.replace("_", "-"), "quantity": q} for sku, q in quantities.items()]
    done = ops.post(f"/deals/{deal_id}/deliveries", json={"reference": reference, "lines": lines})
    assert done.status_code == 200, done.text


def change(rep, deal_id: str, lines: list[dict[str, str]], reason: str = "more sites") -> Any:
    return rep.post(f"/deals/{deal_id}/change-orders", json={"lines": lines, "reason": reason})


def sign_change(live, rep, deal_id: str, version: int) -> None:
    """Sign contract `version` through the link of its e-mail (the newest such e-mail may
    still be the earlier version's until the new one arrives)."""

    def link_to_version() -> str | None:
        token = portal_token(live, lead_email(rep, deal_id), "ready to sign")
        shown = rep.http.get(f"/portal/{token}", headers={"Accept": "application/json"})
        return token if shown.json().get("version") == version else None

    token = wait_for(link_to_version, 30, f"the e-mail of contract v{version}")
    signed = rep.http.post(f"/portal/{token}/sign", json={"name": "Ada Lovelace"})
    assert signed.status_code == 200, signed.text


def invoices(finance, deal_id: str) -> list[dict[str, Any]]:
    return list(finance.every("/invoices", params={"deal_id": deal_id}))


def pay_everything(finance, deal_id: str) -> None:
    for invoice in invoices(finance, deal_id):
        owed = D(invoice["total"]) - D(invoice["paid"]) - D(invoice["credited"])
        if owed > 0:
            paid = finance.post(
                "/payments",
                json={
                    "invoice_number": invoice["number"],
                    "amount": str(owed),
                    "currency": "EUR",
                    "reference": f"PAY-{invoice['number']}",
                },
            )
            assert paid.status_code == 201, paid.text


def test_a_change_that_adds_quantity_after_a_partial_delivery(live, as_user, keep_history):
    rep, manager, ops, finance = (as_user(u) for u in ("rep1", "manager", "ops", "finance"))
    deal_id = to_fulfilment(live, rep, manager)["deal_id"]  # 3 GW-100 at 5 %, 1 ONBOARD
    deliver(ops, deal_id, "D1", GW_100="1")
    lines = [
        {"sku": "GW-100", "quantity": "5", "discount_pct": "5"},
        {"sku": "ONBOARD", "quantity": "1"},
    ]
    answer = change(rep, deal_id, lines)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    # Two more gateways: 2 x 349.90 less 5 % = 664.81 net, 132.96 tax.
    assert (created["number"], created["status"], created["delta_total"]) == (
        1,
        "awaiting_signature",  # small, no deep discount: nothing to approve
        "797.77",
    )
    assert stage_of(rep, deal_id) == "FULFILLING"
    sign_change(live, rep, deal_id, version=2)
    state = rep.get(f"/deals/{deal_id}").json()
    assert [c["status"] for c in state["change_orders"]] == ["signed"]
    assert state["contract"]["version"] == 2 and state["contract"]["signature"]
    assert [(q["version"], q["status"]) for q in state["quotes"]] == [
        (1, "superseded"),
        (2, "accepted"),
    ]
    assert {line["sku"]: line["quantity"] for line in state["order"]["lines"]} == {
        "GW-100": "5",
        "ONBOARD": "1",
    }
    deliver(ops, deal_id, "D2", GW_100="4", ONBOARD="1")
    wait_for(lambda: stage_of(rep, deal_id) == "COLLECTING", 30, "COLLECTING")
    new_total = D(state["quotes"][1]["total"])
    assert sum(D(i["total"]) for i in invoices(finance, deal_id)) == new_total
    books = ledger(live, deal_id)
    net = new_total - D(state["quotes"][1]["tax_total"])
    assert (books["revenue"], books.get("deferred_revenue", 0)) == (-net, 0)
    pay_everything(finance, deal_id)
    wait_for(lambda: stage_of(rep, deal_id) == "WON", 30, "WON")
    history = [e["action"] for e in rep.every(f"/deals/{deal_id}/history")]
    for action in ("change_order.requested", "change_order.signed", "order.changed"):
        assert action in history, action
    keep_history(deal_workflow_id(deal_id), "deal-change-order-adds-while-fulfilling")


def test_a_change_that_removes_quantity_after_a_partial_delivery(live, as_user, keep_history):
    rep, manager, ops, finance = (as_user(u) for u in ("rep1", "manager", "ops", "finance"))
    deal_id = to_fulfilment(live, rep, manager, quote_body(billing_plan=MILESTONES))["deal_id"]
    (first,) = invoices(finance, deal_id)  # 30 % at signature
    deliver(ops, deal_id, "D1", GW_100="1")
    answer = change(
        rep,
        deal_id,
        [
            {"sku": "GW-100", "quantity": "2", "discount_pct": "5"},
            {"sku": "ONBOARD", "quantity": "1"},
        ],
        "one site less",
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["delta_total"] == "-398.88"  # one gateway less: 332.41 + 66.48 tax
    sign_change(live, rep, deal_id, version=2)
    # 30 % of the removed gateway was billed and never delivered: credited on that invoice.
    credited = wait_for(
        lambda: D(finance.get(f"/invoices/{first['number']}").json()["credited"]) or None,
        30,
        "the credit note",
    )
    # 30 % billed of three gateways (299.16 + 59.83 tax) less 30 % of two (199.44 + 39.89).
    assert credited == D("119.66")
    deliver(ops, deal_id, "D2", GW_100="1", ONBOARD="1")
    wait_for(lambda: stage_of(rep, deal_id) == "COLLECTING", 30, "COLLECTING")
    state = rep.get(f"/deals/{deal_id}").json()
    new_total = D(state["quotes"][1]["total"])
    billed = sum(D(i["total"]) - D(i["credited"]) for i in invoices(finance, deal_id))
    assert billed == new_total
    books = ledger(live, deal_id)
    net = new_total - D(state["quotes"][1]["tax_total"])
    assert -books["revenue"] - books.get("sales_allowances", 0) == net
    assert books.get("deferred_revenue", 0) == 0
    pay_everything(finance, deal_id)
    wait_for(lambda: stage_of(rep, deal_id) == "WON", 30, "WON")
    keep_history(deal_workflow_id(deal_id), "deal-change-order-removes-while-fulfilling")


def test_a_change_below_what_was_delivered_is_refused_naming_the_line(live, as_user):
    rep, manager, ops = as_user("rep1"), as_user("manager"), as_user("ops")
    deal_id = to_fulfilment(live, rep, manager)["deal_id"]
    deliver(ops, deal_id, "D1", GW_100="2")
    refused = change(
        rep, deal_id, [{"sku": "ONBOARD", "quantity": "1"}, {"sku": "GW-100", "quantity": "1"}]
    )
    assert refused.status_code == 422, refused.text
    assert "GW-100: 1 is below the 2 already delivered" in refused.text
    assert rep.get(f"/deals/{deal_id}").json()["change_orders"] == []


def test_a_deep_discount_needs_the_manager_and_a_rejection_keeps_the_contract(
    live, as_user, keep_history
):
    rep, manager, finance = as_user("rep1"), as_user("manager"), as_user("finance")
    deal_id = to_fulfilment(live, rep, manager)["deal_id"]
    lines = [
        {"sku": "GW-100", "quantity": "3", "discount_pct": "20"},
        {"sku": "ONBOARD", "quantity": "1"},
    ]
    created = change(rep, deal_id, lines, "price match")
    assert created.json()["status"] == "awaiting_approval", created.text
    assert any(a["deal_id"] == deal_id for a in manager.every("/approvals"))
    assert (
        finance.post(f"/deals/{deal_id}/approvals", json={"decision": "approve"}).status_code == 403
    )
    again = change(rep, deal_id, lines, "twice")
    assert again.status_code == 409  # one open change at a time
    rejected = manager.post(
        f"/deals/{deal_id}/approvals", json={"decision": "reject", "comment": "too deep"}
    )
    assert rejected.status_code == 200, rejected.text
    state = rep.get(f"/deals/{deal_id}").json()
    assert [(c["status"], c["note"]) for c in state["change_orders"]] == [("rejected", "too deep")]
    assert state["contract"]["version"] == 1
    assert [(q["version"], q["status"]) for q in state["quotes"]] == [
        (1, "accepted"),
        (2, "rejected"),
    ]
    wait_for(lambda: live.mail_to("rep1@", "Change order 1"), 30, "the owner told")
    keep_history(deal_workflow_id(deal_id), "deal-change-order-rejected-while-fulfilling")
