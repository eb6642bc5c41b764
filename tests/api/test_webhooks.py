"""Outbound webhooks against a real receiver: signed events when a deal qualifies and its
invoice is issued and paid, retries in the delivery log, redelivery, 410 Gone, admins only."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from domain.webhook_signature import verify_signature
from tests.api.test_einvoice import delivered_invoice
from tests.conftest import Api, wait_for
from tests.flows import to_quoting
from tests.webhook_receiver import Receiver

Register = Callable[..., tuple[dict[str, Any], Receiver]]


@pytest.fixture
def register(as_user: Callable[[str], Api]) -> Iterator[Register]:
    """Registers endpoints with receivers of their own; disables and stops them after."""
    admin = as_user("admin")
    made: list[tuple[dict[str, Any], Receiver]] = []

    def make(events: list[str], answers: tuple[int, ...] = ()) -> tuple[dict[str, Any], Receiver]:
        receiver = Receiver(answers)
        created = admin.post("/webhooks", json={"url": receiver.url, "events": events})
        assert created.status_code == 201, created.text
        made.append((created.json(), receiver))
        return created.json(), receiver

    yield make
    for endpoint, receiver in made:
        admin.http.delete(f"/webhooks/{endpoint['id']}")
        receiver.stop()


def deliveries(admin: Api, endpoint_id: str, deal_id: str) -> list[dict[str, Any]]:
    found = admin.get(f"/webhooks/{endpoint_id}/deliveries").json()
    return [d for d in found if d["deal_id"] == deal_id]


def settled(admin: Api, endpoint_id: str, deal_id: str, status: str) -> dict[str, Any]:
    """The deal's one delivery, once it has that status."""

    def done() -> dict[str, Any]:
        found = deliveries(admin, endpoint_id, deal_id)
        return found[0] if len(found) == 1 and found[0]["status"] == status else {}

    return wait_for(done, 30, f"a {status} delivery")


def test_a_qualified_deal_reaches_the_receiver_signed(as_user, register) -> None:
    endpoint, receiver = register(["deal.stage_changed"])
    assert endpoint["secret"].startswith("whsec_")
    assert "secret" not in as_user("admin").get("/webhooks").json()[0]

    deal_id = to_quoting(as_user("rep1"))["deal_id"]

    (got,) = wait_for(lambda: receiver.events(deal_id, "deal.stage_changed"), 30, "the event")
    assert got.event["data"] == {"stage": "QUOTING"}
    assert got.headers["L2C-Event-Id"] == got.event["id"]
    signed = got.headers["L2C-Signature"]
    assert (
        abs(verify_signature(endpoint["secret"], signed, got.body, int(time.time())) - time.time())
        < 60
    )
    assert b"Ada" not in got.body and b"@" not in got.body  # no personal data
    delivery = settled(as_user("admin"), endpoint["id"], deal_id, "delivered")
    assert delivery["attempts"] == 1
    assert delivery["type"] == "deal.stage_changed"


def test_invoice_issued_and_paid_are_told(live, as_user, register) -> None:
    endpoint, receiver = register(["invoice.issued", "invoice.paid", "payment.recorded"])
    deal_id, number = delivered_invoice(live, as_user)
    (issued,) = wait_for(lambda: receiver.events(deal_id, "invoice.issued"), 30, "issued")
    assert issued.event["data"]["number"] == number
    verify_signature(
        endpoint["secret"], issued.headers["L2C-Signature"], issued.body, int(time.time())
    )
    invoice = as_user("finance").get(f"/invoices/{number}").json()
    paid = as_user("finance").post(
        "/payments",
        json={
            "invoice_number": number,
            "amount": str(invoice["balance"]),
            "currency": invoice["currency"],
            "reference": f"BANK-{deal_id[:8]}",
        },
    )
    assert paid.status_code in (200, 201), paid.text
    (payment,) = wait_for(lambda: receiver.events(deal_id, "payment.recorded"), 30, "payment")
    assert payment.event["data"]["invoice"] == number
    (settled_event,) = wait_for(lambda: receiver.events(deal_id, "invoice.paid"), 30, "paid")
    assert settled_event.event["data"]["invoice"] == number


