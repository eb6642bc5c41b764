"""Orders and deliveries: only what was sold, never more than ordered, fulfilled on time or late."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.errors import InvalidInput
from domain.orders import (
    Delivery,
    DeliveryRequest,
    Order,
    OrderStatus,
    apply_delivery,
    check_delivery,
    order_from_quote,
)
from tests.unit.examples import ISSUED_AT, entry, line, quote, scaled

DUE = ISSUED_AT + timedelta(days=14)


def order() -> Order:
    sold = quote(
        [entry("GW-100", "349.90"), entry("SENSOR-T", "89.99")],
        [line("GW-100", "3"), line("SENSOR-T", "2.5")],
    )
    return order_from_quote("O-1", sold, created_at=ISSUED_AT, due_date=DUE)


def request(*lines: tuple[str, str], reference: str = "DEL-1") -> DeliveryRequest:
    return DeliveryRequest(
        lines=[{"sku": sku, "quantity": Decimal(quantity)} for sku, quantity in lines],
        reference=reference,
    )


def deliver(current: Order, *lines: tuple[str, str], at=ISSUED_AT) -> Order:
    checked = request(*lines)
    check_delivery(current, checked)
    return apply_delivery(
        current, Delivery(reference=checked.reference, lines=checked.lines, delivered_at=at)
    )


def refusal(current: Order, *lines: tuple[str, str]) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        check_delivery(current, request(*lines))
    return refused.value


# --- an order from a quote ---


def test_an_order_has_the_lines_of_the_quote_with_nothing_delivered():
    created = order()
    assert [(ln.sku, ln.quantity, ln.delivered) for ln in created.lines] == [
        ("GW-100", Decimal(3), Decimal(0)),
        ("SENSOR-T", Decimal("2.5"), Decimal(0)),
    ]
    assert (created.status, created.currency, created.due_date) == (OrderStatus.OPEN, "EUR", DUE)


# --- refusals ---


def test_a_sku_not_on_the_order_is_refused():
    refused = refusal(order(), ("GW-100", "1"), ("ONBOARD", "1"))
    assert refused.field == ("lines", 1, "sku")
    assert "not on this order" in refused.message


def test_a_sku_twice_in_one_delivery_is_refused():
    refused = refusal(order(), ("GW-100", "1"), ("GW-100", "1"))
    assert refused.field == ("lines", 1, "sku")
    assert "appears twice" in refused.message


def test_delivering_more_than_ordered_is_refused():
    refused = refusal(order(), ("SENSOR-T", "2.501"))
    assert refused.field == ("lines", 0, "quantity")
    assert "only 2.5 of SENSOR-T left to deliver" in refused.message


def test_delivering_more_than_is_left_after_earlier_deliveries_is_refused():
    refused = refusal(deliver(order(), ("GW-100", "2")), ("GW-100", "2"))
    assert refused.field == ("lines", 0, "quantity")


def test_delivering_exactly_what_is_left_is_accepted():
    check_delivery(deliver(order(), ("GW-100", "2")), request(("GW-100", "1")))


@pytest.mark.parametrize("quantity", ["0", "-1", "0.0001"])
def test_a_delivered_quantity_is_positive_with_at_most_three_decimals(quantity):
    with pytest.raises(ValidationError):
        DeliveryRequest(lines=[{"sku": "GW-100", "quantity": quantity}], reference="DEL-1")


def test_a_delivery_needs_a_reference():
    with pytest.raises(ValidationError):
        DeliveryRequest(lines=[{"sku": "GW-100", "quantity": "1"}], reference="")


# --- applying deliveries ---


def test_a_partial_delivery_leaves_the_order_open():
    partly = deliver(order(), ("GW-100", "1"))
    assert (partly.status, partly.fulfilled_at, partly.on_time) == (OrderStatus.OPEN, None, None)
    assert partly.delivered == {"GW-100": Decimal(1), "SENSOR-T": Decimal(0)}


def test_the_delivery_that_completes_the_order_fulfils_it_on_time():
    at = DUE - timedelta(days=1)
    done = deliver(deliver(order(), ("GW-100", "3")), ("SENSOR-T", "2.5"), at=at)
    assert (done.status, done.fulfilled_at, done.on_time) == (OrderStatus.FULFILLED, at, True)


def test_an_order_fulfilled_exactly_at_the_due_date_is_on_time():
    done = deliver(order(), ("GW-100", "3"), ("SENSOR-T", "2.5"), at=DUE)
    assert done.on_time is True


def test_an_order_fulfilled_after_the_due_date_is_late():
    done = deliver(order(), ("GW-100", "3"), ("SENSOR-T", "2.5"), at=DUE + timedelta(seconds=1))
    assert (done.status, done.on_time) == (OrderStatus.FULFILLED, False)


@given(
    st.lists(
        st.tuples(st.sampled_from(["GW-100", "SENSOR-T"]), st.integers(1, 4000)),
        min_size=1,
        max_size=12,
    )
)
def test_checked_deliveries_never_deliver_more_than_ordered(attempts):
    current = order()
    for sku, thousandths in attempts:
        try:
            current = deliver(current, (sku, str(scaled(thousandths, 3))))
        except InvalidInput:
            continue
    assert all(ln.delivered <= ln.quantity for ln in current.lines)
    assert (current.status is OrderStatus.FULFILLED) is current.is_fully_delivered
