"""Double-entry bookkeeping: the journal entries each money event posts. Every entry balances."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .billing import InvoiceDraft


class Account(StrEnum):
    CASH = "cash"
    ACCOUNTS_RECEIVABLE = "accounts_receivable"
    DEFERRED_REVENUE = "deferred_revenue"
    TAX_PAYABLE = "tax_payable"
    REVENUE = "revenue"
    SALES_ALLOWANCES = "sales_allowances"  # contra revenue: credit notes on recognized sales
    CUSTOMER_CREDIT = "customer_credit"  # owed to customers: cancelled deals, overpayments
    BAD_DEBT = "bad_debt_expense"
    BANK_FEES = "bank_fees"  # expense: what banks keep of the payments they pass on
    UNAPPLIED_CASH = "unapplied_cash"  # received, not yet known whose (unmatched bank lines)


class Posting(BaseModel):
    model_config = ConfigDict(frozen=True)

    account: Account
    debit: Decimal = Field(default=Decimal(0), ge=0)
    credit: Decimal = Field(default=Decimal(0), ge=0)


class JournalEntry(BaseModel):
    """One balanced event in one currency; `key` makes it posted once."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1, max_length=200)
    memo: str
    currency: str
    postings: list[Posting] = Field(min_length=2)

    @model_validator(mode="after")
    def _balances(self) -> JournalEntry:
        debit = sum((p.debit for p in self.postings), Decimal(0))
        credit = sum((p.credit for p in self.postings), Decimal(0))
        if debit != credit:
            raise ValueError(f"entry {self.key} does not balance: {debit} != {credit}")
        return self


def _lines(*postings: Posting) -> list[Posting]:
    # A zero posting (say, no tax) says nothing; leave it out.
    return [p for p in postings if p.debit or p.credit]


def invoice_entry(number: str, draft: InvoiceDraft) -> JournalEntry | None:
    """Invoice issued: receivable for the total, revenue deferred until recognized, tax owed.
    An invoice of nothing moves no money, so it posts nothing."""
    if draft.total == 0 and draft.net_total == 0:
        return None
    return JournalEntry(
        key=f"invoice:{number}",
        memo=f"Invoice {number}",
        currency=draft.currency,
        postings=_lines(
            Posting(account=Account.ACCOUNTS_RECEIVABLE, debit=draft.total),
            Posting(account=Account.DEFERRED_REVENUE, credit=draft.net_total),
            Posting(account=Account.TAX_PAYABLE, credit=draft.tax_total),
        ),
    )


def payment_entry(reference: str, number: str, amount: Decimal, currency: str) -> JournalEntry:
    """Cash received against an invoice."""
    return JournalEntry(
        key=f"payment:{reference}",
        memo=f"Payment {reference} for {number}",
        currency=currency,
        postings=[
            Posting(account=Account.CASH, debit=amount),
            Posting(account=Account.ACCOUNTS_RECEIVABLE, credit=amount),
        ],
    )


def write_off_entry(number: str, net: Decimal, tax: Decimal, currency: str) -> JournalEntry:
    """An uncollectible balance, the receivable gone: its net part an expense, its VAT part
    taken back from the VAT owed (bad-debt relief, Article 90 Directive 2006/112/EC: VAT is
    due on what is paid, and this will not be)."""
    return JournalEntry(
        key=f"write-off:{number}",
        memo=f"Write-off of {number}",
        currency=currency,
        postings=_lines(
            Posting(account=Account.BAD_DEBT, debit=net),
            Posting(account=Account.TAX_PAYABLE, debit=tax),
            Posting(account=Account.ACCOUNTS_RECEIVABLE, credit=net + tax),
        ),
    )


def credit_note_entry(
    number: str, invoice: str, net: Decimal, tax: Decimal, unrecognized: Decimal, currency: str
) -> JournalEntry:
    """Take back part of an invoice: the net part first from revenue not yet recognized
    (deferred), the rest as an allowance against recognized revenue; the tax owed shrinks."""
    from_deferred = min(net, max(unrecognized, Decimal(0)))
    return JournalEntry(
        key=f"credit-note:{number}",
        memo=f"Credit note {number} on {invoice}",
        currency=currency,
        postings=_lines(
            Posting(account=Account.DEFERRED_REVENUE, debit=from_deferred),
            Posting(account=Account.SALES_ALLOWANCES, debit=net - from_deferred),
            Posting(account=Account.TAX_PAYABLE, debit=tax),
            Posting(account=Account.ACCOUNTS_RECEIVABLE, credit=net + tax),
        ),
    )


def recognition_entry(key: str, memo: str, amount: Decimal, currency: str) -> JournalEntry:
    """Revenue earned (a delivery, a month of service): out of deferred, into revenue.
    A negative amount reverses an earlier recognition."""
    debit, credit = (Account.DEFERRED_REVENUE, Account.REVENUE)
    if amount < 0:
        debit, credit, amount = credit, debit, -amount
    return JournalEntry(
        key=key,
        memo=memo,
        currency=currency,
        postings=[Posting(account=debit, debit=amount), Posting(account=credit, credit=amount)],
    )


def write_off_reversal_entry(number: str, amount: Decimal, currency: str) -> JournalEntry:
    """The part of a written-off balance that was never earned (still deferred) was never
    revenue, so it is no loss either: out of deferred revenue, off the bad debt expense."""
    return JournalEntry(
        key=f"write-off-reversal:{number}",
        memo=f"Unearned revenue of written-off {number} reversed",
        currency=currency,
        postings=[
            Posting(account=Account.DEFERRED_REVENUE, debit=amount),
            Posting(account=Account.BAD_DEBT, credit=amount),
        ],
    )


