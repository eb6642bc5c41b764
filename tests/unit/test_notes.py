"""The activity timeline: notes, e-mails and stage changes in one list, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.notes import Note, SentEmail, StageChange, activity_timeline

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def note(at: datetime, body: str = "called them") -> Note:
    return Note(note_id=body, deal_id="d1", author="rep1", body=body, created_at=at)


def test_the_timeline_mixes_every_kind_newest_first() -> None:
    mail = SentEmail(
        deal_id="d1",
        kind="quote_sent",
        subject="Your quote",
        recipients=["ada@acme.example"],
        status="sent",
        created_at=T0 + timedelta(minutes=1),
        sent_at=T0 + timedelta(minutes=2),
    )
    stage = StageChange(deal_id="d1", stage="PROPOSED", at=T0 + timedelta(minutes=1))

    items = activity_timeline([note(T0 + timedelta(minutes=3))], [mail], [stage])

    assert [i.kind for i in items] == ["note", "email", "stage"]
    assert items[1].text == "E-mail to ada@acme.example: Your quote"
    assert items[1].at == T0 + timedelta(minutes=2)  # when it left, not when it was queued
    assert items[2].text == "The deal moved to proposed"


def test_a_stage_change_reads_after_what_caused_it_at_the_same_instant() -> None:
    stage = StageChange(deal_id="d1", stage="QUOTING", at=T0)
    items = activity_timeline([note(T0)], [], [stage])
    assert [i.kind for i in items] == ["note", "stage"]


def test_the_timeline_is_cut_at_its_limit_keeping_the_newest() -> None:
    notes = [note(T0 + timedelta(minutes=i), f"n{i}") for i in range(5)]
    items = activity_timeline(notes, [], [], limit=2)
    assert [i.text for i in items] == ["n4", "n3"]
