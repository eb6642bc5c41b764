"""What happened on deals and customers, as the activity timeline reads it: notes, the
e-mails of the outbox, stage changes. One statement per kind, however many deals."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Engine, or_, select

from domain.notes import Note, SentEmail, StageChange

from ..tables import emails, notes, stage_changes

ROWS_PER_KIND = 200


class ActivityViews:
    """Reads of notes, e-mails and stage changes, newest first."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def notes(self, deal_ids: list[str], customer_id: str | None = None) -> list[Note]:
        """The notes of these deals, and of the customer itself when given."""
        where: ColumnElement[bool] = notes.c.deal_id.in_(deal_ids)
        if customer_id is not None:
            where = or_(where, notes.c.customer_id == customer_id)
        query = select(notes).where(where).order_by(notes.c.created_at.desc())
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(ROWS_PER_KIND)).all()
        return [Note.model_validate(dict(r._mapping)) for r in rows]

    def emails(self, deal_ids: list[str]) -> list[SentEmail]:
        query = (
            select(
                emails.c.deal_id,
                emails.c.kind,
                emails.c.subject,
                emails.c.recipients,
                emails.c.status,
                emails.c.created_at,
                emails.c.sent_at,
            )
            .where(emails.c.deal_id.in_(deal_ids))
            .order_by(emails.c.created_at.desc())
            .limit(ROWS_PER_KIND)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [SentEmail.model_validate(dict(r._mapping)) for r in rows]

    def stage_changes(self, deal_ids: list[str]) -> list[StageChange]:
        query = (
            select(
                stage_changes.c.deal_id,
                stage_changes.c.stage,
                stage_changes.c.at,
                stage_changes.c.note,
            )
            .where(stage_changes.c.deal_id.in_(deal_ids))
            .order_by(stage_changes.c.at.desc())
            .limit(ROWS_PER_KIND)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [StageChange.model_validate(dict(r._mapping)) for r in rows]
