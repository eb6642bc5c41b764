"""Notes on deals and customers, and their activity timelines (notes, e-mails sent, stage
changes). Whoever may see a deal or a customer may read and write its notes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from adapters.storage.views.customers import CustomerPage
from domain.errors import NotFound
from domain.notes import ActivityItem, Note, NoteIn, activity_timeline
from domain.users import Actor

from ..services import Services
from .authorization import owner_scope, visible_deal
from .customers import CUSTOMER_NOT_FOUND


def _visible_customer(services: Services, user: Actor, customer_id: str) -> CustomerPage:
    """The customer with the deals `user` may see of it; 404 to a rep with no deal there."""
    page = services.views.customers.page(customer_id, owner_scope(user))
    if page is None:
        raise NotFound(CUSTOMER_NOT_FOUND)
    return page


def add_deal_note(
    services: Services, user: Actor, deal_id: str, body: NoteIn, note_id: str
) -> Callable[[], Note]:
    """Authorize now; the returned call writes the note (once per `note_id`)."""
    visible_deal(services, user, deal_id)
    note = Note(
        note_id=note_id,
        deal_id=deal_id,
        author=user.username,
        body=body.body,
        created_at=datetime.now(UTC),
    )
    return lambda: services.notes.add(note)


def add_customer_note(
    services: Services, user: Actor, customer_id: str, body: NoteIn, note_id: str
) -> Callable[[], Note]:
    _visible_customer(services, user, customer_id)
    note = Note(
        note_id=note_id,
        customer_id=customer_id,
        author=user.username,
        body=body.body,
        created_at=datetime.now(UTC),
    )
    return lambda: services.notes.add(note)


def deal_notes(services: Services, user: Actor, deal_id: str) -> list[Note]:
    visible_deal(services, user, deal_id)
    return services.views.activity.notes([deal_id])


def customer_notes(services: Services, user: Actor, customer_id: str) -> list[Note]:
    """The customer's own notes (its deals' notes are on each deal)."""
    _visible_customer(services, user, customer_id)
    return [n for n in services.views.activity.notes([], customer_id) if n.deal_id is None]


def deal_activity(services: Services, user: Actor, deal_id: str) -> list[ActivityItem]:
    """The deal's notes, e-mails and stage changes, newest first."""
    visible_deal(services, user, deal_id)
    return _timeline(services, [deal_id])


def customer_activity(
    services: Services, user: Actor, customer_id: str
) -> tuple[CustomerPage, list[ActivityItem]]:
    """The customer, and what happened on it and on the deals of it `user` may see."""
    page = _visible_customer(services, user, customer_id)
    return page, _timeline(services, [d.deal_id for d in page.deals], customer_id)


def _timeline(
    services: Services, deal_ids: list[str], customer_id: str | None = None
) -> list[ActivityItem]:
    views = services.views.activity
    return activity_timeline(
        views.notes(deal_ids, customer_id),
        views.emails(deal_ids),
        views.stage_changes(deal_ids),
    )
