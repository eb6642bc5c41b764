"""Every list pages with a cursor: walked a few items at a time, with a filter, it shows each
item once and in the list's order; a cursor the API did not give is a 422 naming `cursor`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import Api, Live
from tests.flows import create_lead, quote_body, to_approval, to_fulfilment

FAR = "9999-12-31T23:59:59.999999+00:00"


def walk(api: Api, path: str, limit: int, **query: Any) -> tuple[list[Any], int]:
    """Every item of the list, `limit` a page, and how many pages that took."""
    items: list[Any] = []
    cursor: str | None = None
    pages = 0
    while True:
        paging = {"limit": limit} if cursor is None else {"limit": limit, "cursor": cursor}
        answer = api.get(path, params={**query, **paging})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages


def refuses_a_bad_cursor(api: Api, path: str) -> None:
    for bad in ("garbage", "W10", "WyJ4Il0"):  # not base64 JSON; []; ["x"] of the wrong shape
        answer = api.get(path, params={"cursor": bad})
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.json()["detail"][0]["loc"][-1] == "cursor"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def customer_invoices(live: Live, as_user: Callable[[str], Api]) -> tuple[str, set[str]]:
    """A customer with three invoices (three upfront deals)."""
    company = f"Pages {uuid.uuid4().hex[:6]} AG"
    rep, manager = as_user("rep1"), as_user("manager")
    deals = [
        to_fulfilment(
            live, rep, manager, quote_body(billing_plan={"kind": "upfront"}), company=company
        )
        for _ in range(3)
    ]
    finance = as_user("finance")
    numbers = {
        i["number"] for d in deals for i in finance.every(f"/invoices?deal_id={d['deal_id']}")
    }
    customer_id = finance.get(f"/deals/{deals[0]['deal_id']}").json()["customer"]["customer_id"]
    return customer_id, numbers


def test_invoices_page_newest_first_each_once_with_a_filter(as_user, customer_invoices):
    customer_id, numbers = customer_invoices
    finance = as_user("finance")

    walked, pages = walk(finance, "/invoices", 1, customer_id=customer_id, status="open")

    assert pages == len(numbers)
    assert sorted(i["number"] for i in walked) == sorted(numbers)
    keys = [(at(i["issued_at"]), i["number"]) for i in walked]
    assert keys == sorted(keys, reverse=True)
    everything, _ = walk(finance, "/invoices", 2)
    seen = [i["number"] for i in everything]
    assert len(seen) == len(set(seen)) and numbers <= set(seen)
    refuses_a_bad_cursor(finance, "/invoices")


def test_customers_page_by_name_each_once(as_user):
    rep = as_user("rep2")  # a rep's list: only the customers of their own deals
    tag = uuid.uuid4().hex[:6]
    mine = {
        create_lead(rep, company=f"Zeta {tag} {n} AG")["customer"]["customer_id"] for n in range(3)
    }

    walked, _ = walk(rep, "/customers", 2)

    ids = [c["customer_id"] for c in walked]
    assert len(ids) == len(set(ids)) and mine <= set(ids)
    # The same order as one page of them all (Postgres' collation orders the names).
    assert ids == [
        c["customer_id"] for c in rep.get("/customers", params={"limit": 200}).json()["items"]
    ]
    assert [c["name"] for c in walked if c["customer_id"] in mine] == sorted(
        f"Zeta {tag} {n} AG" for n in range(3)
    )
    assert {c["customer_id"] for c in as_user("rep1").every("/customers")}.isdisjoint(mine)
    refuses_a_bad_cursor(rep, "/customers")


def test_approvals_page_oldest_request_first_each_once(live, as_user):
    rep, manager = as_user("rep1"), as_user("manager")
    waiting = {to_approval(live, rep)["deal_id"] for _ in range(3)}

    walked, _ = walk(manager, "/approvals", 2)

    steps = [(a["deal_id"], a["contract_version"], a["step"]["index"]) for a in walked]
    assert len(steps) == len(set(steps)) and waiting <= {a["deal_id"] for a in walked}
    keys = [(at(a["step"]["requested_at"]), *step) for a, step in zip(walked, steps, strict=True)]
    assert keys == sorted(keys)
    refuses_a_bad_cursor(manager, "/approvals")


def test_tasks_page_most_urgent_first_each_once_with_a_filter(live, as_user):
    rep = as_user("rep2")
    deals = [create_lead(rep)["deal_id"] for _ in range(3)]

    walked, _ = walk(rep, "/tasks", 1)
    one_deal, _ = walk(rep, "/tasks", 1, deal_id=deals[0])

    assert {t["deal_id"] for t in walked} >= set(deals)
    assert [t["deal_id"] for t in one_deal] == [deals[0]]
    identities = [
        (t["kind"], t["deal_id"], t["title"], t["statement_id"], t["line"]) for t in walked
    ]
    assert len(identities) == len(set(identities))
    urgency = [(at(t["due"] or FAR), at(t["since"])) for t in walked]
    assert urgency == sorted(urgency)
    refuses_a_bad_cursor(rep, "/tasks")


def test_a_deals_history_pages_oldest_first_each_once(live, as_user):
    rep = as_user("rep1")
    deal_id = to_approval(live, rep)["deal_id"]

    walked, pages = walk(rep, f"/deals/{deal_id}/history", 2)

    seqs = [e["seq"] for e in walked]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) and len(seqs) >= 3
    assert pages == -(-len(seqs) // 2)  # no empty last page
    assert walked == rep.every(f"/deals/{deal_id}/history")
    refuses_a_bad_cursor(rep, f"/deals/{deal_id}/history")
    assert as_user("rep2").get(f"/deals/{deal_id}/history", params={"limit": 1}).status_code == 404
