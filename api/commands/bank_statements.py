"""Bank statements (docs/cash.md): import a camt.053 or CSV file, read a statement, match an
unmatched line by hand. A matched line's payments go the way of `POST /payments` (through
the invoice's collector: dunning stops, the deal hears of it, the ledger posts); then its
overpayment becomes the customer's credit and its fee an expense."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time

from pydantic import BaseModel, ConfigDict, Field

from adapters.bank import parse_statement
from adapters.storage.views.bank_statements import BankLine, BankStatementPage
from domain.access import Action
from domain.cash_application import payment_reference
from domain.errors import DomainError, NotFound
from domain.invoices import PaymentIn
from domain.tasks import UnmatchedLine
from domain.users import Actor

from ..services import Services
from .authorization import authorize
from .payments import record_payment

log = logging.getLogger(__name__)
STATEMENT_NOT_FOUND = "bank statement not found"


class StatementImported(BaseModel):
    statement_id: str
    lines: int
    matched: int
    unmatched: int
    ignored: int


class MatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    invoice_number: str = Field(min_length=1, max_length=40)


def import_statement(services: Services, user: Actor, raw: bytes) -> StatementImported:
    """The same statement again changes nothing (and books what a failed import left)."""
    authorize(user, Action.RECORD_PAYMENT)
    parsed = parse_statement(raw)
    statement_id = services.bank.record(parsed, datetime.now(UTC), user.username)
    settle_matched(services, user, statement_id)
    page = _page(services, statement_id)
    return StatementImported(
        statement_id=statement_id,
        lines=len(page.lines),
        matched=page.matched,
        unmatched=page.unmatched,
        ignored=page.ignored,
    )


def statement(services: Services, user: Actor, statement_id: str) -> BankStatementPage:
    authorize(user, Action.VIEW_LEDGER)
    return _page(services, statement_id)


def queue(services: Services, user: Actor) -> list[UnmatchedLine]:
    """The lines of every statement that wait for finance to say which invoice they pay."""
    authorize(user, Action.VIEW_LEDGER)
    return services.views.bank_statements.unmatched()


def match_line(
    services: Services, user: Actor, statement_id: str, n: int, body: MatchIn
) -> BankLine:
    """Finance says which invoice an unmatched line pays; booked as an import books it."""
    authorize(user, Action.RECORD_PAYMENT)
    _page(services, statement_id)
    services.bank.match_by_hand(
        statement_id, n, body.invoice_number, datetime.now(UTC), user.username
    )
    settle_matched(services, user, statement_id)
    return next(line for line in _page(services, statement_id).lines if line.n == n)


def settle_matched(services: Services, user: Actor, statement_id: str) -> None:
    """Each matched line not booked yet: its payments (by reference, so once), then its
    credit and fee. A payment refused meanwhile (the invoice settled by other means) leaves
    the line unsettled, to be booked by the next import of the statement."""
    for line, decision in services.bank.unsettled(statement_id):
        received_at = datetime.combine(line.booking_date, time.min, UTC)
        try:
            for index, allocation in enumerate(decision.allocations):
                payment = PaymentIn(
                    invoice_number=allocation.invoice_number,
                    amount=allocation.amount,
                    currency=line.currency,
                    reference=payment_reference(line.bank_ref, index),
                    received_at=received_at,
                )
                record_payment(services, user, payment)
        except DomainError as refused:
            log.warning("bank line %s/%s not booked: %s", statement_id, line.n, refused)
            continue
        services.bank.settle(statement_id, line.n, datetime.now(UTC), user.username)


def _page(services: Services, statement_id: str) -> BankStatementPage:
    page = services.views.bank_statements.page(statement_id)
    if page is None:
        raise NotFound(STATEMENT_NOT_FOUND)
    return page
