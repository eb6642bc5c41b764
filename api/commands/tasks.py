"""A user's open tasks, built by domain/tasks.py from the inbox view's rows."""

from __future__ import annotations

from datetime import datetime

from adapters.storage.views.paging import Key, Page, key_of, page_of
from domain.tasks import (
    FAR,
    Task,
    chases_payments,
    delivers_every_order,
    most_urgent_first,
    tasks_for,
)
from domain.users import Actor

from ..services import Services
from .approvals import pending

# Tasks are ordered by urgency (domain.tasks.most_urgent_first), then by what they are.
_TASK_KEY = (datetime, datetime, str, str, str, int)


def _task_key(task: Task) -> Key:
    return (
        task.due or FAR,
        task.since,
        task.kind,
        task.deal_id or "",
        task.statement_id or "",
        task.line or 0,
    )


def tasks_page(
    services: Services,
    user: Actor,
    now: datetime,
    deal_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Task]:
    """A page of the user's open tasks, most urgent first, after the cursor's task.

    Tasks are made by domain rules from a few reads (one each, however many rows), so a
    page costs those reads; the page is the tasks past the cursor in the same order."""
    last = key_of(cursor, _TASK_KEY)
    everything = sorted(my_tasks(services, user, now, deal_id, None), key=_task_key)
    after = everything if last is None else [t for t in everything if _task_key(t) > last]
    return page_of(after[: limit + 1], limit, _task_key, _TASK_KEY)


def my_tasks(
    services: Services, user: Actor, now: datetime, deal_id: str | None, limit: int | None
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