def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt(as_user, register):
    endpoint, receiver = register(["deal.stage_changed"], answers=(500, 503))
    deal_id = to_quoting(as_user("rep1"))["deal_id"]

    delivery = settled(as_user("admin"), endpoint["id"], deal_id, "delivered")

    assert delivery["attempts"] == 3
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 503, 200]
    assert len(receiver.events(deal_id, "deal.stage_changed")) == 3


def test_redelivery_sends_the_same_event_again(as_user, register) -> None:
    admin = as_user("admin")
    endpoint, receiver = register(["deal.stage_changed"])
    deal_id = to_quoting(as_user("rep1"))["deal_id"]
    first = settled(admin, endpoint["id"], deal_id, "delivered")

    again = admin.post(f"/webhooks/{endpoint['id']}/deliveries/{first['id']}/redeliver")

    assert again.status_code == 202, again.text
    wait_for(lambda: len(receiver.events(deal_id, "deal.stage_changed")) == 2, 30, "again")
    got = receiver.events(deal_id, "deal.stage_changed")
    assert got[0].event["id"] == got[1].event["id"]
    delivery = settled(admin, endpoint["id"], deal_id, "delivered")
    assert delivery["attempts"] == 2
    assert [a["generation"] for a in delivery["attempt_log"]] == [0, 1]


def test_a_receiver_that_never_accepts_leaves_a_failed_delivery(live, as_user, register):
    endpoint, receiver = register(["deal.stage_changed"], answers=(500,) * 10)
    deal_id = to_quoting(as_user("rep1"))["deal_id"]

    delivery = settled(as_user("admin"), endpoint["id"], deal_id, "failed")

    assert delivery["attempts"] == live.settings.webhook_retry_max_attempts
    assert delivery["last_status_code"] == 500
    assert delivery["failed_at"] is not None


def test_410_gone_disables_the_endpoint(as_user, register) -> None:
    admin = as_user("admin")
    endpoint, receiver = register(["deal.stage_changed"], answers=(410,))
    deal_id = to_quoting(as_user("rep1"))["deal_id"]

    delivery = settled(admin, endpoint["id"], deal_id, "failed")

    assert delivery["attempts"] == 1
    (listed,) = [e for e in admin.get("/webhooks").json() if e["id"] == endpoint["id"]]
    assert listed["enabled"] is False
    assert "410" in listed["disabled_reason"]


def test_a_rotated_secret_signs_what_follows(as_user, register) -> None:
    admin = as_user("admin")
    endpoint, receiver = register(["deal.stage_changed"])
    rotated = admin.post(f"/webhooks/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    secret = rotated.json()["secret"]
    assert secret != endpoint["secret"]

    deal_id = to_quoting(as_user("rep1"))["deal_id"]

    (got,) = wait_for(lambda: receiver.events(deal_id, "deal.stage_changed"), 30, "the event")
    verify_signature(secret, got.headers["L2C-Signature"], got.body, int(time.time()))


def test_only_admins_manage_webhooks(as_user) -> None:
    rep = as_user("rep1")
    body = {"url": "https://hooks.example.com/l2c", "events": ["invoice.issued"]}
    assert rep.post("/webhooks", json=body).status_code == 403
    assert rep.get("/webhooks").status_code == 403
    assert as_user("finance").post("/webhooks", json=body).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://hooks.example.com/l2c", "events": ["invoice.issued"]}, "url"),
        ({"url": "https://hooks.example.com/l2c", "events": ["invoice.lost"]}, "events"),
        ({"url": "https://hooks.example.com/l2c", "events": []}, "events"),
    ],
)
def test_a_bad_endpoint_is_refused_naming_the_field(as_user, body, field) -> None:
    admin = as_user("admin")
    before = len(admin.get("/webhooks").json())
    refused = admin.post("/webhooks", json=body)
    assert refused.status_code == 422
    assert field in [str(part) for e in refused.json()["detail"] for part in e["loc"]]
    assert len(admin.get("/webhooks").json()) == before
