"""Requests sent with an Idempotency-Key: claimed before the work, answered once.

A key is claimed by inserting a pending row (the primary key makes one claim win); the
winner does the work and stores the answer; a concurrent second try finds the claim and
waits for that answer. A claim whose holder died is taken over once it is stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects.postgresql import insert

from .tables import idempotency_keys


class StoredResponse(BaseModel):
    request_hash: str
    status_code: int
    response: Any


class Claim(BaseModel):
    """A key's row: answered (`answer`), or still being worked on since `claimed_at`."""

    request_hash: str
    claimed_at: datetime
    answer: StoredResponse | None


class IdempotencyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, username: str, key: str, request_hash: str) -> bool:
        """Claim the key for this request; False when someone holds or answered it."""
        with self.engine.begin() as conn:
            won = conn.execute(
                insert(idempotency_keys)
                .values(
                    username=username,
                    key=key,
                    request_hash=request_hash,
                    created_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing()
                .returning(idempotency_keys.c.key)
            ).first()
        return won is not None

    def find(self, username: str, key: str) -> Claim | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.username == username, idempotency_keys.c.key == key
                )
            ).first()
        if row is None:
            return None
        answer = (
            None
            if row.status_code is None
            else StoredResponse(
                request_hash=row.request_hash, status_code=row.status_code, response=row.response
            )
        )
        return Claim(request_hash=row.request_hash, claimed_at=row.created_at, answer=answer)

    def take_over(self, username: str, key: str, stale: timedelta) -> bool:
        """Take a claim whose holder has not answered for `stale` (it died); True if taken."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(idempotency_keys)
                .where(
                    idempotency_keys.c.username == username,
                    idempotency_keys.c.key == key,
                    idempotency_keys.c.status_code.is_(None),
                    idempotency_keys.c.created_at < now - stale,
                )
                .values(created_at=now)
                .returning(idempotency_keys.c.key)
            ).first()
        return taken is not None

    def answer(self, username: str, key: str, status_code: int, response: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.username == username, idempotency_keys.c.key == key)
                .values(status_code=status_code, response=response)
            )

    def release(self, username: str, key: str) -> None:
        """The work failed: forget the claim, so a retry does it again."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.username == username,
                    idempotency_keys.c.key == key,
                    idempotency_keys.c.status_code.is_(None),
                )
            )
