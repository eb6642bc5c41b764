"""Writing notes on deals and customers: the note and its audit event in one transaction,
keyed by the note's id so a retried request writes it once."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert

from domain.notes import Note

from .audit import append_event
from .credit import customer_chain
from .tables import notes


class NoteBook:
    """Notes, each an event in its deal's audit chain or its customer's own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, note: Note) -> Note:
        """Write `note` (once per note_id); the note as stored."""
        chain = note.deal_id or customer_chain(note.customer_id or "")
        with self.engine.begin() as conn:
            conn.execute(insert(notes).values(**note.model_dump()).on_conflict_do_nothing())
            stored = conn.execute(select(notes).where(notes.c.note_id == note.note_id)).one()
            append_event(
                conn,
                chain,
                f"note.added:{note.note_id}",
                stored.created_at,
                stored.author,
                "note.added",
                {
                    "note_id": note.note_id,
                    "deal_id": stored.deal_id,
                    "customer_id": stored.customer_id,
                    "body": stored.body,
                },
            )
        return Note.model_validate(dict(stored._mapping))
