"""The audit log on real Postgres: keyed, anchored by a signed head per deal, append-only;
verification finds an edit whose hashes were recomputed and the deletion of the last events."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from adapters.storage.audit import AuditChainBroken, append_event, deal_events, deal_head
from adapters.storage.db import alembic_config, make_engine, migrate
from domain.audit import GENESIS, check_chain, event_hash
from tests.flows import to_approval

NOW = datetime(2030, 1, 15, 9, 30, tzinfo=UTC)


def record(engine: Engine, deal_id: str, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        with engine.begin() as conn:
            at = NOW + timedelta(minutes=i)
            append_event(conn, deal_id, f"e{i}", at, "rep1", "step", {"i": i})


def behind_l2cs_back(conn: Connection, sql: str, **params: object) -> None:
    """What the owner of the tables can do: switch the guard off, write, switch it on."""
    conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    conn.execute(text(sql), params)
    conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


def rechain_without_key(conn: Connection, deal_id: str) -> None:
    """Recompute every hash after an edit, as someone without l2c's key can (SHA-256)."""
    prev = GENESIS
    for event in deal_events(conn, deal_id):
        digest = event_hash(
            None, prev, deal_id, event.seq, event.at, event.actor, event.action, event.data
        )
        behind_l2cs_back(
            conn,
            "UPDATE audit_events SET prev_hash = :p, hash = :h WHERE deal_id = :d AND seq = :s",
            p=prev,
            h=digest,
            d=deal_id,
            s=event.seq,
        )
        prev = digest
    conn.execute(
        text("UPDATE audit_heads SET hash = :h WHERE deal_id = :d"), {"h": prev, "d": deal_id}
    )


def test_the_audit_table_refuses_update_delete_and_truncate(fresh_engine):
    record(fresh_engine, "D-1", 2)
    for statement in (
        "UPDATE audit_events SET actor = 'mallory'",
        "DELETE FROM audit_events WHERE seq = 2",
        "TRUNCATE audit_events",
    ):
        with pytest.raises(DBAPIError, match="append-only"), fresh_engine.begin() as conn:
            conn.execute(text(statement))


def verify(live, as_user, deal_id: str) -> dict[str, object]:
    answer = as_user("rep1").get(f"/deals/{deal_id}/history/verify")
    assert answer.status_code == 200
    result: dict[str, object] = answer.json()
    return result


def test_an_edit_with_recomputed_hashes_is_found(live, as_user):
    deal_id = to_approval(live, as_user("rep1"))["deal_id"]
    assert verify(live, as_user, deal_id)["intact"] is True
    with live.engine.begin() as conn:
        seq = conn.execute(
            text("SELECT seq FROM audit_events WHERE deal_id = :d AND action = 'quote.created'"),
            {"d": deal_id},
        ).scalar_one()
        behind_l2cs_back(
            conn,
            "UPDATE audit_events SET data = jsonb_set(data, '{total}', '\"1.00\"') "
            "WHERE deal_id = :d AND seq = :s",
            d=deal_id,
            s=seq,
        )
        rechain_without_key(conn, deal_id)
    check = verify(live, as_user, deal_id)
    assert (check["intact"], check["first_broken_seq"]) == (False, 1)
    env = dict(
        os.environ,
        DATABASE_URL=live.settings.database_url or "",
        L2C_SECRET_KEY=live.settings.secret_key,
    )
    cli = subprocess.run(
        [str(Path(sys.executable).parent / "l2c"), "audit", "verify", "--deal", deal_id],
        env=env,
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 1
    assert f"BROKEN deal {deal_id}: event 1" in cli.stdout


def test_deleting_the_last_events_is_found(live, as_user):
    deal_id = to_approval(live, as_user("rep1"))["deal_id"]
    with live.engine.begin() as conn:
        last = deal_events(conn, deal_id)[-1].seq
        behind_l2cs_back(
            conn, "DELETE FROM audit_events WHERE deal_id = :d AND seq >= :s", d=deal_id, s=last - 1
        )
    check = verify(live, as_user, deal_id)
    assert (check["intact"], check["first_broken_seq"]) == (False, last - 1)
    assert "missing" in str(check["reason"])
    with live.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_heads WHERE deal_id = :d"), {"d": deal_id})
    assert verify(live, as_user, deal_id)["intact"] is False


def test_nothing_is_appended_after_the_last_events_were_deleted(fresh_engine):
    record(fresh_engine, "D-2", 3)
    with fresh_engine.begin() as conn:
        behind_l2cs_back(conn, "DELETE FROM audit_events WHERE seq = 3")
    with pytest.raises(AuditChainBroken):
        record(fresh_engine, "D-2", 1, start=3)


@pytest.fixture
def database_at_0010(live) -> Iterator[str]:
    """An empty database migrated only up to before the signed heads."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    base = live.settings.database_url or ""
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    command.upgrade(alembic_config(url), "0010")
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_chains_written_before_the_key_stay_verifiable(live, database_at_0010):
    key = live.settings.audit_secret
    legacy = make_engine(database_at_0010, pool_size=1)
    prev = GENESIS
    with legacy.begin() as conn:
        for seq in (1, 2):
            digest = event_hash(None, prev, "OLD", seq, NOW, "rep1", "step", {})
            conn.execute(
                text(
                    "INSERT INTO audit_events (deal_id, seq, event_key, at, actor, action, data,"
                    " prev_hash, hash) VALUES ('OLD', :s, :k, :at, 'rep1', 'step', '{}', :p, :h)"
                ),
                {"s": seq, "k": f"e{seq}", "at": NOW, "p": prev, "h": digest},
            )
            prev = digest
    legacy.dispose()
    assert migrate(database_at_0010, key) == []
    engine = make_engine(database_at_0010, pool_size=1, audit_key=key)
    with engine.begin() as conn:
        append_event(conn, "OLD", "e3", NOW, "rep1", "step", {})
    with engine.connect() as conn:
        events, head = deal_events(conn, "OLD"), deal_head(conn, "OLD")
    engine.dispose()
    assert head is not None and head.legacy_upto == 2 and len(events) == 3
    assert check_chain(events, head, key).first_broken_seq is None
