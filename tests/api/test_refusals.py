"""Every refusal of the API: the right status, the field named, and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.flows import (
    create_lead,
    lead_body,
    lead_email,
    portal_token,
    quote_body,
    stage_of,
    to_approval,
    to_fulfilment,
    to_quoting,
)
from workflows.ids import deal_workflow_id


def history_length(live, deal_id: str) -> int:
    """Updates accepted into the deal's history (a refused one must add none)."""
    handle = live.client.get_workflow_handle(deal_workflow_id(deal_id))
    events = live.run(handle.fetch_history()).events
    return sum(e.HasField("workflow_execution_update_accepted_event_attributes") for e in events)


def field_of(response) -> list[Any]:
    return [item["loc"] for item in response.json()["detail"]]


# --- 401: who are you? ---


def test_no_token_is_401(as_user):
    response = as_user(None).get("/deals")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_forged_token_is_401(as_user):
    anonymous = as_user(None)
    response = anonymous.get("/deals", headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 401


def test_wrong_password_is_401(as_user):
    response = as_user(None).post("/auth/token", data={"username": "rep1", "password": "nope"})
    assert response.status_code == 401


def test_unknown_user_is_401(as_user):
    response = as_user(None).post("/auth/token", data={"username": "ghost", "password": "x"})
    assert response.status_code == 401


# --- 404: unknown, or not yours to see ---


def test_a_rep_cannot_see_another_reps_deal(as_user):
    deal = create_lead(as_user("rep1"))
    other = as_user("rep2")
    assert other.get(f"/deals/{deal['deal_id']}").status_code == 404
    assert other.get(f"/deals/{deal['deal_id']}/history").status_code == 404
    assert deal["deal_id"] not in [d["deal_id"] for d in other.get("/deals").json()["items"]]
    assert other.get("/deals", params={"owner": "rep1"}).json()["items"] == []


def test_a_rep_cannot_act_on_another_reps_deal(live, as_user):
    deal = create_lead(as_user("rep1"))
    before = history_length(live, deal["deal_id"])
    response = as_user("rep2").post(
        f"/deals/{deal['deal_id']}/qualify", json={"decision": "disqualify"}
    )
    assert response.status_code == 404
    assert stage_of(as_user("rep1"), deal["deal_id"]) == "QUALIFYING"
    assert history_length(live, deal["deal_id"]) == before


def test_unknown_deal_is_404(as_user):
    assert as_user("manager").get("/deals/nope").status_code == 404
    response = as_user("manager").post("/deals/nope/qualify", json={"decision": "qualify"})
    assert response.status_code == 404


def test_a_bad_portal_link_is_404(as_user):
    anonymous = as_user(None)
    assert anonymous.get("/portal/abc.def").status_code == 404
    assert anonymous.post("/portal/abc.def/accept").status_code == 404


def test_a_rep_cannot_read_another_reps_invoice(live, as_user):
    rep, manager = as_user("rep1"), as_user("manager")
    deal = to_fulfilment(live, rep, manager, quote_body(billing_plan={"kind": "upfront"}))
    number = rep.every(f"/invoices?deal_id={deal['deal_id']}")[0]["number"]
    assert rep.get(f"/invoices/{number}").status_code == 200
    assert as_user("rep2").get(f"/invoices/{number}").status_code == 404
    assert as_user("rep2").every(f"/invoices?deal_id={deal['deal_id']}") == []


# --- 403: your role may not ---


@pytest.mark.parametrize(
    ("user", "method", "path", "body"),
    [
        (
            "rep1",
            "post",
            "/products",
            {
                "sku": "X-1",
                "name": "x",
                "kind": "good",
                "unit_price": "1.00",
                "currency": "EUR",
                "tax_rate": "0",
            },
        ),
        (
            "rep1",
            "post",
            "/payments",
            {
                "invoice_number": "INV-2026-000001",
                "amount": "1.00",
                "currency": "EUR",
                "reference": "R-403",
            },
        ),
        ("finance", "post", "/leads", None),
        ("ops", "post", "/leads", None),
        ("rep1", "get", "/ledger/trial-balance", None),
        ("ops", "get", "/ledger/trial-balance", None),
    ],
)
def test_roles_that_may_not_are_403(as_user, user, method, path, body):
    if path == "/leads":
        body = lead_body()
    response = getattr(as_user(user), method)(path, **({"json": body} if body else {}))
    assert response.status_code == 403, response.text


def test_only_a_manager_may_name_another_owner(as_user):
    response = as_user("rep1").post("/leads", json=lead_body(owner="rep2"))
    assert response.status_code == 403
    created = as_user("manager").post("/leads", json=lead_body(owner="rep2"))
    assert created.status_code == 201 and created.json()["owner"] == "rep2"


def test_the_owner_cannot_approve_their_own_deal(live, as_user):
    manager = as_user("manager")
    deal = to_approval(live, manager)
    before = history_length(live, deal["deal_id"])
    response = manager.post(f"/deals/{deal['deal_id']}/approvals", json={"decision": "approve"})
    assert response.status_code == 403
    assert "own deal" in response.json()["detail"]
    assert history_length(live, deal["deal_id"]) == before
    assert manager.get(f"/deals/{deal['deal_id']}").json()["approvals"][0]["status"] == "pending"


def test_a_role_without_the_pending_step_cannot_decide_it(live, as_user):
    deal = to_approval(live, as_user("rep1"))
    response = as_user("finance").post(
        f"/deals/{deal['deal_id']}/approvals", json={"decision": "approve"}
    )
    assert response.status_code == 403
    assert (
        as_user("ops")
        .post(f"/deals/{deal['deal_id']}/approvals", json={"decision": "reject"})
        .status_code
        == 403
    )
    assert stage_of(as_user("rep1"), deal["deal_id"]) == "AWAITING_APPROVAL"


def test_ops_may_not_qualify(as_user):
    deal = create_lead(as_user("rep1"))
    response = as_user("ops").post(
        f"/deals/{deal['deal_id']}/qualify", json={"decision": "qualify"}
    )
    assert response.status_code == 403


def test_a_quote_link_cannot_sign(live, as_user):
    rep = as_user("rep1")
    deal = to_quoting(rep)
    rep.post(f"/deals/{deal['deal_id']}/quotes", json=quote_body())
    token = portal_token(live, lead_email(rep, deal["deal_id"]), "Your quote")
    assert rep.http.post(f"/portal/{token}/sign", json={"name": "X"}).status_code == 403


# --- 409: not at this stage, or a conflict ---


def test_qualifying_twice_is_409(live, as_user):
    rep = as_user("rep1")
    deal = to_quoting(rep)
    before = history_length(live, deal["deal_id"])
    again = rep.post(f"/deals/{deal['deal_id']}/qualify", json={"decision": "disqualify"})
    assert again.status_code == 409
    assert stage_of(rep, deal["deal_id"]) == "QUOTING"
    assert history_length(live, deal["deal_id"]) == before


def test_quoting_before_qualification_is_409(as_user):
    rep = as_user("rep1")
    deal = create_lead(rep)
    response = rep.post(f"/deals/{deal['deal_id']}/quotes", json=quote_body())
    assert response.status_code == 409
    assert rep.get(f"/deals/{deal['deal_id']}").json()["quotes"] == []


def test_approving_outside_approval_is_409(as_user):
    deal = to_quoting(as_user("rep1"))
    response = as_user("manager").post(
        f"/deals/{deal['deal_id']}/approvals", json={"decision": "approve"}
    )
    assert response.status_code == 409


def test_an_old_quote_link_stops_working_after_a_revision(live, as_user):
    rep = as_user("rep1")
    deal = to_quoting(rep)
    deal_id = deal["deal_id"]
    assert rep.post(f"/deals/{deal_id}/quotes", json=quote_body()).status_code == 201
    old = portal_token(live, lead_email(rep, deal_id), "(version 1)")
    revised = rep.post(
        f"/deals/{deal_id}/quotes", json=quote_body(lines=[{"sku": "GW-100", "quantity": "2"}])
    )
    assert revised.json()["version"] == 2
    assert rep.http.post(f"/portal/{old}/accept").status_code == 409
    assert stage_of(rep, deal_id) == "PROPOSED"
    quotes = rep.get(f"/deals/{deal_id}").json()["quotes"]
    assert [(q["version"], q["status"]) for q in quotes] == [(1, "superseded"), (2, "open")]


def test_an_idempotency_key_reused_with_another_body_is_409(as_user):
    rep = as_user("rep1")
    first = rep.post("/leads", json=lead_body(), headers={"Idempotency-Key": "k-409"})
    assert first.status_code == 201
    second = rep.post("/leads", json=lead_body(), headers={"Idempotency-Key": "k-409"})
    assert second.status_code == 409


def test_signing_twice_is_409(live, as_user):
    rep, manager = as_user("rep1"), as_user("manager")
    deal = to_fulfilment(live, rep, manager)
    token = portal_token(live, lead_email(rep, deal["deal_id"]), "ready to sign")
    assert rep.http.post(f"/portal/{token}/sign", json={"name": "Mallory"}).status_code == 409
    contract = rep.get(f"/deals/{deal['deal_id']}").json()["contract"]
    assert contract["signature"]["name"] == "Ada Lovelace"


# --- 422: invalid input, the field named ---


def test_a_lead_without_email_names_the_field(as_user):
    body = lead_body()
    del body["email"]
    response = as_user("rep1").post("/leads", json=body)
    assert response.status_code == 422
    assert ["body", "email"] in field_of(response)


def test_a_lead_with_a_field_it_may_not_set_is_refused(as_user):
    rep = as_user("rep1")
    before = rep.get("/deals", params={"limit": 200}).json()["items"]
    response = rep.post("/leads", json=lead_body(stage="WON"))
    assert response.status_code == 422
    assert ["body", "stage"] in field_of(response)
    assert rep.get("/deals", params={"limit": 200}).json()["items"] == before


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"lines": [{"sku": "NOPE", "quantity": "1"}]}, ["body", "lines", 0, "sku"]),
        ({"lines": [{"sku": "GW-100", "quantity": "0"}]}, ["body", "lines", 0, "quantity"]),
        (
            {"lines": [{"sku": "GW-100", "quantity": "1", "discount_pct": "150"}]},
            ["body", "lines", 0, "discount_pct"],
        ),
        ({"lines": [{"sku": "GW-100", "quantity": 1.5}]}, ["body", "lines", 0, "quantity"]),
        ({"currency": "XXX"}, ["body", "currency"]),
        ({"currency": "GBP"}, ["body", "lines", 0, "sku"]),
        ({"billing_plan": {"kind": "barter"}}, ["body", "billing_plan"]),
        (
            {"lines": [{"sku": "GW-100", "quantity": "1"}, {"sku": "GW-100", "quantity": "2"}]},
            ["body", "lines", 1, "sku"],
        ),
    ],
)
def test_a_bad_quote_is_422_with_no_history_event(live, as_user, change, loc):
    rep = as_user("rep1")
    deal = to_quoting(rep)
    before = history_length(live, deal["deal_id"])
    response = rep.post(f"/deals/{deal['deal_id']}/quotes", json=quote_body(**change))
    assert response.status_code == 422, response.text
    assert any(found[: len(loc)] == loc for found in field_of(response)), response.text
    assert rep.get(f"/deals/{deal['deal_id']}").json()["quotes"] == []
    assert history_length(live, deal["deal_id"]) == before


