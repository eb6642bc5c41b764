"""A customer's credit: held over its limit or with an invoice overdue past its grace,
exposure in the limit's currency only, and finance's approval for deals it cannot carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.approval import ApprovalStep, with_credit_standing
from domain.credit import (
    CreditStanding,
    CreditTerms,
    CreditTermsIn,
    Receivable,
    check_not_on_hold,
    credit_check,
    credit_standing,
)
from domain.errors import CreditHold, InvalidInput
from domain.money import Money
from domain.policy import DealPolicy
from domain.users import Role

NOW = datetime(2030, 6, 1, 12, tzinfo=UTC)
GRACE = timedelta(days=30)


def terms(limit: str, currency: str = "EUR", days: int = 30) -> CreditTerms:
    return CreditTerms(limit=Money.of(limit, currency), payment_terms_days=days)


def owed(amount: str, currency: str = "EUR", days_past_due: float = 0, n: int = 1) -> Receivable:
    return Receivable(
        number=f"INV-{n}",
        balance=Money.of(amount, currency),
        due_date=NOW - timedelta(days=days_past_due),
        grace=GRACE,
    )


def standing(
    limit: CreditTerms | None, *receivables: Receivable, default: Money | None = None
) -> CreditStanding:
    return credit_standing("cus_1", "Acme", limit, list(receivables), NOW, default)


# --- on hold ---


def test_a_customer_whose_open_invoices_exceed_its_limit_is_on_hold():
    held = standing(terms("1000.00"), owed("600.00"), owed("400.01", n=2))
    assert held.on_hold
    assert held.exposure == Decimal("1000.01")
    assert held.hold_reasons == [
        "open invoices of 1000.01 EUR exceed the credit limit of 1000.00 EUR"
    ]


def test_open_invoices_exactly_at_the_limit_are_no_hold():
    assert not standing(terms("1000.00"), owed("600.00"), owed("400.00", n=2)).on_hold


def test_an_invoice_overdue_past_its_grace_holds_the_customer_whatever_its_limit():
    held = standing(terms("1000000.00"), owed("10.00", days_past_due=30.001))
    assert held.on_hold
    assert [o.number for o in held.overdue] == ["INV-1"]
    assert "invoice INV-1 (10.00 EUR)" in held.hold_reasons[0]
    assert "past its grace" in held.hold_reasons[0]


def test_an_invoice_overdue_exactly_its_grace_is_no_hold_yet():
    assert not standing(terms("1000.00"), owed("10.00", days_past_due=30)).on_hold


def test_an_overdue_invoice_in_another_currency_holds_too():
    held = standing(terms("1000.00"), owed("10.00", "USD", days_past_due=31))
    assert held.on_hold and held.exposure == Decimal("0.00")


def test_every_cause_of_a_hold_is_named():
    held = standing(
        terms("100.00"), owed("150.00", days_past_due=40), owed("5.00", days_past_due=31, n=2)
    )
    assert len(held.hold_reasons) == 3


def test_a_customer_without_terms_is_judged_by_the_deals_default_limit_in_its_currency():
    held = standing(None, owed("150.00", "USD"), default=Money.of("100", "USD"))
    assert held.on_hold and held.limit == Decimal("100.00") and held.currency == "USD"
    assert held.payment_terms_days is None


def test_a_customer_without_terms_read_without_a_deal_is_held_only_when_overdue():
    read = standing(None, owed("1000000.00"))
    assert not read.on_hold and read.limit is None and read.exposure is None
    assert read.other_currencies == [Money.of("1000000.00", "EUR")]
    assert standing(None, owed("1.00", days_past_due=31)).on_hold


def test_the_grace_is_thirty_policy_days_by_default():
    assert DealPolicy().credit_grace() == timedelta(days=30)
    assert DealPolicy(day=timedelta(seconds=1)).credit_grace() == timedelta(seconds=30)


# --- one currency, no FX ---


def test_exposure_counts_only_invoices_in_the_limits_currency():
    read = standing(terms("1000.00"), owed("900.00"), owed("5000.00", "USD", n=2))
    assert read.exposure == Decimal("900.00") and not read.on_hold
    assert read.other_currencies == [Money.of("5000.00", "USD")]


def test_a_hold_for_the_limit_says_other_currencies_were_not_counted():
    held = standing(terms("100.00"), owed("900.00"), owed("1.00", "GBP", n=2))
    assert held.hold_reasons == [
        "open invoices of 900.00 EUR exceed the credit limit of 100.00 EUR "
        "(open invoices in GBP are not counted: no FX)"
    ]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["EUR", "USD", "JPY"]),
            st.decimals(min_value=0, max_value=10**6, places=0),
        ),
        max_size=8,
    )
)
def test_exposure_is_the_sum_of_the_open_balances_in_the_limits_currency(invoices):
    receivables = [
        owed(str(amount), currency, n=i) for i, (currency, amount) in enumerate(invoices)
    ]
    read = standing(terms("500000", "EUR"), *receivables)
    assert read.exposure == sum((a for c, a in invoices if c == "EUR"), Decimal(0))
    assert read.on_hold == (read.exposure > 500000)
    assert {m.currency for m in read.other_currencies} == {c for c, _ in invoices} - {"EUR"}


# --- what a deal needs ---


def test_a_deal_that_takes_the_customer_over_its_limit_needs_finance():
    read = standing(terms("1000.00"), owed("600.00"))
    why = credit_check(read, Money.of("400.01", "EUR"))
    assert why == "credit check: 600.00 EUR open plus 400.01 EUR exceeds the limit of 1000.00 EUR"


def test_a_deal_that_reaches_the_limit_exactly_needs_no_finance():
    assert credit_check(standing(terms("1000.00"), owed("600.00")), Money.of("400", "EUR")) is None


def test_any_deal_of_a_customer_on_hold_needs_finance():
    held = standing(terms("1000000.00"), owed("10.00", days_past_due=31))
    why = credit_check(held, Money.of("1.00", "EUR"))
    assert why is not None and why.startswith(
        "credit check: customer on credit hold: invoice INV-1"
    )


def test_a_deal_in_another_currency_than_the_limit_needs_finance():
    why = credit_check(standing(terms("1000.00")), Money.of("1.00", "USD"))
    assert why == (
        "credit check: the deal is in USD, the credit limit in EUR: not compared (no FX)"
    )


def test_finance_is_added_after_the_band_with_the_reason():
    steps = [ApprovalStep(index=0, role=Role.SALES_MANAGER)]
    checked = with_credit_standing(steps, standing(terms("10.00")), Money.of("11", "EUR"))
    assert [(s.role, s.group) for s in checked] == [(Role.SALES_MANAGER, 0), (Role.FINANCE, 1)]
    assert "exceeds the limit of 10.00 EUR" in (checked[1].reason or "")


def test_a_band_that_asks_finance_already_gets_the_reason_on_its_step():
    steps = [
        ApprovalStep(index=0, role=Role.SALES_MANAGER),
        ApprovalStep(index=1, role=Role.FINANCE, group=1),
    ]
    checked = with_credit_standing(steps, standing(terms("10.00")), Money.of("11", "EUR"))
    assert len(checked) == 2 and "exceeds the limit" in (checked[1].reason or "")


def test_a_customer_within_its_limit_changes_no_step():
    steps = [ApprovalStep(index=0, role=Role.SALES_MANAGER)]
    assert with_credit_standing(steps, standing(terms("10.00")), Money.of("10", "EUR")) == steps


# --- deliveries ---


def test_a_customer_on_hold_is_refused_naming_the_customer_and_the_hold():
    with pytest.raises(CreditHold, match=r"^customer Acme is on credit hold: open invoices of"):
        check_not_on_hold(standing(terms("1.00"), owed("2.00")))
    assert CreditHold.status == 409


def test_a_customer_in_good_standing_is_not_refused():
    check_not_on_hold(standing(terms("2.00"), owed("2.00")))


# --- what finance sets ---


def test_terms_are_a_limit_in_one_currency_and_payment_days():
    body = CreditTermsIn.model_validate(
        {"credit_limit": "50000", "currency": "eur", "payment_terms_days": 30}
    )
    assert body.terms() == CreditTerms(limit=Money.of("50000.00", "EUR"), payment_terms_days=30)


def test_a_limit_below_the_currencys_minor_unit_is_refused_naming_it():
    body = CreditTermsIn(credit_limit=Decimal("10.5"), currency="JPY", payment_terms_days=30)
    with pytest.raises(InvalidInput) as refused:
        body.terms()
    assert refused.value.field == ("credit_limit",)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("credit_limit", "-1"),
        ("credit_limit", 10.5),
        ("credit_limit", "1e13"),
        ("currency", "XXX"),
        ("payment_terms_days", -1),
        ("payment_terms_days", 366),
    ],
)
def test_bad_terms_are_refused_naming_the_field(field, value):
    body = {"credit_limit": "1000.00", "currency": "EUR", "payment_terms_days": 30, field: value}
    with pytest.raises(ValidationError) as refused:
        CreditTermsIn.model_validate(body)
    assert refused.value.errors()[0]["loc"] == (field,)
