"""The authorization table, walked: every role against every endpoint, on its own deals and
on others'. Allowed calls work; refused ones are 403, or 404 where the deal is not the
caller's to see, and change nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.flows import create_lead, lead_body, quote_body, to_approval, to_fulfilment, to_quoting

ACTORS = ("rep1", "rep2", "manager", "finance", "ops", "admin")  # rep1 owns the deals


@dataclass
class Case:
    name: str
    setup: Callable[[Any, Any], dict[str, Any]]
    call: Callable[[Any, dict[str, Any]], Any]
    allowed: set[str]
    hidden_from: frozenset[str] = frozenset({"rep2"})  # 404: not theirs to see


def lead(live, as_user):
    return {"deal": create_lead(as_user("rep1"))["deal_id"]}


def quoting(live, as_user):
    return {"deal": to_quoting(as_user("rep1"))["deal_id"]}


def quoted(live, as_user):
    deal = to_quoting(as_user("rep1"))["deal_id"]
    as_user("rep1").post(f"/deals/{deal}/quotes", json=quote_body())
    return {"deal": deal}


def approving(live, as_user):
    return {"deal": to_approval(live, as_user("rep1"))["deal_id"]}


def fulfilling(live, as_user):
    deal = to_fulfilment(
        live, as_user("rep1"), as_user("manager"), quote_body(billing_plan={"kind": "upfront"})
    )["deal_id"]
    number = as_user("finance").every(f"/invoices?deal_id={deal}")[0]["number"]
    return {"deal": deal, "invoice": number}


def nothing(live, as_user):
    return {}


def get(path: str) -> Callable[[Any, dict[str, Any]], Any]:
    """A call that GETs `path`, whatever the deal."""
    return lambda a, c: a.get(path)


NO_DEAL: frozenset[str] = frozenset()
EVERYONE = set(ACTORS)
CASES = [
    Case("read deal", lead, lambda a, c: a.get(f"/deals/{c['deal']}"), EVERYONE - {"rep2"}),
    Case(
        "read history", lead, lambda a, c: a.get(f"/deals/{c['deal']}/history"), EVERYONE - {"rep2"}
    ),
    Case(
        "qualify",
        lead,
        lambda a, c: a.post(f"/deals/{c['deal']}/qualify", json={"decision": "qualify"}),
        {"rep1", "manager", "admin"},
    ),
    Case(
        "quote",
        quoting,
        lambda a, c: a.post(f"/deals/{c['deal']}/quotes", json=quote_body()),
        {"rep1", "manager", "admin"},
    ),
    Case(
        "portal link",
        quoted,
        lambda a, c: a.post(f"/deals/{c['deal']}/portal-link", json={"action": "quote"}),
        {"rep1", "manager", "admin"},
    ),
    Case(
        "approve",
        approving,
        lambda a, c: a.post(f"/deals/{c['deal']}/approvals", json={"decision": "approve"}),
        {"manager"},
    ),
    Case(
        "deliver",
        fulfilling,
        lambda a, c: a.post(
            f"/deals/{c['deal']}/deliveries",
            json={"reference": "AUTH", "lines": [{"sku": "GW-100", "quantity": "1"}]},
        ),
        {"rep1", "ops", "admin"},
    ),
    Case(
        "cancel",
        lead,
        lambda a, c: a.post(f"/deals/{c['deal']}/cancel", json={"reason": "test"}),
        {"rep1", "manager", "admin"},
    ),
    Case(
        "reassign",
        lead,
        lambda a, c: a.post(f"/deals/{c['deal']}/owner", json={"owner": "rep2"}),
        {"manager", "admin"},
    ),
    Case(
        "read invoice",
        fulfilling,
        lambda a, c: a.get(f"/invoices/{c['invoice']}"),
        EVERYONE - {"rep2"},
    ),
    Case(
        "pay",
        fulfilling,
        lambda a, c: a.post(
            "/payments",
            json={
                "invoice_number": c["invoice"],
                "amount": "1.00",
                "currency": "EUR",
                "reference": f"AUTH-{uuid.uuid4().hex}",
            },
        ),
        {"finance"},
        NO_DEAL,
    ),
    Case(
        "credit note",
        fulfilling,
        lambda a, c: a.post(
            f"/invoices/{c['invoice']}/credit-notes", json={"amount": "1.00", "reason": "x"}
        ),
        {"finance"},
        NO_DEAL,
    ),
    Case(
        "write off",
        fulfilling,
        lambda a, c: a.post(f"/invoices/{c['invoice']}/write-off", json={"reason": "x"}),
        {"finance"},
        NO_DEAL,
    ),
    Case(
        "new lead",
        nothing,
        lambda a, c: a.post("/leads", json=lead_body()),
        {"rep1", "rep2", "manager", "admin"},
        NO_DEAL,
    ),
    Case(
        "new product",
        nothing,
        lambda a, c: a.post(
            "/products",
            json={
                "sku": f"P-{uuid.uuid4().hex[:8]}",
                "name": "p",
                "kind": "good",
                "unit_price": "1.00",
                "currency": "EUR",
                "tax_rate": "0",
            },
        ),
        {"admin"},
        NO_DEAL,
    ),
    Case(
        "trial balance",
        nothing,
        lambda a, c: a.get("/ledger/trial-balance"),
        {"finance", "admin"},
        NO_DEAL,
    ),
    Case("revenue", nothing, lambda a, c: a.get("/revenue"), {"finance", "admin"}, NO_DEAL),
    Case("kpis", nothing, lambda a, c: a.get("/kpis"), {"manager", "finance", "admin"}, NO_DEAL),
    Case("users", nothing, lambda a, c: a.get("/users"), {"admin"}, NO_DEAL),
    Case(
        "territory",
        nothing,
        lambda a, c: a.put("/territories/IS", json={"username": "rep1"}),
        {"manager", "admin"},
        NO_DEAL,
    ),
    *[
        Case(f"list {path}", nothing, get(path), EVERYONE, NO_DEAL)
        for path in ("/deals", "/approvals", "/tasks", "/products", "/customers", "/invoices")
    ],
]


def snapshot(as_user, ctx) -> Any:
    """What a refused call must leave as it was."""
    admin = as_user("admin")
    state = {
        "users": len(admin.get("/users").json()),
        "products": len(admin.get("/products").json()),
    }
    if "deal" in ctx:
        deal = admin.get(f"/deals/{ctx['deal']}").json()
        state |= {
            "stage": deal["stage"],
            "owner": deal["owner"],
            "events": len(admin.every(f"/deals/{ctx['deal']}/history")),
        }
    if "invoice" in ctx:
        invoice = admin.get(f"/invoices/{ctx['invoice']}").json()
        state |= {
            "paid": invoice["paid"],
            "credited": invoice["credited"],
            "status": invoice["status"],
        }
    return state


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_authorization_table(live, as_user, case, actor):
    ctx = case.setup(live, as_user)
    before = snapshot(as_user, ctx)
    answer = case.call(as_user(actor), ctx)
    if actor in case.allowed:
        assert answer.status_code < 300, f"{actor} {case.name}: {answer.text}"
        return
    expected = 404 if actor in case.hidden_from else 403
    assert answer.status_code == expected, f"{actor} {case.name}: {answer.text}"
    assert snapshot(as_user, ctx) == before
