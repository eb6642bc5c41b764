"""Bank statements as finance reads them: a statement with its lines and what became of
each, and the unmatched lines waiting for finance (its tasks)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, select

from domain.cash_application import Allocation, Direction, LineStatus, StatementLine
from domain.tasks import UnmatchedLine

from ..tables import bank_statement_lines, bank_statements


class BankLine(BaseModel):
    n: int
    booking_date: date
    amount: Decimal
    fee: Decimal
    currency: str
    direction: Direction
    reference: str
    counterparty: str
    bank_ref: str
    status: LineStatus
    reason: str
    invoice_number: str | None
    customer_id: str | None
    allocations: list[Allocation]
    credit: Decimal
    settled: bool


class BankStatementPage(BaseModel):
    statement_id: str
    format: str
    account: str | None
    imported_at: datetime
    imported_by: str
    lines: list[BankLine]
    matched: int
    unmatched: int
    ignored: int


def _line(row: Any) -> BankLine:
    line = StatementLine.model_validate(row.line)
    return BankLine(
        **line.model_dump(exclude={"n", "reversal"}),
        n=row.n,
        status=row.status,
        reason=row.reason,
        invoice_number=row.invoice_number,
        customer_id=row.customer_id,
        allocations=row.allocations,
        credit=row.credit,
        settled=row.settled_at is not None or row.status != LineStatus.MATCHED,
    )


class BankStatementViews:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, statement_id: str) -> BankStatementPage | None:
        with self.engine.connect() as conn:
            head = conn.execute(
                select(bank_statements).where(bank_statements.c.statement_id == statement_id)
            ).first()
            if head is None:
                return None
            rows = conn.execute(
                select(bank_statement_lines)
                .where(bank_statement_lines.c.statement_id == statement_id)
                .order_by(bank_statement_lines.c.n)
            ).all()
        lines = [_line(r) for r in rows]
        count = {s: sum(1 for x in lines if x.status is s) for s in LineStatus}
        return BankStatementPage(
            statement_id=head.statement_id,
            format=head.format,
            account=head.account,
            imported_at=head.imported_at,
            imported_by=head.imported_by,
            lines=lines,
            matched=count[LineStatus.MATCHED],
            unmatched=count[LineStatus.UNMATCHED],
            ignored=count[LineStatus.IGNORED],
        )

    def unmatched(self) -> list[UnmatchedLine]:
        """Lines waiting for finance to say which invoice they pay, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(bank_statement_lines)
                .where(bank_statement_lines.c.status == LineStatus.UNMATCHED)
                .order_by(bank_statement_lines.c.decided_at, bank_statement_lines.c.n)
            ).all()
        return [
            UnmatchedLine(
                statement_id=r.statement_id,
                n=r.n,
                line=StatementLine.model_validate(r.line),
                since=r.decided_at,
            )
            for r in rows
        ]
