"""The general ledger in Postgres: entries posted once by key, never changed afterwards."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, case, func, select
from sqlalchemy.dialects.postgresql import insert

from adapters.storage.tables import journal_entries, journal_lines
from domain.ledger import JournalEntry, TrialBalance, TrialBalanceLine, trial_balance


def post_entry(conn: Connection, entry: JournalEntry, at: datetime, deal_id: str | None) -> bool:
    """Post `entry` inside the caller's transaction; False when its key was already posted."""
    entry_id = conn.execute(
        insert(journal_entries)
        .values(
            key=entry.key,
            deal_id=deal_id,
            memo=entry.memo,
            currency=entry.currency,
            posted_at=at,
        )
        .on_conflict_do_nothing()
        .returning(journal_entries.c.entry_id)
    ).scalar()
    if entry_id is None:
        return False
    conn.execute(
        journal_lines.insert(),
        [
            {"entry_id": entry_id, "account": p.account, "debit": p.debit, "credit": p.credit}
            for p in entry.postings
        ],
    )
    return True


def read_trial_balance(engine: Engine) -> TrialBalance:
    """Debits, credits and balance per account and currency, over every entry."""
    debit = func.coalesce(func.sum(journal_lines.c.debit), 0)
    credit = func.coalesce(func.sum(journal_lines.c.credit), 0)
    query = (
        select(
            journal_lines.c.account,
            journal_entries.c.currency,
            debit.label("debit"),
            credit.label("credit"),
        )
        .join(journal_entries, journal_entries.c.entry_id == journal_lines.c.entry_id)
        .group_by(journal_lines.c.account, journal_entries.c.currency)
        .order_by(journal_entries.c.currency, journal_lines.c.account)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return trial_balance(
        [
            TrialBalanceLine(
                account=row.account,
                currency=row.currency,
                debit=row.debit,
                credit=row.credit,
                balance=row.debit - row.credit,
            )
            for row in rows
        ]
    )


def account_balance(conn: Connection, account: str, currency: str) -> object:
    """Debit minus credit of one account (tests and reconciliation)."""
    signed = case(
        (journal_lines.c.account == account, journal_lines.c.debit - journal_lines.c.credit),
        else_=0,
    )
    return conn.execute(
        select(func.coalesce(func.sum(signed), 0))
        .join(journal_entries, journal_entries.c.entry_id == journal_lines.c.entry_id)
        .where(journal_entries.c.currency == currency)
    ).scalar_one()
