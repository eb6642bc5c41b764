"""Double entry: every journal entry balances, and the trial balance says so per currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.billing import BillingEvent, InvoiceDraft, invoices_for
from domain.ledger import (
    Account,
    JournalEntry,
    Posting,
    TrialBalanceLine,
    invoice_entry,
    payment_entry,
    trial_balance,
)
from tests.unit.examples import CURRENCIES, one_line_quote, quotes, scaled


def debits(entry: JournalEntry) -> Decimal:
    return sum((p.debit for p in entry.postings), Decimal(0))


def credits(entry: JournalEntry) -> Decimal:
    return sum((p.credit for p in entry.postings), Decimal(0))


# An invoice of 0.00 has its own test below; these are the invoices that carry an amount.
billed_quotes = quotes().filter(lambda priced: priced.total > 0)


def upfront_invoice(priced) -> InvoiceDraft:
    (draft,) = invoices_for(priced, BillingEvent(kind="signature"), [])
    return draft


# --- journal entries ---


def test_an_unbalanced_entry_is_refused():
    with pytest.raises(ValidationError, match="does not balance"):
        JournalEntry(
            key="k",
            memo="typo",
            currency="EUR",
            postings=[
                Posting(account=Account.CASH, debit=Decimal("100.00")),
                Posting(account=Account.ACCOUNTS_RECEIVABLE, credit=Decimal("10.00")),
            ],
        )


def test_an_entry_needs_two_postings():
    with pytest.raises(ValidationError):
        JournalEntry(key="k", memo="one-legged", currency="EUR", postings=[Posting(account="cash")])


def test_a_posting_is_never_negative():
    with pytest.raises(ValidationError):
        Posting(account=Account.CASH, debit=Decimal("-1.00"))


@given(billed_quotes)
def test_an_invoice_posts_receivable_against_deferred_revenue_and_tax(priced):
    draft = upfront_invoice(priced)
    entry = invoice_entry("2030-000001", draft)
    assert entry is not None
    by_account = {(p.account, p.debit, p.credit) for p in entry.postings}
    expected = {
        (Account.ACCOUNTS_RECEIVABLE, draft.total, Decimal(0)),
        (Account.DEFERRED_REVENUE, Decimal(0), draft.net_total),
        (Account.TAX_PAYABLE, Decimal(0), draft.tax_total),
    }
    assert by_account == {item for item in expected if item[1] or item[2]}


@given(billed_quotes)
def test_an_invoice_entry_balances(priced):
    entry = invoice_entry("2030-000001", upfront_invoice(priced))
    assert entry is not None
    assert debits(entry) == credits(entry)


def test_an_invoice_entry_is_keyed_by_the_invoice_number():
    entry = invoice_entry("2030-000042", upfront_invoice(one_line_quote("10.00")))
    assert entry is not None
    assert (entry.key, entry.memo, entry.currency) == (
        "invoice:2030-000042",
        "Invoice 2030-000042",
        "EUR",
    )


def test_an_untaxed_invoice_posts_no_tax():
    entry = invoice_entry("2030-000001", upfront_invoice(one_line_quote("10.00", tax_rate="0")))
    assert entry is not None
    assert Account.TAX_PAYABLE not in {p.account for p in entry.postings}


def test_an_invoice_of_nothing_posts_no_entry():
    # A fully discounted quote bills an invoice of 0.00; finance issues it as already paid.
    draft = upfront_invoice(one_line_quote("10.00", discount_pct="100"))
    assert invoice_entry("2030-000001", draft) is None


@given(
    st.sampled_from(CURRENCIES),
    st.integers(1, 10**12).map(lambda cents: scaled(cents, 2)),
)
def test_a_payment_posts_cash_against_the_receivable(currency, amount):
    entry = payment_entry("BANK-REF-1", "2030-000001", amount, currency)
    assert {(p.account, p.debit, p.credit) for p in entry.postings} == {
        (Account.CASH, amount, Decimal(0)),
        (Account.ACCOUNTS_RECEIVABLE, Decimal(0), amount),
    }


def test_a_payment_entry_is_keyed_by_the_bank_reference():
    entry = payment_entry("BANK-REF-1", "2030-000001", Decimal("5.00"), "EUR")
    assert (entry.key, entry.memo) == ("payment:BANK-REF-1", "Payment BANK-REF-1 for 2030-000001")


# --- trial balance ---


def tb_line(account: str, currency: str, debit: str = "0", credit: str = "0") -> TrialBalanceLine:
    d, c = Decimal(debit), Decimal(credit)
    return TrialBalanceLine(account=account, currency=currency, debit=d, credit=c, balance=d - c)


def test_a_trial_balance_of_balanced_currencies_is_balanced():
    lines = [
        tb_line("accounts_receivable", "EUR", debit="120.00"),
        tb_line("deferred_revenue", "EUR", credit="100.00"),
        tb_line("tax_payable", "EUR", credit="20.00"),
        tb_line("cash", "USD", debit="5.00"),
        tb_line("accounts_receivable", "USD", credit="5.00"),
    ]
    assert trial_balance(lines).balanced


def test_one_unbalanced_currency_unbalances_the_trial_balance():
    lines = [
        tb_line("cash", "EUR", debit="10.00"),
        tb_line("accounts_receivable", "EUR", credit="10.00"),
        tb_line("cash", "USD", debit="5.00"),
        tb_line("accounts_receivable", "USD", credit="4.99"),
    ]
    assert not trial_balance(lines).balanced


def test_debits_in_one_currency_do_not_offset_credits_in_another():
    lines = [
        tb_line("cash", "EUR", debit="10.00"),
        tb_line("accounts_receivable", "USD", credit="10.00"),
    ]
    assert not trial_balance(lines).balanced


def test_an_empty_ledger_is_balanced():
    assert trial_balance([]).balanced


def test_the_trial_balance_lists_the_accounts_it_was_given():
    lines = [tb_line("cash", "EUR", debit="1.00"), tb_line("revenue", "EUR", credit="1.00")]
    assert trial_balance(lines).accounts == lines


@given(st.lists(billed_quotes, min_size=1, max_size=4))
def test_the_entries_of_issued_invoices_keep_the_ledger_balanced(priced_quotes):
    totals: dict[tuple[str, str], list[Decimal]] = {}
    for number, priced in enumerate(priced_quotes):
        entry = invoice_entry(str(number), upfront_invoice(priced))
        assert entry is not None
        for posting in entry.postings:
            debit_credit = totals.setdefault(
                (posting.account, priced.currency), [Decimal(0), Decimal(0)]
            )
            debit_credit[0] += posting.debit
            debit_credit[1] += posting.credit
    lines = [
        TrialBalanceLine(account=a, currency=c, debit=d, credit=k, balance=d - k)
        for (a, c), (d, k) in totals.items()
    ]
    assert trial_balance(lines).balanced
