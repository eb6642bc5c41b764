"""What waits for a user: the approval steps addressed to their role, and the rows their
task list is built from (domain/tasks.py decides which are tasks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Row, Select, exists, or_, select

from domain.approval import StepStatus
from domain.invoices import Invoice
from domain.stages import DealStage
from domain.tasks import STAGES_WITH_WORK, DealAtWork, PendingApproval
from domain.users import Role

from ..tables import approval_steps, audit_events, customers, deals, invoices, orders, quotes
from .paging import Key, Page, after, key_of, page_of
from .rows import invoice_from_row, step_from_row


class InboxViews:
    """Approval inboxes and the rows of task lists."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def pending_approvals(self, role: Role, username: str) -> list[PendingApproval]:
        """Steps waiting for `role`, on deals `username` does not own, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(_pending(role, username)).all()
        return [_pending_approval(r) for r in rows]

    def pending_page(
        self, role: Role, username: str, limit: int, cursor: str | None
    ) -> Page[PendingApproval]:
        """A page of `pending_approvals`, after the cursor's step: one statement."""
        query = _pending(role, username)
        last = key_of(cursor, _STEP_KEY)
        if last is not None:
            query = query.where(after(_STEP_ORDER, last, descending=False))
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit + 1)).all()
        return page_of([_pending_approval(r) for r in rows], limit, _step_key, _STEP_KEY)

    def deals_at_work(self, owner: str, every_fulfilling: bool) -> list[DealAtWork]:
        """`owner`'s deals at a stage that waits for work (and every deal being fulfilled,
        when asked), oldest first, each with whether it has an open quote and its order's
        due date: one query."""
        concerned = deals.c.owner == owner
        if every_fulfilling:
            concerned = or_(concerned, deals.c.stage == DealStage.FULFILLING)
        open_quote = exists().where(quotes.c.deal_id == deals.c.deal_id, quotes.c.status == "open")
        query = (
            select(
                deals.c.deal_id,
                deals.c.stage,
                deals.c.owner,
                deals.c.created_at,
                deals.c.updated_at,
                deals.c.signed_at,
                deals.c.policy,
                customers.c.name.label("customer_name"),
                open_quote.label("has_open_quote"),
                orders.c.due_date.label("order_due"),
            )
            .join(customers, customers.c.customer_id == deals.c.customer_id)
            .outerjoin(orders, orders.c.deal_id == deals.c.deal_id)
            .where(deals.c.stage.in_(STAGES_WITH_WORK), concerned)
            .order_by(deals.c.created_at)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [DealAtWork.model_validate({**r._mapping, "policy": r.policy or None}) for r in rows]

    def overdue_invoices(self, now: datetime) -> list[Invoice]:
        """Open invoices past their due date, the longest overdue first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(invoices)
                .where(invoices.c.status == "open", invoices.c.due_date < now)
                .order_by(invoices.c.due_date)
            ).all()
        return [invoice_from_row(r) for r in rows]


def _involved(username: str) -> ColumnElement[bool]:
    """`username` owned the deal before (the audit log's owner changes) or wrote one of its
    quotes: such a person never decides its approvals (domain.approval.check_approver)."""
    quoted = exists().where(quotes.c.deal_id == deals.c.deal_id, quotes.c.created_by == username)
    owned = exists().where(
        audit_events.c.deal_id == deals.c.deal_id,
        audit_events.c.action == "owner.changed",
        audit_events.c.data["from"].astext == username,
    )
    return or_(quoted, owned)


# The inbox lists steps oldest request first, by (requested_at, deal, contract version, step).
_STEP_ORDER = (
    approval_steps.c.requested_at,
    approval_steps.c.deal_id,
    approval_steps.c.contract_version,
    approval_steps.c.idx,
)
_STEP_KEY = (datetime, str, int, int)


def _step_key(p: PendingApproval) -> Key:
    return (p.step.requested_at, p.deal_id, p.contract_version, p.step.index)


def _pending(role: Role, username: str) -> Select[Any]:
    """Steps waiting for `role` on deals `username` may decide, in the inbox's order."""
    return (
        select(
            approval_steps,
            deals.c.owner,
            deals.c.amount,
            deals.c.currency,
            customers.c.name.label("customer_name"),
        )
        .join(deals, deals.c.deal_id == approval_steps.c.deal_id)
        .join(customers, customers.c.customer_id == deals.c.customer_id)
        .where(
            or_(approval_steps.c.role == role, approval_steps.c.escalated_to == role),
            approval_steps.c.status == StepStatus.PENDING,
            or_(
                deals.c.stage == DealStage.AWAITING_APPROVAL,
                approval_steps.c.subject.in_(("cancellation", "change_order")),
            ),
            deals.c.owner != username,
            ~_involved(username),
        )
        .order_by(*_STEP_ORDER)
    )


def _pending_approval(r: Row[Any]) -> PendingApproval:
    return PendingApproval(
        deal_id=r.deal_id,
        contract_version=r.contract_version,
        owner=r.owner,
        customer_name=r.customer_name,
        amount=r.amount,
        currency=r.currency,
        step=step_from_row(r),
    )
