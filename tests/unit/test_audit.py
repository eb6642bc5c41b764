"""The audit chain: each event's hash proves its content and its place after the one before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.audit import (
    GENESIS,
    AuditEvent,
    check_chain,
    event_hash,
    first_broken_link,
    signed_head,
)

START = datetime(2030, 1, 15, 9, 30, tzinfo=UTC)
KEY = b"audit-key-the-database-does-not-hold"


def chain(
    written: list[tuple[str, str, dict[str, Any]]],
    deal_id: str = "D-1",
    key: bytes | None = KEY,
) -> list[AuditEvent]:
    """Events linked as the audit log writes them: seq from 1, each hashing the one before."""
    events: list[AuditEvent] = []
    prev = GENESIS
    for seq, (actor, action, data) in enumerate(written, start=1):
        at = START + timedelta(minutes=seq)
        digest = event_hash(key, prev, deal_id, seq, at, actor, action, data)
        events.append(
            AuditEvent(
                deal_id=deal_id,
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                data=data,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    return events


DEAL = chain(
    [
        ("rep1", "lead.created", {"company": "Acme"}),
        ("rep1", "quote.submitted", {"version": 1, "total": "120.00"}),
        ("mia", "approval.approved", {"step": 0}),
        ("customer:ada", "contract.signed", {"name": "Ada"}),
        ("system", "invoice.issued", {"number": "2030-000001", "total": "120.00"}),
    ]
)

json_values = st.one_of(st.text(max_size=20), st.integers(-(10**9), 10**9), st.booleans())
one_event = st.tuples(
    st.sampled_from(["rep1", "mia", "system", "customer:ada"]),
    st.sampled_from(["lead.created", "quote.submitted", "invoice.issued"]),
    st.dictionaries(st.text(min_size=1, max_size=10), json_values, max_size=3),
)
histories = st.lists(one_event, min_size=1, max_size=8)


def test_an_intact_chain_has_no_broken_link():
    assert first_broken_link(DEAL, KEY) is None


@given(histories)
def test_any_chain_written_in_order_is_intact(written):
    assert first_broken_link(chain(written), KEY) is None


def test_an_empty_chain_has_no_broken_link():
    assert first_broken_link([], KEY) is None


def test_the_first_event_follows_the_genesis_hash():
    assert DEAL[0].prev_hash == GENESIS == "0" * 64


@pytest.mark.parametrize(
    "change",
    [
        {"actor": "mallory"},
        {"action": "approval.rejected"},
        {"data": {"step": 1}},
        {"at": START + timedelta(days=1)},
        {"deal_id": "D-2"},
        {"seq": 9},
        {"hash": "f" * 64},
        {"prev_hash": "e" * 64},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_changed_field_breaks_the_chain_at_that_event(change):
    tampered = [*DEAL[:2], DEAL[2].model_copy(update=change), *DEAL[3:]]
    assert first_broken_link(tampered, KEY) == tampered[2].seq


@given(histories, st.data())
def test_changed_data_anywhere_is_found_at_that_event(written, data):
    logged = chain(written)
    index = data.draw(st.integers(0, len(logged) - 1))
    changed = {**logged[index].data, "tampered": not logged[index].data.get("tampered")}
    logged[index] = logged[index].model_copy(update={"data": changed})
    assert first_broken_link(logged, KEY) == logged[index].seq


def test_a_removed_event_breaks_the_chain_at_the_next_one():
    assert first_broken_link([*DEAL[:2], *DEAL[3:]], KEY) == DEAL[3].seq


def test_a_removed_first_event_breaks_the_chain_at_the_new_first():
    assert first_broken_link(DEAL[1:], KEY) == DEAL[1].seq


def test_two_swapped_events_break_the_chain_at_the_first_of_them():
    assert first_broken_link([DEAL[0], DEAL[2], DEAL[1], *DEAL[3:]], KEY) == DEAL[2].seq


@given(st.lists(one_event, min_size=2, max_size=8), st.data())
def test_any_reordering_breaks_the_chain_where_it_starts(written, data):
    logged = chain(written)
    shuffled = data.draw(st.permutations(logged).filter(lambda order: order != logged))
    first_moved = next(new for new, old in zip(shuffled, logged, strict=True) if new != old)
    assert first_broken_link(shuffled, KEY) == first_moved.seq


def test_an_event_from_another_chain_breaks_it():
    other = chain([("rep2", "lead.created", {"company": "Initech"})], deal_id="D-2")
    assert first_broken_link([*DEAL[:1], other[0]], KEY) == other[0].seq


def test_the_hash_is_an_hmac_sha256_hex_digest():
    assert all(len(event.hash) == 64 and int(event.hash, 16) >= 0 for event in DEAL)


def test_the_same_instant_in_another_time_zone_gives_the_same_hash():
    at = START.astimezone(timezone(timedelta(hours=2)))
    assert event_hash(KEY, GENESIS, "D-1", 1, at, "rep1", "a", {}) == event_hash(
        KEY, GENESIS, "D-1", 1, START, "rep1", "a", {}
    )


def test_the_order_of_data_keys_does_not_change_the_hash():
    assert event_hash(KEY, GENESIS, "D-1", 1, START, "rep1", "a", {"x": 1, "y": 2}) == event_hash(
        KEY, GENESIS, "D-1", 1, START, "rep1", "a", {"y": 2, "x": 1}
    )


def test_hashes_recomputed_after_an_edit_without_the_key_do_not_verify():
    """Whoever edits the table can recompute plain SHA-256, but not the keyed chain."""
    written = [("rep1", "lead.created", {"company": "Acme"}), ("mia", "approval.approved", {})]
    forged = chain([written[0], ("mallory", "approval.approved", {})], key=None)
    assert first_broken_link(forged, KEY) == 1
    assert first_broken_link(chain(written, key=b"another key"), KEY) == 1


def head_of(events: list[AuditEvent], legacy_upto: int = 0):
    return signed_head(KEY, "D-1", events[-1].seq, events[-1].hash, legacy_upto)


def test_a_chain_with_its_signed_head_is_intact():
    verdict = check_chain(DEAL, head_of(DEAL), KEY)
    assert verdict.first_broken_seq is None and verdict.reason is None


def test_deleting_the_last_events_is_found_by_the_head():
    verdict = check_chain(DEAL[:3], head_of(DEAL), KEY)
    assert verdict.first_broken_seq == DEAL[3].seq and "missing" in (verdict.reason or "")


def test_a_head_moved_back_without_the_key_is_refused():
    moved = head_of(DEAL[:3]).model_copy(update={"mac": "0" * 64})
    assert check_chain(DEAL[:3], moved, KEY).reason == "the head's signature is wrong"


def test_a_deleted_or_unsigned_head_breaks_the_chain():
    assert check_chain(DEAL, None, KEY).first_broken_seq == 1
    unsigned = head_of(DEAL).model_copy(update={"mac": None})
    assert check_chain(DEAL, unsigned, KEY).first_broken_seq == DEAL[-1].seq


def test_legacy_events_verify_up_to_the_signed_legacy_mark_only():
    legacy = chain([("rep1", "lead.created", {}), ("rep1", "quote.submitted", {})], key=None)
    assert check_chain(legacy, head_of(legacy, legacy_upto=2), KEY).first_broken_seq is None
    assert check_chain(legacy, head_of(legacy, legacy_upto=1), KEY).first_broken_seq == 2
    edited = [legacy[0].model_copy(update={"actor": "mallory"}), legacy[1]]
    assert check_chain(edited, head_of(legacy, legacy_upto=2), KEY).first_broken_seq == 1
