"""Payments against an invoice: same currency, whole minor units, at most the open balance."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.errors import PaymentRefused
from domain.invoices import Invoice, InvoiceStatus, PaymentIn, check_payment, credit_exposure
from tests.unit.examples import ISSUED_AT, scaled


def invoice(
    total: str = "120.00",
    paid: str = "0",
    currency: str = "EUR",
    status: InvoiceStatus = InvoiceStatus.OPEN,
) -> Invoice:
    return Invoice(
        number="2030-000001",
        deal_id="D-1",
        billing_key="upfront",
        currency=currency,
        lines=[],
        net_total=Decimal(total),
        tax_total=Decimal(0),
        total=Decimal(total),
        issued_at=ISSUED_AT,
        due_date=ISSUED_AT + timedelta(days=30),
        paid=Decimal(paid),
        status=status,
    )


def payment(amount: str, currency: str = "EUR") -> PaymentIn:
    return PaymentIn(
        invoice_number="2030-000001", amount=Decimal(amount), currency=currency, reference="BANK-1"
    )


def refusal(to: Invoice, paid: PaymentIn) -> PaymentRefused:
    with pytest.raises(PaymentRefused) as refused:
        check_payment(to, paid)
    return refused.value


def test_the_balance_is_what_is_still_unpaid():
    assert invoice(total="120.00", paid="20.50").balance == Decimal("99.50")


def test_a_payment_of_the_whole_balance_is_accepted():
    check_payment(invoice(total="120.00", paid="20.00"), payment("100.00"))


@given(st.integers(1, 12_000))
def test_any_payment_up_to_the_balance_in_whole_cents_is_accepted(cents):
    check_payment(invoice(total="120.00"), payment(str(scaled(cents, 2))))


def test_a_payment_in_another_currency_is_refused():
    refused = refusal(invoice(currency="EUR"), payment("10.00", currency="USD"))
    assert refused.field == ("currency",)
    assert "is in EUR" in refused.message


@pytest.mark.parametrize(
    ("currency", "amount"), [("EUR", "10.001"), ("JPY", "100.5"), ("KWD", "1.0005")]
)
def test_a_payment_below_the_minor_unit_is_refused(currency, amount):
    refused = refusal(invoice(total="1000", currency=currency), payment(amount, currency))
    assert refused.field == ("amount",)


def test_a_payment_with_three_decimals_in_dinar_is_accepted():
    check_payment(invoice(total="10.000", currency="KWD"), payment("1.005", "KWD"))


def test_a_payment_over_the_open_balance_is_refused():
    refused = refusal(invoice(total="120.00", paid="100.00"), payment("20.01"))
    assert refused.field == ("amount",)
    assert "more than the open balance 20.00" in refused.message


@pytest.mark.parametrize(
    "status", [InvoiceStatus.PAID, InvoiceStatus.WRITTEN_OFF, InvoiceStatus.CREDITED]
)
def test_a_payment_to_an_invoice_that_is_not_open_is_refused(status):
    refused = refusal(invoice(status=status), payment("1.00"))
    assert refused.field == ("invoice_number",)


# --- what a payment is ---


def payment_body(**overrides):
    return {
        "invoice_number": "2030-000001",
        "amount": "10.00",
        "currency": "EUR",
        "reference": "BANK-1",
        **overrides,
    }


@pytest.mark.parametrize("amount", ["0", "-10.00", 10.5, "NaN", "Infinity"])
def test_a_payment_amount_is_a_positive_exact_decimal(amount):
    with pytest.raises(ValidationError):
        PaymentIn.model_validate(payment_body(amount=amount))


@pytest.mark.parametrize("reference", ["", " BANK-1", "BANK\n1", "ÜBERWEISUNG-1"])
def test_a_payment_reference_is_printable_ascii_not_starting_with_a_space(reference):
    with pytest.raises(ValidationError):
        PaymentIn.model_validate(payment_body(reference=reference))


def test_a_payment_currency_must_be_known():
    with pytest.raises(ValidationError, match="unsupported currency"):
        PaymentIn.model_validate(payment_body(currency="BTC"))


def test_a_payment_refuses_unknown_fields():
    with pytest.raises(ValidationError):
        PaymentIn.model_validate(payment_body(deal_id="D-1"))


def test_credit_exposure_is_the_open_balances_in_the_currency_asked():
    invoices = [
        invoice("100.00", paid="30.00"),
        invoice("50.00"),
        invoice("999.00", currency="USD"),
        invoice("80.00", paid="80.00", status=InvoiceStatus.PAID),
        invoice("70.00", status=InvoiceStatus.WRITTEN_OFF),
    ]
    assert credit_exposure(invoices, "EUR") == Decimal("120.00")
    assert credit_exposure(invoices, "USD") == Decimal("999.00")
    assert credit_exposure(invoices, "CHF") == Decimal(0)
