"""Credit terms per customer: finance and admins set them (audited), everyone who sees the
customer reads its standing, and bad terms are refused naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.storage.audit import deal_events, deal_head
from adapters.storage.credit import customer_chain
from domain.audit import check_chain
from tests.flows import create_lead

TERMS = {"credit_limit": "50000.00", "currency": "EUR", "payment_terms_days": 30}


def new_customer(as_user) -> str:
    return str(create_lead(as_user("rep1"))["customer"]["customer_id"])


def credit_events(live, customer_id: str) -> list[Any]:
    with live.engine.connect() as conn:
        chain = customer_chain(customer_id)
        events, head = deal_events(conn, chain), deal_head(conn, chain)
    assert check_chain(events, head, live.settings.audit_secret).first_broken_seq is None
    return events


def test_finance_sets_a_customers_credit_terms_and_everyone_who_sees_it_reads_them(live, as_user):
    customer_id = new_customer(as_user)
    answer = as_user("finance").put(f"/customers/{customer_id}/credit", json=TERMS)
    assert answer.status_code == 200, answer.text
    standing = answer.json()
    assert (standing["limit"], standing["currency"], standing["payment_terms_days"]) == (
        "50000.00",
        "EUR",
        30,
    )
    assert (standing["exposure"], standing["on_hold"], standing["hold_reasons"]) == (
        "0.00",
        False,
        [],
    )
    page = as_user("rep1").get(f"/customers/{customer_id}").json()
    assert page["credit_standing"] == standing


def test_every_change_of_credit_terms_is_audited_and_a_repeat_is_no_change(live, as_user):
    customer_id = new_customer(as_user)
    as_user("finance").put(f"/customers/{customer_id}/credit", json=TERMS)
    as_user("finance").put(f"/customers/{customer_id}/credit", json=TERMS)
    raised = {**TERMS, "credit_limit": "75000"}
    assert as_user("admin").put(f"/customers/{customer_id}/credit", json=raised).status_code == 200
    events = credit_events(live, customer_id)
    assert [(e.actor, e.action) for e in events] == [
        ("finance", "customer.credit_terms_set"),
        ("admin", "customer.credit_terms_set"),
    ]
    assert events[0].data["before"] is None
    assert events[1].data["before"]["credit_limit"] == "50000.00"
    assert events[1].data["after"] == {**TERMS, "credit_limit": "75000.00"}


@pytest.mark.parametrize("user", ["rep1", "manager", "ops"])
def test_only_finance_and_admins_set_credit_terms(live, as_user, user):
    customer_id = new_customer(as_user)
    assert as_user(user).put(f"/customers/{customer_id}/credit", json=TERMS).status_code == 403
    assert (
        as_user("finance").get(f"/customers/{customer_id}").json()["credit_standing"]["limit"]
        is None
    )
    assert credit_events(live, customer_id) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("credit_limit", "-1.00"),
        ("credit_limit", 1000.5),
        ("credit_limit", "ten"),
        ("currency", "EURO"),
        ("payment_terms_days", -1),
        ("payment_terms_days", 1000),
    ],
)
def test_bad_credit_terms_are_422_naming_the_field(live, as_user, field, value):
    customer_id = new_customer(as_user)
    body = {**TERMS, field: value}
    answer = as_user("finance").put(f"/customers/{customer_id}/credit", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", field]
    assert credit_events(live, customer_id) == []


def test_a_limit_finer_than_its_currency_is_422_naming_the_limit(live, as_user):
    customer_id = new_customer(as_user)
    body = {**TERMS, "credit_limit": "100.5", "currency": "JPY"}
    answer = as_user("finance").put(f"/customers/{customer_id}/credit", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "credit_limit"]


def test_credit_terms_of_an_unknown_customer_are_404(as_user):
    assert as_user("finance").put("/customers/cus_nobody/credit", json=TERMS).status_code == 404
