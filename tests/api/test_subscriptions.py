"""Subscriptions over HTTP: the owner (or a manager) upgrades, downgrades, cancels at term
end and renews; everyone who may see the deal reads its history; refusals name the field
and change nothing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.app import create_app
from tests.conftest import PASSWORD, wait_for
from tests.flows import quote_body
from tests.workflow.test_billing_schedule import policy
from tests.workflow.test_collection import signed_deal


def test_the_owner_changes_cancels_and_renews_a_subscription(live, as_user):
    rep, other, ops, manager = as_user("rep1"), as_user("rep2"), as_user("ops"), as_user("manager")
    lines = [{"sku": "SUPPORT-GOLD", "quantity": "2", "auto_renew": True}]
    # Policy days of half a second: the term (360 days) outlasts the test on a busy machine.
    quote = quote_body(lines=lines, billing_plan={"kind": "upfront"}, valid_days=365)
    deal_id = signed_deal(live, as_user, policy(0.5), quote)
    go_live = {"reference": "GO-LIVE", "lines": [{"sku": "SUPPORT-GOLD", "quantity": "2"}]}
    assert ops.post(f"/deals/{deal_id}/deliveries", json=go_live).status_code == 200

    found = wait_for(
        lambda: rep.get("/subscriptions", params={"deal_id": deal_id}).json(), 30, "activated"
    )
    (subscription,) = found
    sid = subscription["subscription_id"]
    assert subscription["monthly_value"] == "400.00"  # 2 x 2400.00 a year
    assert subscription["current"]["auto_renew"] is True

    # Only the owner's side may change it; others do not even see it.
    assert other.get(f"/subscriptions/{sid}").status_code == 404
    assert other.post(f"/subscriptions/{sid}/changes", json={"quantity": "3"}).status_code == 404
    assert ops.post(f"/subscriptions/{sid}/changes", json={"quantity": "3"}).status_code == 403
    refused = rep.post(f"/subscriptions/{sid}/changes", json={"quantity": "0"})
    assert refused.status_code == 422 and "quantity" in refused.text
    assert rep.post(f"/subscriptions/{sid}/changes", json={"quantity": "2"}).status_code == 409
    assert rep.post(f"/subscriptions/{sid}/renew", json={}).status_code == 409  # renews anyway

    upgraded = rep.post(f"/subscriptions/{sid}/changes", json={"quantity": "3"})
    assert upgraded.status_code == 200, upgraded.text
    assert upgraded.json()["subscription"]["quantity"] == "3"
    charged = upgraded.json()["charged"]
    assert charged is not None and float(charged["net"]) >= 0

    cancelled = manager.post(f"/subscriptions/{sid}/cancel", json={"reason": "budget cut"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["subscription"]["auto_renew"] is False
    assert cancelled.json()["next_renewal_price"] is None
    assert rep.post(f"/subscriptions/{sid}/cancel", json={}).status_code == 409
    renewed = rep.post(f"/subscriptions/{sid}/renew", json={"reason": "they stay after all"})
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["renewal_confirmed"] is True
    assert renewed.json()["next_renewal_price"] == "2472.00"  # the policy's 3 % uplift

    history = rep.get(f"/subscriptions/{sid}").json()["history"]
    assert [(s["quantity"], s["auto_renew"]) for s in history] == [
        ("2", True),
        ("3", True),
        ("3", False),
    ]
    events = [e["action"] for e in rep.every(f"/deals/{deal_id}/history")]
    assert "subscription.changed" in events and "subscription.renewal_confirmed" in events
    assert "mrr" in manager.get("/kpis").json()


def test_the_owner_changes_cancels_and_renews_a_subscription_on_the_deal_page(live, as_user):
    """The renewal-quote e-mail links to the deal page: everything the seller does with a
    subscription is there, and a refusal is shown on the page."""
    ops = as_user("ops")
    lines = [{"sku": "SUPPORT-GOLD", "quantity": "2", "auto_renew": True}]
    quote = quote_body(lines=lines, billing_plan={"kind": "upfront"}, valid_days=365)
    deal_id = signed_deal(live, as_user, policy(0.5), quote)
    go_live = {"reference": "GO-LIVE", "lines": [{"sku": "SUPPORT-GOLD", "quantity": "2"}]}
    assert ops.post(f"/deals/{deal_id}/deliveries", json=go_live).status_code == 200
    rep = as_user("rep1")
    wait_for(lambda: rep.get("/subscriptions", params={"deal_id": deal_id}).json(), 30, "active")

    with TestClient(create_app(live.settings), base_url=live.base_url) as browser:
        login = re.search(r'name="login_csrf" value="([^"]+)"', browser.get("/ui/login").text)
        assert login is not None
        signed_in = browser.post(
            "/ui/login",
            data={"username": "rep1", "password": PASSWORD, "login_csrf": login.group(1)},
        )
        assert signed_in.status_code == 200, signed_in.text
        page = browser.get(f"/ui/deals/{deal_id}").text
        assert 'id="subscriptions"' in page and "renews by itself" in page
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        sid = re.search(r'action="/ui/subscriptions/([^/"]+)/quantity"', page)
        assert csrf is not None and sid is not None
        base = f"/ui/subscriptions/{sid.group(1)}"

        def post(path: str, **fields: str) -> str:
            answer = browser.post(f"{base}/{path}", data={"csrf": csrf.group(1), **fields})
            assert answer.status_code == 200, answer.text  # after the redirect to the deal
            assert answer.url.path == f"/ui/deals/{deal_id}"
            return str(answer.text)

        refused = post("quantity", quantity="0")
        assert "Refused (422): quantity" in refused, refused
        assert "is now 3 units" in post("quantity", quantity="3")
        cancelled = post("cancel", reason="budget cut")
        assert "ends with its term" in cancelled and "ends unless renewed" in cancelled
        renewed = post("renew", reason="they stay")
        assert "renews at its term" in renewed and "renews (confirmed)" in renewed
        assert f'action="{base}/renew"' not in renewed
    history = rep.get(f"/subscriptions/{sid.group(1)}").json()["history"]
    assert [(s["quantity"], s["auto_renew"]) for s in history][-2:] == [("3", True), ("3", False)]
