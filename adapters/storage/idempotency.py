"""Remembered answers to requests sent with an Idempotency-Key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert

from .tables import idempotency_keys


class StoredResponse(BaseModel):
    request_hash: str
    status_code: int
    response: Any


class IdempotencyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find(self, username: str, key: str) -> StoredResponse | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.username == username, idempotency_keys.c.key == key
                )
            ).first()
        return None if row is None else StoredResponse.model_validate(dict(row._mapping))

    def remember(self, username: str, key: str, stored: StoredResponse) -> StoredResponse:
        """Keep the first answer for this key; return whichever answer was kept."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(idempotency_keys)
                .values(
                    username=username, key=key, created_at=datetime.now(UTC), **stored.model_dump()
                )
                .on_conflict_do_nothing()
            )
        found = self.find(username, key)
        assert found is not None
        return found
