"""The general ledger in Postgres: entries posted once by key, never changed afterwards."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, case, func, select
from sqlalchemy.dialects.postgresql import insert

from adapters.storage.tables import journal_entries, journal_lines
from domain.ledger import Account, JournalEntry, TrialBalance, TrialBalanceLine, trial_balance


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


class RevenueMonth(BaseModel):
    month: str  # YYYY-MM
    currency: str
    recognized: Decimal


class RevenueTotals(BaseModel):
    currency: str
    recognized: Decimal  # revenue earned in the period
    allowances: Decimal  # credit notes against recognized revenue in the period
    deferred_at_end: Decimal  # invoiced (or paid), not yet earned, at the period's end


class RevenueReport(BaseModel):
    period_from: date | None
    period_to: date | None
    totals: list[RevenueTotals]
    months: list[RevenueMonth]


def _signed(account: Account) -> Any:
    # Revenue, deferred revenue: credit-balance accounts; allowances: debit balance.
    line = journal_lines.c
    if account is Account.SALES_ALLOWANCES:
        return func.sum(case((line.account == account, line.debit - line.credit), else_=0))
    return func.sum(case((line.account == account, line.credit - line.debit), else_=0))


def read_revenue(engine: Engine, start: date | None, end: date | None) -> RevenueReport:
    """Recognized revenue by month within [start, end], and deferred revenue at the end."""
    posted = journal_entries.c.posted_at
    joined = journal_lines.join(
        journal_entries, journal_entries.c.entry_id == journal_lines.c.entry_id
    )
    in_period = []
    if start is not None:
        in_period.append(posted >= datetime.combine(start, time.min, UTC))
    until = [posted < datetime.combine(end + timedelta(days=1), time.min, UTC)] if end else []
    month = func.to_char(func.timezone("UTC", posted), "YYYY-MM")
    with engine.connect() as conn:
        months = conn.execute(
            select(
                month.label("month"),
                journal_entries.c.currency,
                _signed(Account.REVENUE).label("recognized"),
            )
            .select_from(joined)
            .where(*in_period, *until)
            .group_by(month, journal_entries.c.currency)
            .order_by(month)
        ).all()
        period = conn.execute(
            select(
                journal_entries.c.currency,
                _signed(Account.REVENUE).label("recognized"),
                _signed(Account.SALES_ALLOWANCES).label("allowances"),
            )
            .select_from(joined)
            .where(*in_period, *until)
            .group_by(journal_entries.c.currency)
        ).all()
        deferred: dict[Any, Any] = dict(
            conn.execute(
                select(journal_entries.c.currency, _signed(Account.DEFERRED_REVENUE))
                .select_from(joined)
                .where(*until)
                .group_by(journal_entries.c.currency)
            ).all()
        )
    currencies = sorted({row.currency for row in period} | set(deferred))
    by_currency = {row.currency: row for row in period}
    return RevenueReport(
        period_from=start,
        period_to=end,
        totals=[
            RevenueTotals(
                currency=c,
                recognized=by_currency[c].recognized if c in by_currency else Decimal(0),
                allowances=by_currency[c].allowances if c in by_currency else Decimal(0),
                deferred_at_end=deferred.get(c, Decimal(0)),
            )
            for c in currencies
        ],
        months=[
            RevenueMonth(month=r.month, currency=r.currency, recognized=r.recognized)
            for r in months
            if r.recognized
        ],
    )
