"""Notes people write on a deal or a customer, and the activity timeline that mixes them
with the e-mails sent and the stage changes, newest first. Pure: storage supplies the rows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

NoteText = Annotated[str, Field(min_length=1, max_length=5000)]
ActivityKind = Literal["note", "email", "stage"]


class NoteIn(BaseModel):
    """A note as written: text only; who and when come from the request."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    body: NoteText


class Note(BaseModel):
    """A note on exactly one deal or one customer."""

    model_config = ConfigDict(frozen=True)

    note_id: str
    deal_id: str | None = None
    customer_id: str | None = None
    author: str
    body: str
    created_at: datetime


class SentEmail(BaseModel):
    """An e-mail of a deal as the outbox keeps it (what was sent to whom, not its body)."""

    model_config = ConfigDict(frozen=True)

    deal_id: str
    kind: str
    subject: str
    recipients: list[str]
    status: str
    created_at: datetime
    sent_at: datetime | None = None


class StageChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    deal_id: str
    stage: str
    at: datetime
    note: str | None = None


class ActivityItem(BaseModel):
    """One line of a timeline: what happened, in words, and to which deal."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    kind: ActivityKind
    deal_id: str | None
    actor: str | None
    text: str
    detail: str | None = None


def _from_note(note: Note) -> ActivityItem:
    return ActivityItem(
        at=note.created_at, kind="note", deal_id=note.deal_id, actor=note.author, text=note.body
    )


def _from_email(mail: SentEmail) -> ActivityItem:
    state = "sent" if mail.status == "sent" else f"e-mail {mail.status}"
    return ActivityItem(
        at=mail.sent_at or mail.created_at,
        kind="email",
        deal_id=mail.deal_id,
        actor=None,
        text=f"E-mail to {', '.join(mail.recipients)}: {mail.subject}",
        detail=f"{mail.kind.replace('_', ' ')}, {state}",
    )


def _from_stage(change: StageChange) -> ActivityItem:
    stage = change.stage.replace("_", " ").lower()
    return ActivityItem(
        at=change.at,
        kind="stage",
        deal_id=change.deal_id,
        actor=None,
        text=f"The deal moved to {stage}",
        detail=change.note,
    )


def activity_timeline(
    notes: list[Note], mails: list[SentEmail], stages: list[StageChange], limit: int = 200
) -> list[ActivityItem]:
    """Newest first; at the same instant a stage change reads after what caused it."""
    items = [
        *(_from_note(n) for n in notes),
        *(_from_email(m) for m in mails),
        *(_from_stage(s) for s in stages),
    ]
    order = {"stage": 0, "email": 1, "note": 2}
    items.sort(key=lambda item: (item.at, order[item.kind]), reverse=True)
    return items[:limit]
