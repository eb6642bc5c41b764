"""Idempotency-Key: the same key and body give the first answer again; another body, 409."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from domain.errors import Conflict

from .deps import CurrentUser, ServicesDep
from .services import Services

_NAMESPACE = uuid.UUID("5b1d3c5e-8f0a-4c52-9a43-2f1c7c2b9d10")
WAIT_FOR_FIRST = timedelta(seconds=30)  # then 409: the client retries later
STALE_CLAIM = timedelta(minutes=2)  # longer than any request; a holder this late has died


class Idempotency:
    def __init__(self, key: str | None, username: str, route: str, services: Services) -> None:
        self.key, self.username, self.route = key, username, route
        self.store = services.idempotency

    def derived_id(self, part: str = "") -> str:
        """An id that is the same for every retry with this key (a fresh one without)."""
        if self.key is None:
            return uuid.uuid4().hex
        name = f"{self.username}\x1f{self.route}\x1f{self.key}\x1f{part}"
        return uuid.uuid5(_NAMESPACE, name).hex

    def _hash(self, body: BaseModel | bytes | None) -> str:
        digest = hashlib.sha256(self.route.encode() + b"\x1f")
        if isinstance(body, BaseModel):
            digest.update(body.model_dump_json().encode())
        elif body is not None:
            digest.update(body)
        return digest.hexdigest()

    def respond(
        self, body: BaseModel | bytes | None, status_code: int, make: Callable[[], BaseModel]
    ) -> JSONResponse:
        """Answer as before for a known key; otherwise claim the key, `make` the answer and
        keep it. A second try while the first is at work waits for its answer (bounded)."""
        if self.key is None:
            return JSONResponse(jsonable_encoder(make()), status_code=status_code)
        request_hash = self._hash(body)
        while not self.store.claim(self.username, self.key, request_hash):
            answer = self._first_answer(request_hash)
            if answer is not None:
                return answer
            if self.store.take_over(self.username, self.key, STALE_CLAIM):
                break
        try:
            content = jsonable_encoder(make())
        except BaseException:
            self.store.release(self.username, self.key)
            raise
        self.store.answer(self.username, self.key, status_code, content)
        return JSONResponse(content, status_code=status_code)

    def _first_answer(self, request_hash: str) -> JSONResponse | None:
        """The first request's answer, waiting up to WAIT_FOR_FIRST for it; None when its
        claim is gone (it failed: try again) or stale (its holder died: take it over)."""
        assert self.key is not None
        deadline = time.monotonic() + WAIT_FOR_FIRST.total_seconds()
        while True:
            found = self.store.find(self.username, self.key)
            if found is None:
                return None
            if found.request_hash != request_hash:
                raise Conflict("this Idempotency-Key was used with another request")
            if found.answer is not None:
                return JSONResponse(found.answer.response, status_code=found.answer.status_code)
            if datetime.now(UTC) - found.claimed_at > STALE_CLAIM:
                return None
            if time.monotonic() > deadline:
                raise Conflict("a request with this Idempotency-Key is still at work; retry")
            time.sleep(0.1)


def idempotency(
    request: Request,
    user: CurrentUser,
    services: ServicesDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Idempotency:
    return Idempotency(
        idempotency_key, user.username, f"{request.method} {request.url.path}", services
    )


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
