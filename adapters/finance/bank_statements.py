"""Bank statements written: the statement and its lines with what cash application decided
(domain/cash_application.py), in one transaction per import; a matched line's credit and fee
once its payments are recorded (`settle`); finance's match of an unmatched line. Every line
leaves an audit event on its statement's chain and balanced ledger entries."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, text, update

from adapters.storage.audit import append_event
from adapters.storage.tables import (
    bank_statement_lines,
    bank_statements,
    customers,
    invoices,
    payments,
)
from domain.cash_application import (
    Book,
    Decision,
    LineStatus,
    OpenItem,
    ParsedStatement,
    StatementLine,
    decide_all,
    decide_by_hand,
    invoice_numbers,
)
from domain.customers import company_key
from domain.errors import Conflict, NotFound, PaymentRefused
from domain.ledger import bank_fee_entry, unapplied_cash_entry, unapplied_cleared_entry

from .customer_credit import receive_in
from .ledger import post_entry

STATEMENT_NOT_FOUND = "bank statement not found"
LINE_NOT_FOUND = "no such line in the statement"


def statement_id_of(key: str) -> str:
    """The same statement (its key) always has the same id."""
    return "BS-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def statement_chain(statement_id: str) -> str:
    """The audit chain of a statement's lines."""
    return f"bank-statement:{statement_id}"