def test_over_delivery_is_422_and_changes_nothing(live, as_user):
    rep, manager, ops = as_user("rep1"), as_user("manager"), as_user("ops")
    deal = to_fulfilment(live, rep, manager)
    response = ops.post(
        f"/deals/{deal['deal_id']}/deliveries",
        json={"reference": "DN-X", "lines": [{"sku": "GW-100", "quantity": "4"}]},
    )
    assert response.status_code == 422
    assert ["body", "lines", 0, "quantity"] in field_of(response)
    order = rep.get(f"/deals/{deal['deal_id']}").json()["order"]
    assert all(line["delivered"] == "0" for line in order["lines"])


@pytest.fixture(scope="module")
def invoice(live, as_user):
    """An open invoice of an upfront-billed deal, for the payment refusals."""
    rep, manager = as_user("rep1"), as_user("manager")
    deal = to_fulfilment(live, rep, manager, quote_body(billing_plan={"kind": "upfront"}))
    return as_user("finance").every(f"/invoices?deal_id={deal['deal_id']}")[0]


class TestPayments:
    def pay(self, as_user, invoice, **change):
        body = {
            "invoice_number": invoice["number"],
            "amount": "10.00",
            "currency": "EUR",
            "reference": "BANK-OK",
        }
        body.update(change)
        return as_user("finance").post("/payments", json=body)

    def test_over_payment_is_422(self, as_user, invoice):
        response = self.pay(as_user, invoice, amount="99999.00", reference="BANK-OVER")
        assert response.status_code == 422
        assert ["body", "amount"] in field_of(response)

    def test_another_currency_is_422(self, as_user, invoice):
        response = self.pay(as_user, invoice, currency="USD", reference="BANK-USD")
        assert response.status_code == 422
        assert ["body", "currency"] in field_of(response)

    def test_a_float_amount_is_422(self, as_user, invoice):
        response = self.pay(as_user, invoice, amount=10.1, reference="BANK-FLOAT")
        assert response.status_code == 422

    def test_sub_cent_amounts_are_422(self, as_user, invoice):
        response = self.pay(as_user, invoice, amount="10.001", reference="BANK-SUBCENT")
        assert response.status_code == 422

    def test_an_unknown_invoice_is_422(self, as_user, invoice):
        response = self.pay(as_user, invoice, invoice_number="INV-1999-000001")
        assert response.status_code == 422
        assert ["body", "invoice_number"] in field_of(response)

    def test_a_repeated_reference_is_recorded_once(self, as_user, invoice):
        first = self.pay(as_user, invoice, reference="BANK-TWICE")
        second = self.pay(as_user, invoice, reference="BANK-TWICE")
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        number = invoice["number"]
        paid = as_user("finance").get(f"/invoices/{number}").json()["paid"]
        assert paid == "10.00"

    def test_a_reference_reused_for_another_payment_is_409(self, as_user, invoice):
        assert self.pay(as_user, invoice, reference="BANK-REUSE").status_code == 201
        response = self.pay(as_user, invoice, reference="BANK-REUSE", amount="11.00")
        assert response.status_code == 409


@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("finance", "/revenue?to=9999-12-31"),
        ("finance", "/revenue?from=0001-01-01"),
        ("manager", "/kpis?from=9999-12-01&to=9999-12-31"),
        ("manager", "/kpis?to=9999-12-31"),
    ],
)
def test_out_of_range_report_dates_are_refused_not_crashed(as_user, user, path):
    answer = as_user(user).get(path)
    assert answer.status_code == 422, answer.text
