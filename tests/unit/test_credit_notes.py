"""Credit notes and write-offs: never more than is owed, split like the invoice, always balanced."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.errors import PaymentRefused
from domain.invoices import (
    Invoice,
    InvoiceStatus,
    check_credit,
    credit_for_net,
    credited_status,
    owed_back,
    settled_status,
    split_credit,
    undelivered_limit,
)
from domain.ledger import (
    Account,
    JournalEntry,
    credit_note_entry,
    credit_owed_entry,
    recognition_entry,
    refund_entry,
    unbilled_revenue_entry,
    write_off_entry,
    write_off_reversal_entry,
)
from domain.money import MINOR_UNITS
from tests.unit.examples import CURRENCIES, ISSUED_AT, scaled


def invoice(net: str, tax: str, currency: str = "EUR", paid: str = "0") -> Invoice:
    return Invoice(
        number="2030-000001",
        deal_id="D-1",
        billing_key="upfront",
        currency=currency,
        lines=[],
        net_total=Decimal(net),
        tax_total=Decimal(tax),
        total=Decimal(net) + Decimal(tax),
        issued_at=ISSUED_AT,
        due_date=ISSUED_AT + timedelta(days=30),
        paid=Decimal(paid),
    )


def balanced(entry: JournalEntry) -> bool:
    return sum(p.debit for p in entry.postings) == sum(p.credit for p in entry.postings)


# --- what an invoice owes, and when it is settled ---


def test_credit_notes_reduce_the_balance_like_payments():
    owed = invoice("100.00", "20.00", paid="50.00").model_copy(update={"credited": Decimal(20)})
    assert owed.balance == Decimal("50.00")


@pytest.mark.parametrize(
    ("paid", "credited", "status"),
    [
        ("0", "0", InvoiceStatus.OPEN),
        ("119.99", "0", InvoiceStatus.OPEN),
        ("100.00", "19.99", InvoiceStatus.OPEN),
        ("120.00", "0", InvoiceStatus.PAID),
        ("100.00", "20.00", InvoiceStatus.PAID),
        ("0", "120.00", InvoiceStatus.CREDITED),
    ],
)
def test_an_invoice_is_settled_once_payments_and_credits_cover_it(paid, credited, status):
    assert settled_status(Decimal("120.00"), Decimal(paid), Decimal(credited)) is status


def test_an_invoice_of_nothing_is_settled_as_paid():
    assert settled_status(Decimal(0), Decimal(0), Decimal(0)) is InvoiceStatus.PAID


# --- refusals ---


def test_a_credit_over_the_open_balance_is_refused():
    with pytest.raises(PaymentRefused, match="more than the open balance 20.00"):
        check_credit(invoice("100.00", "20.00", paid="100.00"), Decimal("20.01"))


def test_a_credit_below_the_minor_unit_is_refused():
    with pytest.raises(PaymentRefused, match="more decimals"):
        check_credit(invoice("100.00", "20.00"), Decimal("1.001"))


def test_a_credit_on_a_settled_invoice_is_refused():
    paid = invoice("100.00", "20.00").model_copy(update={"status": InvoiceStatus.PAID})
    with pytest.raises(PaymentRefused):
        check_credit(paid, Decimal("1.00"))


def test_a_credit_of_the_whole_balance_is_accepted():
    check_credit(invoice("100.00", "20.00", paid="20.00"), Decimal("100.00"))


# --- splitting a credit into net and tax ---


def test_a_credit_is_split_in_the_invoice_s_proportion_of_net_and_tax():
    assert split_credit(invoice("100.00", "20.00"), Decimal("60.00")) == (
        Decimal("50.00"),
        Decimal("10.00"),
    )


@given(
    st.sampled_from(CURRENCIES),
    st.integers(1, 10**9),
    st.integers(0, 10**9),
    st.data(),
)
def test_the_net_and_tax_of_a_credit_add_up_to_it_in_whole_minor_units(currency, net, tax, data):
    places = MINOR_UNITS[currency]
    owed = invoice(str(scaled(net, places)), str(scaled(tax, places)), currency)
    amount = scaled(data.draw(st.integers(1, net + tax)), places)
    credit_net, credit_tax = split_credit(owed, amount)
    assert credit_net + credit_tax == amount
    assert 0 <= credit_net <= owed.net_total and 0 <= credit_tax <= owed.tax_total
    assert credit_net.as_tuple().exponent == credit_tax.as_tuple().exponent == -places


# --- crediting what was not delivered ---


def test_the_credit_for_unearned_revenue_adds_the_invoice_s_tax_to_it():
    assert credit_for_net(invoice("100.00", "20.00"), Decimal("50.00")) == Decimal("60.00")


def test_the_credit_for_unearned_revenue_is_never_more_than_the_open_balance():
    owed = invoice("100.00", "20.00", paid="100.00")
    assert credit_for_net(owed, Decimal("50.00")) == Decimal("20.00")


def test_goods_never_delivered_are_credited_in_full_even_where_paid():
    # 1000 net + 190 VAT, 500 paid, nothing delivered: the whole 1190 is credited, of which
    # 690 settles the balance and 500 (what was paid) is owed back to the customer.
    owed = invoice("1000.00", "190.00", paid="500.00")
    credit = credit_for_net(owed, Decimal("1000.00"), undelivered_limit(owed))
    assert credit == Decimal("1190.00")
    assert split_credit(owed, credit) == (Decimal("1000.00"), Decimal("190.00"))
    assert owed_back(owed, credit) == Decimal("500.00")
    assert credited_status(owed, owed.paid - Decimal(500), credit) is InvoiceStatus.CREDITED


def test_a_credit_for_part_undelivered_is_owed_back_only_beyond_the_balance():
    # 600 of 1000 net undelivered: 714.00 credited (600 + 114 VAT); 690 was still owed, so
    # the customer's 500 paid for 476 delivered (400 + 76 VAT) and 24.00 is owed back.
    owed = invoice("1000.00", "190.00", paid="500.00")
    credit = credit_for_net(owed, Decimal("600.00"), undelivered_limit(owed))
    assert credit == Decimal("714.00")
    assert owed_back(owed, credit) == Decimal("24.00")
    unpaid = invoice("1000.00", "190.00")
    assert owed_back(unpaid, credit) == 0


def test_a_paid_invoice_s_undelivered_credit_is_all_owed_back():
    paid = invoice("1000.00", "190.00", paid="1190.00").model_copy(
        update={"status": InvoiceStatus.PAID}
    )
    assert undelivered_limit(paid) == Decimal("1190.00")
    assert owed_back(paid, Decimal("238.00")) == Decimal("238.00")
    assert credited_status(paid, Decimal("952.00"), Decimal("238.00")) is InvoiceStatus.PAID


def test_of_a_written_off_invoice_only_what_was_paid_may_be_credited_and_it_stays_written_off():
    lost = invoice("1000.00", "190.00", paid="500.00").model_copy(
        update={"status": InvoiceStatus.WRITTEN_OFF}
    )
    assert undelivered_limit(lost) == Decimal("500.00")
    # 420.17 net deferred is left after the write-off reversed the unpaid 579.83: 500.00.
    assert credit_for_net(lost, Decimal("420.17"), undelivered_limit(lost)) == Decimal("500.00")
    assert owed_back(lost, Decimal("500.00")) == Decimal("500.00")
    assert credited_status(lost, Decimal(0), Decimal(500)) is InvoiceStatus.WRITTEN_OFF


def test_a_credit_owed_back_moves_the_receivable_to_the_customer_s_credit():
    entry = credit_owed_entry("CN-1", "2030-000001", Decimal("500.00"), "EUR")
    assert balanced(entry) and entry.key == "credit-owed:CN-1"
    debit, credit = entry.postings
    assert (debit.account, debit.debit) == (Account.ACCOUNTS_RECEIVABLE, Decimal("500.00"))
    assert (credit.account, credit.credit) == (Account.CUSTOMER_CREDIT, Decimal("500.00"))


@pytest.mark.parametrize("unearned", ["0", "-10.00"])
def test_nothing_unearned_is_no_credit(unearned):
    assert credit_for_net(invoice("100.00", "20.00"), Decimal(unearned)) == 0


@given(
    st.sampled_from(CURRENCIES),
    st.integers(1, 10**9),
    st.integers(0, 10**9),
    st.data(),
)
def test_the_credit_for_unearned_revenue_takes_back_exactly_that_net(currency, net, tax, data):
    places = MINOR_UNITS[currency]
    owed = invoice(str(scaled(net, places)), str(scaled(tax, places)), currency)
    unearned = scaled(data.draw(st.integers(1, net)), places)
    amount = credit_for_net(owed, unearned)
    assert 0 < amount <= owed.balance
    assert split_credit(owed, amount)[0] == unearned
    assert amount == owed.balance or split_credit(owed, amount + scaled(1, places))[0] > unearned


@given(st.sampled_from(CURRENCIES), st.integers(1, 10**9), st.data())
def test_undelivered_goods_are_credited_with_their_tax_whatever_was_paid(currency, net, data):
    places = MINOR_UNITS[currency]
    tax = data.draw(st.integers(0, net))  # a rate of 0 to 100 %
    fresh = invoice(str(scaled(net, places)), str(scaled(tax, places)), currency)
    paid = scaled(data.draw(st.integers(0, net + tax)), places)
    owed = fresh.model_copy(update={"paid": paid})
    unearned = scaled(data.draw(st.integers(1, net)), places)
    amount = credit_for_net(owed, unearned, undelivered_limit(owed))
    assert 0 < amount <= owed.total
    assert split_credit(owed, amount)[0] == unearned  # one tax category: every net is reached
    back = owed_back(owed, amount)
    assert back == max(amount - owed.balance, 0) and 0 <= back <= paid
    assert owed.balance - (amount - back) >= 0  # what settles the balance never passes it


# --- the entries they post ---


@given(
    st.integers(0, 10**9).map(lambda cents: scaled(cents, 2)),
    st.integers(0, 10**9).map(lambda cents: scaled(cents, 2)),
    st.integers(-(10**9), 10**9).map(lambda cents: scaled(cents, 2)),
)
def test_a_credit_note_entry_balances(net, tax, unrecognized):
    assume(net + tax > 0)
    assert balanced(credit_note_entry("CN-1", "2030-000001", net, tax, unrecognized, "EUR"))


def test_a_credit_note_takes_back_unrecognized_revenue_first():
    entry = credit_note_entry("CN-1", "2030-000001", Decimal(100), Decimal(20), Decimal(30), "EUR")
    assert {(p.account, p.debit, p.credit) for p in entry.postings} == {
        (Account.DEFERRED_REVENUE, Decimal(30), Decimal(0)),
        (Account.SALES_ALLOWANCES, Decimal(70), Decimal(0)),
        (Account.TAX_PAYABLE, Decimal(20), Decimal(0)),
        (Account.ACCOUNTS_RECEIVABLE, Decimal(0), Decimal(120)),
    }


def test_a_write_off_moves_the_receivable_to_bad_debt():
    entry = write_off_entry("2030-000001", Decimal("45.00"), Decimal(0), "EUR")
    assert {(p.account, p.debit, p.credit) for p in entry.postings} == {
        (Account.BAD_DEBT, Decimal("45.00"), Decimal(0)),
        (Account.ACCOUNTS_RECEIVABLE, Decimal(0), Decimal("45.00")),
    }


def test_a_write_off_takes_its_vat_back_from_the_vat_owed():
    """Bad-debt relief: only the net part is an expense."""
    entry = write_off_entry("2030-000001", Decimal("100.00"), Decimal("19.00"), "EUR")
    assert {(p.account, p.debit, p.credit) for p in entry.postings} == {
        (Account.BAD_DEBT, Decimal("100.00"), Decimal(0)),
        (Account.TAX_PAYABLE, Decimal("19.00"), Decimal(0)),
        (Account.ACCOUNTS_RECEIVABLE, Decimal(0), Decimal("119.00")),
    }


@pytest.mark.parametrize(
    ("amount", "debited", "credited"),
    [
        ("10.00", Account.DEFERRED_REVENUE, Account.REVENUE),
        ("-10.00", Account.REVENUE, Account.DEFERRED_REVENUE),
    ],
)
def test_recognition_moves_deferred_to_revenue_and_a_negative_one_reverses_it(
    amount, debited, credited
):
    entry = recognition_entry("rev:1", "delivery", Decimal(amount), "EUR")
    assert {(p.account, p.debit, p.credit) for p in entry.postings} == {
        (debited, Decimal("10.00"), Decimal(0)),
        (credited, Decimal(0), Decimal("10.00")),
    }


def test_a_cancelled_deal_owes_its_unearned_revenue_to_the_customer():
    entry = refund_entry("D-1", Decimal("80.00"), "EUR")
    assert {(p.account, p.debit, p.credit) for p in entry.postings} == {
        (Account.DEFERRED_REVENUE, Decimal("80.00"), Decimal(0)),
        (Account.CUSTOMER_CREDIT, Decimal(0), Decimal("80.00")),
    }


def test_a_written_off_balance_never_earned_is_no_bad_debt():
    entry = write_off_reversal_entry("2030-000001", Decimal("45.00"), "EUR")
    assert {(p.account, p.debit, p.credit) for p in entry.postings} == {
        (Account.DEFERRED_REVENUE, Decimal("45.00"), Decimal(0)),
        (Account.BAD_DEBT, Decimal(0), Decimal("45.00")),
    }


def test_a_written_off_deal_owes_what_was_paid_and_never_delivered_under_its_own_key():
    entry = refund_entry("D-1", Decimal("80.00"), "EUR", "written-off")
    assert entry.key == "written-off:D-1:EUR" != refund_entry("D-1", Decimal(1), "EUR").key
    assert {(p.account, p.debit, p.credit) for p in entry.postings} == {
        (Account.DEFERRED_REVENUE, Decimal("80.00"), Decimal(0)),
        (Account.CUSTOMER_CREDIT, Decimal(0), Decimal("80.00")),
    }


def test_revenue_a_written_off_deal_earned_and_never_billed_is_a_loss():
    entry = unbilled_revenue_entry("D-1", Decimal("18.66"), "EUR")
    assert {(p.account, p.debit, p.credit) for p in entry.postings} == {
        (Account.BAD_DEBT, Decimal("18.66"), Decimal(0)),
        (Account.DEFERRED_REVENUE, Decimal(0), Decimal("18.66")),
    }
