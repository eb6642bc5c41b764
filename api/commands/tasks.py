"""A user's open tasks, built by domain/tasks.py from the inbox view's rows."""

from __future__ import annotations

from datetime import datetime

from domain.tasks import Task, chases_payments, delivers_every_order, most_urgent_first, tasks_for
from domain.users import Actor

from ..services import Services
from .approvals import pending


def my_tasks(
    services: Services, user: Actor, now: datetime, deal_id: str | None, limit: int
) -> list[Task]:
    """Most urgent first: overdue and soonest due, then the oldest."""
    if user.role is None:
        return []
    inbox = services.views.inbox
    tasks = tasks_for(
        user,
        inbox.deals_at_work(user.username, every_fulfilling=delivers_every_order(user)),
        pending(services, user),
        inbox.overdue_invoices(now) if chases_payments(user) else [],
        now,
        services.views.bank_statements.unmatched() if chases_payments(user) else [],
    )
    if deal_id is not None:
        tasks = [t for t in tasks if t.deal_id == deal_id]
    return most_urgent_first(tasks, limit)
