"""Lead capture: customers and contacts, duplicates, scoring bands, assignment, tasks."""

from __future__ import annotations

import csv
import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from tests.conftest import wait_for
from tests.flows import create_lead, lead_body
from workflows.ids import deal_workflow_id
from workflows.search_attributes import DEAL_OWNER, LEAD_SCORE, LEAD_SOURCE

HOT = {
    "budget_confirmed": True,
    "decision_maker": True,
    "need": "a lot",
    "timeline_days": 30,
    "source": "referral",
    "estimated_value": "80000.00",
    "currency": "EUR",
}
COLD = {
    "budget_confirmed": None,
    "decision_maker": None,
    "need": None,
    "timeline_days": None,
    "source": "import",
    "estimated_value": None,
    "currency": None,
}


def tag() -> str:
    return uuid.uuid4().hex[:8]


def csv_file(rows: list[dict[str, str]]) -> dict[str, tuple[str, bytes, str]]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return {"file": ("leads.csv", out.getvalue().encode(), "text/csv")}


def row(t: str, i: int, **extra: str) -> dict[str, str]:
    base = {
        "company": f"Import {t} {i} Ltd",
        "contact_name": f"Person {i}",
        "email": f"p{i}@import-{t}-{i}.example",
        "source": "trade_show",
        "country": "",
        "estimated_value": "",
        "currency": "",
    }
    base.update(extra)
    return base


# --- customers and contacts ---


def test_a_lead_of_a_known_company_attaches_to_its_customer(as_user):
    rep, t = as_user("rep1"), tag()
    first = create_lead(rep, company=f"Globex {t} GmbH", email=f"hank@globex-{t}.example")
    by_name = create_lead(rep, company=f"GLOBEX {t}", email=f"frank@gmail-{t}.example")
    by_domain = create_lead(rep, company="Globex Europe Holding", email=f"ann@globex-{t}.example")
    free_mail = create_lead(rep, company=f"Other {t}", email=f"joe{t}@gmail.com")
    customer = first["customer"]["customer_id"]
    assert by_name["customer"]["customer_id"] == customer
    assert by_domain["customer"]["customer_id"] == customer
    assert free_mail["customer"]["customer_id"] != customer
    page = as_user("manager").get(f"/customers/{customer}").json()
    assert {c["email"] for c in page["contacts"]} == {
        f"hank@globex-{t}.example",
        f"frank@gmail-{t}.example",
        f"ann@globex-{t}.example",
    }
    assert len(page["deals"]) == 3 and page["open_deals"] == 3
    assert page["lifetime_value"] == []


def test_a_rep_sees_only_their_own_deals_of_a_customer(as_user):
    t = tag()
    mine = create_lead(as_user("rep1"), company=f"Shared {t}")
    create_lead(as_user("rep2"), company=f"Shared {t}", email=f"x@other-{t}.example")
    page = as_user("rep1").get(f"/customers/{mine['customer']['customer_id']}").json()
    assert [d["deal_id"] for d in page["deals"]] == [mine["deal_id"]]


def test_a_rep_does_not_see_the_contacts_of_another_reps_customer(as_user):
    t = tag()
    theirs = create_lead(as_user("rep2"), company=f"Poach {t}", email=f"boss@poach-{t}.example")
    customer = theirs["customer"]["customer_id"]
    assert as_user("rep1").get(f"/customers/{customer}").status_code == 404
    listed = as_user("rep1").every("/customers")
    assert customer not in [c["customer_id"] for c in listed]
    for user in ("rep2", "manager", "finance", "ops", "admin"):
        page = as_user(user).get(f"/customers/{customer}")
        assert page.status_code == 200, user
        assert [c["email"] for c in page.json()["contacts"]] == [f"boss@poach-{t}.example"]


# --- duplicates ---


def test_a_duplicate_of_another_reps_deal_does_not_name_it(as_user):
    theirs = create_lead(as_user("rep2"))
    email = first_email(as_user("rep2"), theirs)
    again = as_user("rep1").post("/leads", json=lead_body(email=email))
    assert again.status_code == 409
    assert theirs["deal_id"] not in again.json()["detail"]
    told = as_user("manager").post("/leads", json=lead_body(email=email))
    assert told.status_code == 409 and theirs["deal_id"] in told.json()["detail"]


