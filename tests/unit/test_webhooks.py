"""Webhook rules: which audit events are told as which event, with what data; signatures as
receivers check them; the URLs an endpoint may have; the web form's rate limit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.rate_limit import TokenBucket
from domain.webhook_signature import SignatureInvalid, signature_header, verify_signature
from domain.webhooks import (
    DeliveryJob,
    EventType,
    check_endpoint_url,
    events_for,
    target_refused,
    workflow_id,
)

AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SECRET = "whsec_test"
BODY = b'{"id":"evt_1","type":"invoice.issued"}'
NOW = 1_800_000_000


def test_a_stage_change_is_told_without_its_note() -> None:
    (event,) = events_for("d1", "stage:3", AT, "stage.changed", {"stage": "LOST", "note": "x"})
    assert event.type is EventType.DEAL_STAGE_CHANGED
    assert event.data == {"stage": "LOST"}
    assert event.deal_id == "d1" and event.created_at == AT


def test_a_credit_note_is_told_as_invoice_credited_without_its_reason() -> None:
    data = {"number": "CN-1", "invoice": "INV-1", "amount": "10.00", "reason": "Ada was upset"}
    (event,) = events_for("d1", "credit-note:CN-1", AT, "credit_note.issued", data)
    assert event.type is EventType.INVOICE_CREDITED
    assert "reason" not in event.data


def test_a_payment_that_settles_its_invoice_is_also_invoice_paid() -> None:
    data = {"reference": "R1", "invoice": "INV-1", "amount": "5", "currency": "EUR"}
    paid = {"invoice": "INV-1", "total": "5", "currency": "EUR"}
    told = events_for("d1", "payment:R1", AT, "payment.recorded", data, paid)
    assert [e.type for e in told] == [EventType.PAYMENT_RECORDED, EventType.INVOICE_PAID]
    assert [e.type for e in events_for("d1", "payment:R1", AT, "payment.recorded", data)] == [
        EventType.PAYMENT_RECORDED
    ]


def test_other_actions_are_not_told() -> None:
    assert events_for("d1", "note:1", AT, "note.added", {"body": "hi"}) == []


def test_an_event_id_is_the_same_for_every_retry_and_differs_by_event() -> None:
    first = events_for("d1", "stage:3", AT, "stage.changed", {"stage": "WON"})[0].id
    again = events_for("d1", "stage:3", AT, "stage.changed", {"stage": "WON"})[0].id
    other = events_for("d1", "stage:4", AT, "stage.changed", {"stage": "WON"})[0].id
    assert first == again != other
    assert first.startswith("evt_")


def test_a_redelivery_has_a_workflow_of_its_own() -> None:
    assert workflow_id(DeliveryJob(delivery_id="whd_1", generation=0)) == "webhook-whd_1"
    assert workflow_id(DeliveryJob(delivery_id="whd_1", generation=2)).startswith("webhook-whd_1-")


def test_a_signature_verifies_and_names_its_time() -> None:
    header = signature_header(SECRET, NOW, BODY)
    assert header.startswith(f"t={NOW},v1=")
    assert verify_signature(SECRET, header, BODY, NOW + 299) == NOW


@given(st.binary(min_size=1, max_size=200))
def test_any_other_body_fails(other: bytes) -> None:
    header = signature_header(SECRET, NOW, BODY)
    if other != BODY:
        with pytest.raises(SignatureInvalid):
            verify_signature(SECRET, header, other, NOW)


@pytest.mark.parametrize(
    ("header", "now"),
    [
        (signature_header("whsec_other", NOW, BODY), NOW),  # another secret
        (signature_header(SECRET, NOW, BODY), NOW + 301),  # too old: a replay
        (signature_header(SECRET, NOW, BODY), NOW - 301),  # from the future
        (f"t={NOW}", NOW),  # no signature
        ("v1=abc", NOW),  # no time
    ],
)
def test_a_wrong_old_or_partial_signature_fails(header: str, now: int) -> None:
    with pytest.raises(SignatureInvalid):
        verify_signature(SECRET, header, BODY, now)


def test_any_of_several_signatures_may_match() -> None:
    mine = signature_header(SECRET, NOW, BODY).split(",")[1]
    assert verify_signature(SECRET, f"t={NOW},v1=00ff,{mine}", BODY, NOW) == NOW


@pytest.mark.parametrize("url", ["https://hooks.example.com/l2c", "https://10.0.0.5:8443/in?x=1"])
def test_https_urls_are_accepted(url: str) -> None:
    assert check_endpoint_url(url, allow_loopback_http=False) == url


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://hooks.example.com/l2c", True),  # plain http off this machine
        ("http://127.0.0.1:9000/hooks", False),  # loopback, but not allowed here
        ("ftp://hooks.example.com/", True),
        ("https:///no-host", True),
        ("https://user:pw@hooks.example.com/", True),  # credentials in the URL
        ("not a url", True),
        ("https://[::1/broken", True),
        ("https://hooks example.com/", True),
        ("https://hooks.example.com/\x00", True),
    ],
)
def test_other_urls_are_refused_naming_the_url(url: str, allowed: bool) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_endpoint_url(url, allow_loopback_http=allowed)
    assert refused.value.field == ("url",)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/h", "http://localhost/h", "http://[::1]/h"])
def test_plain_http_to_this_machine_where_allowed(url: str) -> None:
    assert check_endpoint_url(url, allow_loopback_http=True) == url


def test_the_bucket_allows_a_burst_then_refuses_until_it_refills() -> None:
    rule = TokenBucket(per_minute=5, burst=5)
    bucket = None
    for _ in range(5):
        bucket, wait = rule.take(bucket, now=100.0)
        assert wait is None
    bucket, wait = rule.take(bucket, now=100.0)
    assert wait == 12  # one token every 12 seconds
    assert bucket is not None
    _, wait = rule.take(bucket, now=112.0)
    assert wait is None


@given(st.lists(st.floats(min_value=0, max_value=30), min_size=1, max_size=60))
def test_no_more_than_burst_plus_the_rate_get_through(gaps: list[float]) -> None:
    rule = TokenBucket(per_minute=5, burst=5)
    bucket, now, allowed = None, 0.0, 0
    for gap in gaps:
        now += gap
        bucket, wait = rule.take(bucket, now)
        allowed += wait is None
    assert allowed <= 5 + now * 5 / 60 + 1e-9


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.10", "private"),
        ("fd00::1", "private"),
        ("127.0.0.1", "this machine"),
        ("::ffff:127.0.0.1", "this machine"),
        ("::1", "this machine"),
        ("0.0.0.0", "unicast"),
        ("224.0.0.1", "unicast"),
    ],
)
def test_a_receiver_inside_the_network_is_not_called(address, why):
    refused = target_refused(address, allow_loopback=False, allow_private=False)
    assert refused is not None and why in refused


def test_a_public_receiver_is_called_and_allowances_open_only_their_part():
    assert target_refused("93.184.216.34", allow_loopback=False, allow_private=False) is None
    assert target_refused("127.0.0.1", allow_loopback=True, allow_private=False) is None
    assert target_refused("10.0.0.5", allow_loopback=True, allow_private=False) is not None
    assert target_refused("10.0.0.5", allow_loopback=False, allow_private=True) is None
    assert target_refused("169.254.169.254", allow_loopback=True, allow_private=True) is not None


def test_the_sender_refuses_a_url_that_resolves_inside_without_calling_it():
    from adapters.webhooks.sender import WebhookSender

    sender = WebhookSender(1.0)
    assert "127.0.0.1, this machine" in (sender.refusal("https://127.0.0.1:9/hook") or "")
    assert "link-local" in (sender.refusal("https://169.254.169.254/latest") or "")
    assert WebhookSender(1.0, allow_loopback=True).refusal("http://127.0.0.1:9/hook") is None