class BankStatements:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, parsed: ParsedStatement, at: datetime, actor: str) -> str:
        """Write the statement and decide each line, once: a statement imported before is
        found by its key and left as it is. Its id."""
        statement_id = statement_id_of(parsed.key)
        with self.engine.begin() as conn:
            # One import at a time: a bank reference in two statements is booked once.
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('l2c:bank-statements'))"))
            known = conn.execute(
                select(bank_statements.c.statement_id).where(bank_statements.c.key == parsed.key)
            ).first()
            if known is not None:
                return str(known.statement_id)
            conn.execute(
                bank_statements.insert().values(
                    statement_id=statement_id,
                    key=parsed.key,
                    format=parsed.format,
                    account=parsed.account,
                    imported_at=at,
                    imported_by=actor,
                )
            )
            decisions = decide_all(parsed.lines, _book(conn, parsed.lines))
            for line, decision in zip(parsed.lines, decisions, strict=True):
                self._write_line(conn, statement_id, line, decision, at, actor)
            append_event(
                conn,
                statement_chain(statement_id),
                "imported",
                at,
                actor,
                "bank_statement.imported",
                {"key": parsed.key, "format": parsed.format, "lines": len(parsed.lines)},
            )
        return statement_id

    def _write_line(
        self,
        conn: Connection,
        statement_id: str,
        line: StatementLine,
        decision: Decision,
        at: datetime,
        actor: str,
    ) -> None:
        conn.execute(
            bank_statement_lines.insert().values(
                statement_id=statement_id,
                n=line.n,
                line=line.model_dump(mode="json"),
                bank_ref=line.bank_ref,
                currency=line.currency,
                amount=line.amount,
                repeats=decision.repeats,
                decided_at=at,
                decided_by=actor,
                **_decided(decision),
            )
        )
        if decision.status is LineStatus.UNMATCHED:
            post_entry(
                conn, unapplied_cash_entry(line.bank_ref, line.gross, line.currency), at, None
            )
            _post_fee(conn, line, at)
        _audit(conn, statement_id, line, decision, at, actor, f"bank_line.{decision.status}")

    def unsettled(self, statement_id: str) -> list[tuple[StatementLine, Decision]]:
        """Matched lines whose payments, credit or fee are not all booked yet."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(bank_statement_lines)
                .where(
                    bank_statement_lines.c.statement_id == statement_id,
                    bank_statement_lines.c.status == LineStatus.MATCHED,
                    bank_statement_lines.c.settled_at.is_(None),
                )
                .order_by(bank_statement_lines.c.n)
            ).all()
        return [(StatementLine.model_validate(r.line), decision_of(r)) for r in rows]

    def settle(self, statement_id: str, n: int, at: datetime, actor: str) -> None:
        """After its payments: the line's overpayment becomes the customer's credit and its
        fee an expense; then it is settled (once)."""
        with self.engine.begin() as conn:
            row = _locked_line(conn, statement_id, n)
            if row.settled_at is not None:
                return
            line, decision = StatementLine.model_validate(row.line), decision_of(row)
            if decision.credit > 0 and decision.customer_id is not None:
                receive_in(
                    conn,
                    decision.customer_id,
                    line.bank_ref,
                    decision.credit,
                    line.currency,
                    at,
                    actor,
                )
            _post_fee(conn, line, at)
            conn.execute(
                update(bank_statement_lines)
                .where(
                    bank_statement_lines.c.statement_id == statement_id,
                    bank_statement_lines.c.n == n,
                )
                .values(settled_at=at)
            )
            _audit(conn, statement_id, line, decision, at, actor, "bank_line.settled")

    def match_by_hand(
        self, statement_id: str, n: int, invoice_number: str, at: datetime, actor: str
    ) -> None:
        """Finance names the invoice an unmatched line pays: decided, and its cash taken
        out of unapplied cash again, to be booked as the payment (`settle` after)."""
        with self.engine.begin() as conn:
            row = _locked_line(conn, statement_id, n)
            if row.status != LineStatus.UNMATCHED:
                raise Conflict(f"line {n} is {row.status}: only an unmatched line is matched")
            found = _items(conn, invoices.c.number == invoice_number)
            if not found:
                raise PaymentRefused("no such invoice", field=("invoice_number",))
            line = StatementLine.model_validate(row.line)
            decision = decide_by_hand(line, found[0])
            conn.execute(
                update(bank_statement_lines)
                .where(
                    bank_statement_lines.c.statement_id == statement_id,
                    bank_statement_lines.c.n == n,
                )
                .values(decided_at=at, decided_by=actor, **_decided(decision))
            )
            post_entry(
                conn, unapplied_cleared_entry(line.bank_ref, line.gross, line.currency), at, None
            )
            _audit(conn, statement_id, line, decision, at, actor, "bank_line.matched_by_hand")


def _book(conn: Connection, lines: list[StatementLine]) -> Book:
    """The invoices the lines name, the customers they come from with their open invoices,
    and the bank references booked before (as lines, or as payments recorded by hand)."""
    numbers = {n for line in lines for n in invoice_numbers(line.reference)}
    keys = {company_key(line.counterparty) for line in lines if line.counterparty}
    found = conn.execute(
        select(customers.c.name_key, customers.c.customer_id).where(customers.c.name_key.in_(keys))
    ).all()
    by_key = {r.name_key: r.customer_id for r in found}
    items = _items(conn, invoices.c.number.in_(numbers))
    items += _items(conn, invoices.c.customer_id.in_(by_key.values()), invoices.c.status == "open")
    refs = [line.bank_ref for line in lines]
    seen = {
        r.bank_ref: f"line {r.n} of statement {r.statement_id}"
        for r in conn.execute(
            select(bank_statement_lines).where(
                bank_statement_lines.c.bank_ref.in_(refs), ~bank_statement_lines.c.repeats
            )
        )
    }
    for r in conn.execute(select(payments.c.reference).where(payments.c.reference.in_(refs))):
        seen.setdefault(r.reference, f"payment {r.reference}, recorded before")
    return Book(invoices={i.number: i for i in items}, customers=by_key, seen=seen)


def _items(conn: Connection, *where: Any) -> list[OpenItem]:
    rows = conn.execute(
        select(
            invoices.c.number,
            invoices.c.customer_id,
            invoices.c.currency,
            (invoices.c.total - invoices.c.paid - invoices.c.credited).label("balance"),
            invoices.c.status,
            invoices.c.due_date,
        )
        .where(*where)
        .order_by(invoices.c.due_date, invoices.c.number)
    ).all()
    return [OpenItem.model_validate(dict(r._mapping)) for r in rows]


def _decided(decision: Decision) -> dict[str, Any]:
    return {
        "status": decision.status,
        "reason": decision.reason,
        "customer_id": decision.customer_id,
        "invoice_number": decision.invoice_number,
        "allocations": [a.model_dump(mode="json") for a in decision.allocations],
        "credit": decision.credit,
    }


def decision_of(row: Any) -> Decision:
    return Decision.model_validate(
        {
            "status": row.status,
            "reason": row.reason,
            "customer_id": row.customer_id,
            "invoice_number": row.invoice_number,
            "allocations": row.allocations,
            "credit": row.credit,
            "repeats": row.repeats,
        }
    )


def _locked_line(conn: Connection, statement_id: str, n: int) -> Any:
    row = conn.execute(
        select(bank_statement_lines)
        .where(bank_statement_lines.c.statement_id == statement_id, bank_statement_lines.c.n == n)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(LINE_NOT_FOUND)
    return row


def _post_fee(conn: Connection, line: StatementLine, at: datetime) -> None:
    if line.fee > 0:
        post_entry(conn, bank_fee_entry(line.bank_ref, line.fee, line.currency), at, None)


def _audit(
    conn: Connection,
    statement_id: str,
    line: StatementLine,
    decision: Decision,
    at: datetime,
    actor: str,
    action: str,
) -> None:
    append_event(
        conn,
        statement_chain(statement_id),
        f"{action}:{line.n}:{at.isoformat()}",
        at,
        actor,
        action,
        {
            "n": line.n,
            "bank_ref": line.bank_ref,
            "amount": line.amount,
            "fee": line.fee,
            "currency": line.currency,
            "reason": decision.reason,
            "invoice": decision.invoice_number,
            "allocations": [a.model_dump(mode="json") for a in decision.allocations],
            "credit": decision.credit,
        },
    )