def test_a_second_lead_of_an_open_deal_is_refused_and_names_it(as_user):
    rep = as_user("rep1")
    first = create_lead(rep)
    again = rep.post("/leads", json=lead_body(email=first_email(rep, first)))
    assert again.status_code == 409
    assert first["deal_id"] in again.json()["detail"]


def test_after_a_deal_closes_the_contact_may_start_a_new_one(as_user):
    rep = as_user("rep1")
    first = create_lead(rep)
    email = first_email(rep, first)
    rep.post(f"/deals/{first['deal_id']}/qualify", json={"decision": "disqualify"})
    again = rep.post("/leads", json=lead_body(email=email))
    assert again.status_code == 201
    assert again.json()["deal_id"] != first["deal_id"]


def test_the_same_lead_posted_twice_at_once_makes_one_deal(live, as_user):
    rep = as_user("rep1")
    body = lead_body()
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: rep.post("/leads", json=body), range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    deals = as_user("manager").get("/deals", params={"limit": 200}).json()["items"]
    created = next(a.json() for a in answers if a.status_code == 201)
    assert created["deal_id"] in [d["deal_id"] for d in deals]


def first_email(rep, deal) -> str:
    email: str = rep.get(f"/deals/{deal['deal_id']}").json()["contact"]["email"]
    return email


# --- scoring bands (default policy: >= 90 qualifies, < 5 disqualifies) ---


def test_a_hot_lead_is_qualified_automatically(live, as_user):
    rep = as_user("rep1")
    deal = create_lead(rep, **HOT)
    assert deal["score"]["score"] == 100
    assert deal["stage"] == "QUOTING"
    event = next(
        e for e in rep.every(f"/deals/{deal['deal_id']}/history") if e["action"] == "lead.qualified"
    )
    assert (event["actor"], event["data"]["automatic"]) == ("system", True)
    attributes = live.run(
        live.client.get_workflow_handle(deal_workflow_id(deal["deal_id"])).describe()
    ).typed_search_attributes
    assert attributes.get(LEAD_SCORE) == 100
    assert attributes.get(LEAD_SOURCE) == "referral"


def test_a_cold_lead_is_disqualified_automatically(as_user):
    deal = create_lead(as_user("rep1"), **COLD)
    assert deal["score"]["score"] == 2
    assert deal["stage"] == "DISQUALIFIED"
    state = as_user("rep1").get(f"/deals/{deal['deal_id']}").json()
    assert state["close_reason"] == "score 2 < 5"


def test_a_lead_in_between_waits_for_a_human(as_user):
    deal = create_lead(as_user("rep1"))
    assert 5 <= deal["score"]["score"] < 90
    assert deal["stage"] == "QUALIFYING"
    reasons = {r["rule"] for r in deal["score"]["reasons"]}
    assert {"budget confirmed", "talking to the decision maker", "source: web"} <= reasons


# --- assignment ---


def test_imported_leads_go_round_robin_among_active_reps(as_user):
    t = tag()
    result = as_user("manager").post("/leads/import", files=csv_file([row(t, i) for i in range(6)]))
    assert result.status_code == 202, result.text
    owners = [d["owner"] for d in result.json()["deals"]]
    # Other tests may have added reps of their own: the round goes over whoever is active.
    reps = {
        u["username"]
        for u in as_user("admin").get("/users").json()
        if u["role"] == "sales_rep" and u["active"]
    }
    assert {"rep1", "rep2"} <= reps and set(owners) <= reps
    assert len(set(owners)) == min(len(reps), len(owners))  # nobody twice before all once
    assert all(a != b for a, b in zip(owners, owners[1:], strict=False))


def test_a_territory_gets_its_countrys_leads(as_user):
    admin, t = as_user("admin"), tag()
    assert admin.put("/territories/NO", json={"username": "rep2"}).status_code == 200
    rows = [row(t, i, country="NO") for i in range(3)] + [row(t, 9, country="SE")]
    deals = admin.post("/leads/import", files=csv_file(rows)).json()["deals"]
    assert [d["owner"] for d in deals[:3]] == ["rep2", "rep2", "rep2"]
    assert admin.get("/territories").json()["NO"] == "rep2"
    assert admin.put("/territories/NO", json={"username": "manager"}).status_code == 422


