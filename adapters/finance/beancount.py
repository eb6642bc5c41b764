"""The ledger as a Beancount file, so accountants can check it with their own tools
(`bean-check l2c.beancount`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, select

from adapters.storage.tables import journal_entries, journal_lines
from domain.ledger import Account

ACCOUNTS = {
    Account.CASH: "Assets:Cash",
    Account.ACCOUNTS_RECEIVABLE: "Assets:Receivables",
    Account.DEFERRED_REVENUE: "Liabilities:DeferredRevenue",
    Account.TAX_PAYABLE: "Liabilities:TaxPayable",
    Account.CUSTOMER_CREDIT: "Liabilities:CustomerCredit",
    Account.REVENUE: "Income:Revenue",
    Account.SALES_ALLOWANCES: "Income:SalesAllowances",
    Account.BAD_DEBT: "Expenses:BadDebt",
    Account.BANK_FEES: "Expenses:BankFees",
    Account.UNAPPLIED_CASH: "Liabilities:UnappliedCash",
}


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def export_beancount(engine: Engine) -> Iterator[str]:
    """The whole ledger, oldest entry first, as lines of a Beancount file."""
    with engine.connect() as conn:
        entries = conn.execute(
            select(journal_entries).order_by(
                journal_entries.c.posted_at, journal_entries.c.entry_id
            )
        ).all()
        lines = conn.execute(select(journal_lines).order_by(journal_lines.c.line_id)).all()
    postings: dict[int, list[Any]] = {}
    for line in lines:
        postings.setdefault(line.entry_id, []).append(line)
    yield 'option "title" "l2c ledger"'
    yield 'option "operating_currency" "EUR"'
    if entries:
        first = entries[0].posted_at.date().isoformat()
        currencies = ",".join(sorted({e.currency for e in entries}))
        for name in ACCOUNTS.values():
            yield f"{first} open {name} {currencies}"
    for entry in entries:
        yield ""
        yield f"{entry.posted_at.date().isoformat()} * {_quoted(entry.memo)}"
        yield f"  l2c-key: {_quoted(entry.key)}"
        if entry.deal_id:
            yield f"  l2c-deal: {_quoted(entry.deal_id)}"
        for line in postings.get(entry.entry_id, []):
            amount = line.debit - line.credit
            account = ACCOUNTS[Account(line.account)]
            yield f"  {account}  {amount} {entry.currency}"
