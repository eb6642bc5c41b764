"""Cash application's rules: which invoice a bank line pays and how much, what is left as
the customer's credit, what waits for finance, what is none of its business; and the
entries each posts, balanced."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.cash_application import (
    Book,
    Direction,
    LineStatus,
    OpenItem,
    StatementLine,
    decide,
    decide_all,
    decide_by_hand,
    invoice_numbers,
    payment_reference,
)
from domain.customer_credit import RefundIn, check_refund, credit_to_apply
from domain.errors import PaymentRefused
from domain.invoices import InvoiceStatus
from domain.ledger import (
    Account,
    bank_fee_entry,
    credit_applied_entry,
    credit_refund_entry,
    overpayment_entry,
    unapplied_cash_entry,
    unapplied_cleared_entry,
)

DUE = datetime(2026, 12, 1, tzinfo=UTC)


def item(number: str, balance: str, customer: str = "C1", currency: str = "EUR", **kw):
    return OpenItem(
        number=number,
        customer_id=customer,
        currency=currency,
        balance=Decimal(balance),
        status=kw.get("status", InvoiceStatus.OPEN),
        due_date=kw.get("due_date", DUE),
    )


def line(amount: str, reference: str = "", n: int = 1, **kw) -> StatementLine:
    return StatementLine(
        n=n,
        booking_date=date(2026, 11, 30),
        amount=Decimal(amount),
        fee=Decimal(kw.get("fee", "0")),
        currency=kw.get("currency", "EUR"),
        direction=kw.get("direction", Direction.CREDIT),
        reference=reference,
        counterparty=kw.get("counterparty", ""),
        bank_ref=kw.get("bank_ref", f"REF-{n}"),
    )


def book(*items: OpenItem, customers=None, seen=None) -> Book:
    return Book(invoices={i.number: i for i in items}, customers=customers or {}, seen=seen or {})


def test_invoice_numbers_are_found_as_payers_write_them():
    text = "inv 2026 000123, INV2026/000124 and INV-2026-000123 again; INV-26-1 is none"
    assert invoice_numbers(text) == ["INV-2026-000123", "INV-2026-000124"]


def test_a_line_naming_its_invoice_pays_it_exactly():
    decision = decide(line("100.00", "INV-2026-000001"), book(item("INV-2026-000001", "100.00")))
    assert decision.status is LineStatus.MATCHED
    assert [(a.invoice_number, a.amount) for a in decision.allocations] == [
        ("INV-2026-000001", Decimal("100.00"))
    ]
    assert decision.credit == 0 and decision.customer_id == "C1"


def test_less_than_the_balance_is_a_partial_payment():
    decision = decide(line("40.00", "INV-2026-000001"), book(item("INV-2026-000001", "100.00")))
    assert decision.allocations[0].amount == Decimal("40.00") and decision.credit == 0


def test_more_than_the_balance_leaves_the_rest_as_the_customers_credit():
    decision = decide(line("130.00", "INV-2026-000001"), book(item("INV-2026-000001", "100.00")))
    assert decision.allocations[0].amount == Decimal("100.00")
    assert decision.credit == Decimal("30.00")


def test_one_payment_over_several_invoices_pays_them_in_the_order_named():
    found = book(item("INV-2026-000001", "100.00"), item("INV-2026-000002", "50.00"))
    decision = decide(line("120.00", "INV-2026-000002 INV-2026-000001"), found)
    assert [(a.invoice_number, a.amount) for a in decision.allocations] == [
        ("INV-2026-000002", Decimal("50.00")),
        ("INV-2026-000001", Decimal("70.00")),
    ]
    assert decision.invoice_number == "INV-2026-000002"


def test_a_paid_invoice_named_again_makes_it_all_credit():
    paid = item("INV-2026-000001", "0.00", status=InvoiceStatus.PAID)
    decision = decide(line("25.00", "INV-2026-000001"), book(paid))
    assert decision.status is LineStatus.MATCHED
    assert decision.allocations == [] and decision.credit == Decimal("25.00")


def test_the_invoice_is_settled_by_the_gross_the_fee_is_ours():
    fee_deducted = line("95.50", "INV-2026-000001", fee="4.50")
    decision = decide(fee_deducted, book(item("INV-2026-000001", "100.00")))
    assert decision.allocations[0].amount == Decimal("100.00") and decision.credit == 0


def test_without_a_number_the_customers_one_open_invoice_of_the_amount_is_paid():
    found = book(
        item("INV-2026-000001", "100.00"),
        item("INV-2026-000002", "80.00"),
        customers={"acme": "C1"},
    )
    decision = decide(line("80.00", "thanks", counterparty="ACME GmbH"), found)
    assert decision.status is LineStatus.MATCHED
    assert decision.invoice_number == "INV-2026-000002"


@pytest.mark.parametrize(
    ("amount", "counterparty", "why"),
    [
        ("80.00", "Someone Else", "no known customer"),
        ("79.99", "Acme", "no open invoice"),
        ("100.00", "Acme", "several open invoices"),
    ],
)
def test_otherwise_the_line_waits_for_finance(amount, counterparty, why):
    found = book(
        item("INV-2026-000001", "100.00"),
        item("INV-2026-000002", "100.00"),
        item("INV-2026-000003", "80.00", customer="C2"),
        customers={"acme": "C1"},
    )
    decision = decide(line(amount, "order 7", counterparty=counterparty), found)
    assert decision.status is LineStatus.UNMATCHED and why in decision.reason


def test_an_invoice_in_another_currency_is_not_matched():
    usd = item("INV-2026-000001", "100.00", currency="USD")
    decision = decide(line("100.00", "INV-2026-000001"), book(usd))
    assert decision.status is LineStatus.UNMATCHED and "USD" in decision.reason


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"direction": Direction.DEBIT}, "money out"),
        ({"currency": "HUF"}, "not a currency"),
    ],
)
def test_money_out_and_foreign_currencies_are_ignored(kw, why):
    decision = decide(line("100.00", "INV-2026-000001", **kw), book(item("INV-2026-000001", "1")))
    assert decision.status is LineStatus.IGNORED and why in decision.reason


def test_a_repeated_bank_reference_is_ignored_and_booked_once():
    found = book(item("INV-2026-000001", "100.00"))
    first = line("100.00", "INV-2026-000001", n=1, bank_ref="R")
    again = line("100.00", "INV-2026-000001", n=2, bank_ref="R")
    decisions = decide_all([first, again], found)
    assert [d.status for d in decisions] == [LineStatus.MATCHED, LineStatus.IGNORED]
    assert decisions[1].repeats and "line 1" in decisions[1].reason


def test_each_line_sees_what_the_lines_before_it_paid():
    found = book(item("INV-2026-000001", "100.00"))
    decisions = decide_all(
        [line("60.00", "INV-2026-000001", n=1), line("60.00", "INV-2026-000001", n=2)], found
    )
    assert [(d.allocations[0].amount, d.credit) for d in decisions] == [
        (Decimal("60.00"), 0),
        (Decimal("40.00"), Decimal("20.00")),
    ]


def test_finance_matches_by_hand_in_the_same_currency_only():
    decision = decide_by_hand(line("150.00"), item("INV-2026-000009", "100.00"))
    assert decision.allocations[0].amount == Decimal("100.00")
    assert decision.credit == Decimal("50.00") and decision.reason.startswith("matched by hand")
    with pytest.raises(PaymentRefused) as refused:
        decide_by_hand(line("150.00"), item("INV-2026-000009", "100.00", currency="USD"))
    assert refused.value.field == ("invoice_number",)


def test_a_line_over_several_invoices_is_one_payment_per_invoice():
    assert [payment_reference("R", i) for i in range(3)] == ["R", "R#2", "R#3"]


def test_a_new_invoice_takes_as_much_credit_as_it_asks():
    assert credit_to_apply(Decimal("30"), Decimal("100")) == Decimal("30")
    assert credit_to_apply(Decimal("300"), Decimal("100")) == Decimal("100")
    assert credit_to_apply(Decimal("0"), Decimal("100")) == 0


def test_a_refund_beyond_the_credit_is_refused():
    check_refund(Decimal("30.00"), RefundIn(amount="30.00", currency="EUR", reference="R1"))
    with pytest.raises(PaymentRefused) as refused:
        check_refund(Decimal("30.00"), RefundIn(amount="30.01", currency="EUR", reference="R1"))
    assert refused.value.field == ("amount",)


@pytest.mark.parametrize(
    ("entry", "debit", "credit"),
    [
        (bank_fee_entry("R", Decimal("4.50"), "EUR"), Account.BANK_FEES, Account.CASH),
        (unapplied_cash_entry("R", Decimal("9"), "EUR"), Account.CASH, Account.UNAPPLIED_CASH),
        (
            unapplied_cleared_entry("R", Decimal("9"), "EUR"),
            Account.UNAPPLIED_CASH,
            Account.CASH,
        ),
        (
            overpayment_entry("R", Decimal("9"), "EUR", "C1"),
            Account.CASH,
            Account.CUSTOMER_CREDIT,
        ),
        (
            credit_applied_entry("INV-1", Decimal("9"), "EUR"),
            Account.CUSTOMER_CREDIT,
            Account.ACCOUNTS_RECEIVABLE,
        ),
        (credit_refund_entry("X", Decimal("9"), "EUR"), Account.CUSTOMER_CREDIT, Account.CASH),
    ],
)
def test_each_cash_entry_moves_money_between_the_right_accounts(entry, debit, credit):
    (debited,) = [p.account for p in entry.postings if p.debit]
    (credited,) = [p.account for p in entry.postings if p.credit]
    assert (debited, credited) == (debit, credit)
