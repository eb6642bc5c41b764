"""A user's open tasks (shared/API.md `GET /tasks`): which work on which deal is whose, and
how urgent it is. Pure: the inbox view supplies the rows, the caller the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .approval import ApprovalStep
from .cash_application import StatementLine
from .invoices import Invoice
from .policy import DealPolicy
from .stages import DealStage
from .users import Actor, Role

TaskKind = Literal[
    "qualify_lead", "write_quote", "approve", "deliver", "chase_payment", "match_payment"
]

# The stages where a deal waits for its owner (or ops) rather than for someone else.
STAGES_WITH_WORK = (DealStage.QUALIFYING, DealStage.QUOTING, DealStage.FULFILLING)
# Ops deliver every deal's order; finance chases every overdue invoice.
DELIVERS_EVERY_ORDER = frozenset({Role.OPS})
CHASES_PAYMENTS = frozenset({Role.FINANCE})


class Task(BaseModel):
    """Something a user should do now."""

    kind: TaskKind
    deal_id: str | None  # None: a task of no deal (a bank line to match)
    title: str
    since: datetime
    due: datetime | None = None
    statement_id: str | None = None  # match_payment: the line `POST .../lines/{line}/match`
    line: int | None = None


class DealAtWork(BaseModel):
    """A deal in one of STAGES_WITH_WORK, as the inbox view reads it."""

    model_config = ConfigDict(frozen=True)

    deal_id: str
    stage: DealStage
    owner: str
    customer_name: str
    created_at: datetime
    updated_at: datetime
    signed_at: datetime | None = None
    policy: DealPolicy | None = None
    has_open_quote: bool = False
    order_due: datetime | None = None


class PendingApproval(BaseModel):
    """An approval step waiting for a role, with what its approver needs to see."""

    deal_id: str
    contract_version: int
    step: ApprovalStep
    owner: str
    customer_name: str
    amount: Decimal | None
    currency: str | None


def delivers_every_order(user: Actor) -> bool:
    return user.role in DELIVERS_EVERY_ORDER


def chases_payments(user: Actor) -> bool:
    return user.role in CHASES_PAYMENTS


def follow_up_due(deal: DealAtWork) -> datetime | None:
    """When the owner is reminded of a lead, by the policy the deal started with."""
    if deal.policy is None:
        return None
    policy = deal.policy
    return deal.created_at + policy.days(policy.qualification.remind_after_days)


def deal_task(user: Actor, deal: DealAtWork) -> Task | None:
    """The work `deal` asks of `user`, if any."""
    mine = deal.owner == user.username
    if deal.stage == DealStage.QUALIFYING and mine:
        return Task(
            kind="qualify_lead",
            deal_id=deal.deal_id,
            title=f"Qualify the lead of {deal.customer_name}",
            since=deal.created_at,
            due=follow_up_due(deal),
        )
    if deal.stage == DealStage.QUOTING and mine and not deal.has_open_quote:
        return Task(
            kind="write_quote",
            deal_id=deal.deal_id,
            title=f"Send {deal.customer_name} a quote",
            since=deal.updated_at,
        )
    if deal.stage == DealStage.FULFILLING and (mine or delivers_every_order(user)):
        return Task(
            kind="deliver",
            deal_id=deal.deal_id,
            title=f"Deliver the order of {deal.customer_name}",
            since=deal.signed_at or deal.updated_at,
            due=deal.order_due,
        )
    return None


def approval_task(pending: PendingApproval, now: datetime) -> Task:
    return Task(
        kind="approve",
        deal_id=pending.deal_id,
        title=(
            f"Approve the contract of {pending.customer_name} ({pending.amount} {pending.currency})"
        ),
        since=pending.step.requested_at or now,
    )


def chase_task(invoice: Invoice) -> Task:
    return Task(
        kind="chase_payment",
        deal_id=invoice.deal_id,
        title=f"Chase payment of {invoice.number} ({invoice.total - invoice.paid} "
        f"{invoice.currency})",
        since=invoice.due_date,
        due=invoice.due_date,
    )


class UnmatchedLine(BaseModel):
    """A bank statement line no invoice was found for (domain/cash_application.py)."""

    statement_id: str
    n: int
    line: StatementLine
    since: datetime


def match_task(unmatched: UnmatchedLine) -> Task:
    line = unmatched.line
    return Task(
        kind="match_payment",
        deal_id=None,
        title=f"Match {line.gross} {line.currency} from {line.counterparty or 'an unknown payer'}"
        f" ({line.reference or line.bank_ref})",
        since=unmatched.since,
        statement_id=unmatched.statement_id,
        line=unmatched.n,
    )


def tasks_for(
    user: Actor,
    deals: list[DealAtWork],
    approvals: list[PendingApproval],
    overdue: list[Invoice],
    now: datetime,
    unmatched: list[UnmatchedLine] | None = None,
) -> list[Task]:
    """The user's tasks from the deals at work, their pending approvals and (for finance)
    the overdue invoices and the bank lines to match, in the order given."""
    tasks = [task for deal in deals if (task := deal_task(user, deal)) is not None]
    tasks += [approval_task(pending, now) for pending in approvals]
    if chases_payments(user):
        tasks += [chase_task(invoice) for invoice in overdue if invoice.due_date < now]
        tasks += [match_task(line) for line in unmatched or []]
    return tasks


# Where undated tasks sort: after every dated one.
FAR = datetime.max.replace(tzinfo=UTC)


def most_urgent_first(tasks: list[Task], limit: int | None = None) -> list[Task]:
    """Overdue and soonest due first, then the oldest; undated tasks after dated ones."""
    return sorted(tasks, key=lambda t: (t.due or FAR, t.since))[:limit]