def unbilled_revenue_entry(deal_id: str, amount: Decimal, currency: str) -> JournalEntry:
    """Revenue a written-off deal earned beyond what it billed (a contract asset, say a
    discount spread over lines not delivered) will never be billed or collected: a loss."""
    return JournalEntry(
        key=f"written-off-unbilled:{deal_id}:{currency}",
        memo=f"Unbilled revenue of written-off deal {deal_id}",
        currency=currency,
        postings=[
            Posting(account=Account.BAD_DEBT, debit=amount),
            Posting(account=Account.DEFERRED_REVENUE, credit=amount),
        ],
    )


Ending = Literal["cancel", "written-off"]
ENDINGS: dict[Ending, str] = {"cancel": "Cancellation", "written-off": "Write-off"}


def refund_entry(
    deal_id: str, amount: Decimal, currency: str, ending: Ending = "cancel"
) -> JournalEntry:
    """A deal that ends undelivered (cancelled, or written off): revenue still deferred once
    its invoices credited what they could (a net cent the tax categories' rounding leaves)
    becomes a debt to the customer."""
    return JournalEntry(
        key=f"{ending}:{deal_id}:{currency}",
        memo=f"{ENDINGS[ending]} of deal {deal_id}",
        currency=currency,
        postings=[
            Posting(account=Account.DEFERRED_REVENUE, debit=amount),
            Posting(account=Account.CUSTOMER_CREDIT, credit=amount),
        ],
    )


def _transfer(
    key: str, memo: str, currency: str, debit: Account, credit: Account, amount: Decimal
) -> JournalEntry:
    return JournalEntry(
        key=key,
        memo=memo,
        currency=currency,
        postings=[Posting(account=debit, debit=amount), Posting(account=credit, credit=amount)],
    )


def bank_fee_entry(bank_ref: str, fee: Decimal, currency: str) -> JournalEntry:
    """The bank kept part of a payment: the invoice is settled by the gross, the fee is ours."""
    return _transfer(
        f"bank-fee:{bank_ref}",
        f"Bank fee on {bank_ref}",
        currency,
        Account.BANK_FEES,
        Account.CASH,
        fee,
    )


def unapplied_cash_entry(bank_ref: str, amount: Decimal, currency: str) -> JournalEntry:
    """Money in that no invoice was found for yet: in the bank, owed to someone."""
    return _transfer(
        f"bank-unapplied:{bank_ref}",
        f"Unmatched bank line {bank_ref}",
        currency,
        Account.CASH,
        Account.UNAPPLIED_CASH,
        amount,
    )


def unapplied_cleared_entry(bank_ref: str, amount: Decimal, currency: str) -> JournalEntry:
    """Matched by hand: out of unapplied cash again, to be booked as the payment it is."""
    return _transfer(
        f"bank-unapplied-cleared:{bank_ref}",
        f"Bank line {bank_ref} matched",
        currency,
        Account.UNAPPLIED_CASH,
        Account.CASH,
        amount,
    )


def overpayment_entry(
    bank_ref: str, amount: Decimal, currency: str, customer_id: str
) -> JournalEntry:
    """Received beyond what the invoices asked: held for the customer."""
    return _transfer(
        f"bank-credit:{bank_ref}",
        f"Overpayment {bank_ref}: credit of {customer_id}",
        currency,
        Account.CASH,
        Account.CUSTOMER_CREDIT,
        amount,
    )


def credit_applied_entry(number: str, amount: Decimal, currency: str) -> JournalEntry:
    """A new invoice takes the customer's credit: the receivable paid from what we held."""
    return _transfer(
        f"credit-applied:{number}",
        f"Customer credit applied to {number}",
        currency,
        Account.CUSTOMER_CREDIT,
        Account.ACCOUNTS_RECEIVABLE,
        amount,
    )


def credit_owed_entry(note: str, invoice: str, amount: Decimal, currency: str) -> JournalEntry:
    """A credit note took back more than the invoice still asked (goods paid for, never to
    be delivered): the receivable it left below zero is the customer's credit."""
    return _transfer(
        f"credit-owed:{note}",
        f"Credit note {note} on {invoice}: paid, owed back",
        currency,
        Account.ACCOUNTS_RECEIVABLE,
        Account.CUSTOMER_CREDIT,
        amount,
    )


def credit_refund_entry(reference: str, amount: Decimal, currency: str) -> JournalEntry:
    """Credit paid back to the customer."""
    return _transfer(
        f"credit-refund:{reference}",
        f"Refund {reference} of customer credit",
        currency,
        Account.CUSTOMER_CREDIT,
        Account.CASH,
        amount,
    )


class TrialBalanceLine(BaseModel):
    account: str
    currency: str
    debit: Decimal
    credit: Decimal
    balance: Decimal


class TrialBalance(BaseModel):
    accounts: list[TrialBalanceLine]
    balanced: bool


def trial_balance(lines: list[TrialBalanceLine]) -> TrialBalance:
    """Balanced when, in every currency, debits equal credits."""
    currencies = {line.currency for line in lines}
    balanced = all(
        sum((x.debit for x in lines if x.currency == c), Decimal(0))
        == sum((x.credit for x in lines if x.currency == c), Decimal(0))
        for c in currencies
    )
    return TrialBalance(accounts=lines, balanced=balanced)