def test_a_manager_reassigns_a_deal_and_it_is_recorded(live, as_user):
    deal = create_lead(as_user("rep1"))
    manager = as_user("manager")
    moved = manager.post(
        f"/deals/{deal['deal_id']}/owner", json={"owner": "rep2", "reason": "rep1 on leave"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["owner"] == "rep2"
    assert as_user("rep1").get(f"/deals/{deal['deal_id']}").status_code == 404
    assert as_user("rep2").get(f"/deals/{deal['deal_id']}").json()["owner"] == "rep2"
    event = as_user("rep2").every(f"/deals/{deal['deal_id']}/history")[-1]
    assert (event["action"], event["actor"], event["data"]["to"]) == (
        "owner.changed",
        "manager",
        "rep2",
    )
    attributes = live.run(
        live.client.get_workflow_handle(deal_workflow_id(deal["deal_id"])).describe()
    ).typed_search_attributes
    assert attributes.get(DEAL_OWNER) == "rep2"
    wait_for(lambda: live.mail_to("rep2@", "is now your deal"), 30, "mail to the new owner")
    assert (
        as_user("rep1").post(f"/deals/{deal['deal_id']}/owner", json={"owner": "rep1"}).status_code
        == 404
    )
    assert (
        manager.post(f"/deals/{deal['deal_id']}/owner", json={"owner": "finance"}).status_code
        == 422
    )


# --- tasks and lists ---


def test_tasks_follow_the_deal(live, as_user):
    rep = as_user("rep1")
    deal = create_lead(rep)

    def tasks(user: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = as_user(user).every(
            "/tasks", params={"deal_id": deal["deal_id"]}
        )
        return found

    assert [t["kind"] for t in tasks("rep1")] == ["qualify_lead"]
    assert tasks("rep1")[0]["due"] is not None
    assert tasks("rep2") == []
    rep.post(f"/deals/{deal['deal_id']}/qualify", json={"decision": "qualify"})
    assert [t["kind"] for t in tasks("rep1")] == ["write_quote"]


def test_deals_are_filtered_by_source_stage_and_owner(as_user):
    rep = as_user("rep1")
    deal = create_lead(rep, source="partner", need=None)
    assert deal["stage"] == "QUALIFYING"
    listed = rep.get("/deals", params={"source": "partner", "stage": "QUALIFYING"}).json()
    assert deal["deal_id"] in [d["deal_id"] for d in listed["items"]]
    assert all(d["source"] == "partner" for d in listed["items"])
    none = rep.get("/deals", params={"source": "partner", "stage": "WON"}).json()["items"]
    assert deal["deal_id"] not in [d["deal_id"] for d in none]


def test_deal_lists_page_with_a_cursor(as_user):
    manager = as_user("manager")
    first = manager.get("/deals", params={"limit": 2}).json()
    second = manager.get("/deals", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert first["next_cursor"] and second["items"]
    assert not {d["deal_id"] for d in first["items"]} & {d["deal_id"] for d in second["items"]}
    assert manager.get("/deals", params={"cursor": "garbage"}).status_code == 422


def test_an_import_answers_at_once_and_its_progress_is_followed_to_the_end(live, as_user):
    rep, t = as_user("rep1"), tag()
    bad = dict(row(t, 99), email="nope")
    answer = rep.post("/leads/import", files=csv_file([row(t, i) for i in range(4)] + [bad]))
    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert result["created"] == 4 and result["progress_url"] == f"/imports/{result['import_id']}"

    def finished() -> dict[str, Any]:
        status = rep.get(result["progress_url"])
        assert status.status_code == 200, status.text
        return dict(status.json()) if status.json()["done"] else {}

    done = finished() or wait_for(finished, 60, "the import to finish")
    assert (done["rows"], done["to_create"], done["started"], done["percent"]) == (5, 4, 4, 100)
    assert [(e["row"], e["field"]) for e in done["errors"]] == [(6, "email")]
    manager = as_user("manager")  # the deals are the assignment rules' owners', not rep1's

    def visible(deal_id: str) -> bool:
        return bool(manager.get(f"/deals/{deal_id}").status_code == 200)

    for deal in result["deals"]:
        wait_for(partial(visible, deal["deal_id"]), 60, "the imported deal")
    # Its creator, managers and admins follow it; another rep does not even learn it exists.
    assert as_user("manager").get(result["progress_url"]).status_code == 200
    assert as_user("rep2").get(result["progress_url"]).status_code == 404
    assert rep.get("/imports/no-such-import").status_code == 404
