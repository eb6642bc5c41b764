"""The company policy as data: admins change it over the API, every change is a numbered
version with an audit event, new deals take the newest, running deals keep their own."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any

import anyio.to_thread
import pytest
from sqlalchemy import event

from adapters.storage.policies import POLICY_CHAIN
from adapters.storage.views.deals import DealViews
from api.commands import leads
from api.services import make_services
from domain.audit import check_chain
from domain.users import Actor, Role
from tests.conftest import wait_for
from tests.flows import quote_body, stage_of, to_quoting


@pytest.fixture
def admin(as_user) -> Iterator[Any]:
    """The admin; the policy is put back as it was after the test (other tests expect it)."""
    api = as_user("admin")
    before = api.get("/policy").json()["policy"]
    yield api
    restored = api.put("/policy", json={"policy": before, "note": "as before the test"})
    assert restored.status_code in (200, 201), restored.text


def versions(api) -> list[int]:
    return [v["version"] for v in api.get("/policy/versions").json()]


def with_first_band_discount(policy: dict[str, Any], pct: str) -> dict[str, Any]:
    bands = [dict(b) for b in policy["approval"]["bands"]]
    bands[0]["max_discount_pct"] = pct
    return {**policy, "approval": {**policy["approval"], "bands": bands}}


def approval_roles(live, rep, deal_id: str) -> list[str]:
    """The roles asked to approve a quote with 5 % off (quote_body), before the customer
    sees it."""
    quoted = rep.post(f"/deals/{deal_id}/quotes", json=quote_body())
    assert quoted.status_code == 201, quoted.text
    steps = rep.get(f"/deals/{deal_id}").json()["approvals"]
    expected = "AWAITING_APPROVAL" if steps else "PROPOSED"
    assert stage_of(rep, deal_id) == expected
    return [step["role"] for step in steps]


@pytest.mark.parametrize(
    ("user", "status"),
    [("manager", 200), ("finance", 200), ("admin", 200), ("rep1", 403), ("ops", 403)],
)
def test_managers_finance_and_admins_read_the_current_policy(as_user, user, status):
    answer = as_user(user).get("/policy")
    assert answer.status_code == status, answer.text
    if status == 200:
        current = answer.json()
        assert {"version", "created_by", "created_at", "note", "policy"} <= set(current)
        assert current["version"] == versions(as_user("admin"))[0]
        assert "day" not in current["policy"]


def test_version_1_is_the_code_defaults(as_user):
    first = as_user("finance").get("/policy/versions/1")
    assert first.status_code == 200
    assert first.json()["created_by"] == "system"
    assert first.json()["policy"]["approval"]["bands"][0]["max_discount_pct"] == "10"
    assert first.json()["policy"]["renewal_notice_days"] == 30
    assert as_user("finance").get("/policy/versions/99999").status_code == 404


def test_a_new_deal_takes_the_new_band_and_a_running_deal_keeps_its_own(live, as_user, admin):
    rep = as_user("rep1")
    old = admin.get("/policy").json()
    started_before = to_quoting(rep)

    changed = admin.put(
        "/policy",
        json={"policy": with_first_band_discount(old["policy"], "3"), "note": "tighter"},
    )
    assert changed.status_code == 201, changed.text
    new = changed.json()
    assert (new["version"], new["created_by"], new["note"]) == (
        old["version"] + 1,
        "admin",
        "tighter",
    )
    assert admin.get("/policy").json() == new
    started_after = to_quoting(rep)

    before_id, after_id = started_before["deal_id"], started_after["deal_id"]
    assert rep.get(f"/deals/{before_id}").json()["policy_version"] == old["version"]
    assert rep.get(f"/deals/{after_id}").json()["policy_version"] == new["version"]
    assert approval_roles(live, rep, before_id) == []  # 5 % is within its first band
    assert approval_roles(live, rep, after_id) == ["sales_manager"]  # not within 3 %


def test_only_an_admin_changes_the_policy(as_user):
    current = as_user("admin").get("/policy").json()
    loosened = with_first_band_discount(current["policy"], "20")
    for user in ("manager", "finance", "rep1", "ops"):
        answer = as_user(user).put("/policy", json={"policy": loosened})
        assert answer.status_code == 403, (user, answer.text)
    assert as_user("admin").get("/policy").json() == current


def _field(answer) -> list[Any]:
    return [error["loc"] for error in answer.json()["detail"]]


BAD = {
    "bands out of order": (
        lambda p: with_first_band_discount(p, "50"),
        ["body", "policy", "approval", "bands"],
    ),
    "dunning steps going back": (
        lambda p: {**p, "collection": {"dunning_days": [10, 3], "write_off_after_days": 45}},
        ["body", "policy", "collection"],
    ),
    "renewal uplift over 100 %": (
        lambda p: {**p, "renewal_uplift_pct": "150"},
        ["body", "policy", "renewal_uplift_pct"],
    ),
    "the demo day": (lambda p: {**p, "day": "PT1S"}, ["body", "policy", "day"]),
    "a field left out": (
        lambda p: {k: v for k, v in p.items() if k != "credit_limit"},
        ["body", "policy", "credit_limit"],
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_policy_is_refused_naming_the_field_and_writes_nothing(as_user, case):
    admin = as_user("admin")
    break_it, field = BAD[case]
    before = versions(admin)
    answer = admin.put("/policy", json={"policy": break_it(admin.get("/policy").json()["policy"])})
    assert answer.status_code == 422, answer.text
    assert field in _field(answer)
    assert versions(admin) == before


def test_the_same_policy_again_is_no_new_version(as_user):
    admin = as_user("admin")
    current = admin.get("/policy").json()
    again = admin.put("/policy", json={"policy": current["policy"], "note": "a retry"})
    assert again.status_code == 200, again.text
    assert again.json() == current
    assert versions(admin)[0] == current["version"]


def test_a_change_is_audited_with_both_versions_and_what_changed(live, admin):
    old = admin.get("/policy").json()
    body = {**old["policy"], "renewal_notice_days": 45, "credit_limit": "50000"}
    new = admin.put("/policy", json={"policy": body, "note": "renewals"}).json()

    views = DealViews(live.engine)
    recorded = next(
        e for e in views.history(POLICY_CHAIN) if e.data["to_version"] == new["version"]
    )
    assert (recorded.actor, recorded.action) == ("admin", "policy.changed")
    assert recorded.data["from_version"] == old["version"]
    assert recorded.data["note"] == "renewals"
    assert {c["field"]: (c["before"], c["after"]) for c in recorded.data["changes"]} == {
        "renewal_notice_days": (old["policy"]["renewal_notice_days"], 45),
        "credit_limit": (old["policy"]["credit_limit"], "50000"),
    }
    assert (
        check_chain(*views.chain(POLICY_CHAIN), live.settings.audit_secret).first_broken_seq is None
    )


def recorded(api, deal_id: str) -> dict[str, Any]:
    """The deal as GET /deals/{id} shows it; empty while it is not recorded yet."""
    answer = api.get(f"/deals/{deal_id}")
    return dict(answer.json()) if answer.status_code == 200 else {}


class PolicyReads:
    """Counts the statements that read policy_versions through one engine."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.count += "policy_versions" in statement


def test_an_import_reads_the_policy_once_and_every_deal_keeps_its_version(live, as_user):
    services = make_services(live.settings, live.engine, live.client)
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["company", "contact_name", "email", "source"])
    tag = uuid.uuid4().hex[:8]
    writer.writerows(
        [f"Policy {tag} {i}", "Pat", f"p{i}@policy-{tag}.example", "web"] for i in range(5)
    )
    manager = Actor(username="manager", role=Role.SALES_MANAGER)
    run_import = leads.import_leads(
        services, manager, rows.getvalue().encode(), lambda key: uuid.uuid4().hex
    )
    reads = PolicyReads()
    event.listen(live.engine, "before_cursor_execute", reads)
    try:  # in a worker thread of the stack's loop, as the API runs it
        result = live.run(anyio.to_thread.run_sync(run_import))
    finally:
        event.remove(live.engine, "before_cursor_execute", reads)
    assert (result.created, reads.count) == (5, 1)
    manager_api = as_user("manager")
    current = manager_api.get("/policy").json()["version"]
    for deal in result.deals:  # an import starts its deals; each records itself soon after
        shown = wait_for(partial(recorded, manager_api, deal.deal_id), 30, "the deal")
        assert shown["policy_version"] == current
