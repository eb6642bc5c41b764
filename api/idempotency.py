"""Idempotency-Key: the same key and body give the first answer again; another body, 409."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from adapters.storage.idempotency import StoredResponse
from domain.errors import Conflict

from .deps import CurrentUser, ServicesDep
from .services import Services

_NAMESPACE = uuid.UUID("5b1d3c5e-8f0a-4c52-9a43-2f1c7c2b9d10")


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
        """Answer as before for a known key; otherwise `make` the answer and remember it."""
        request_hash = self._hash(body)
        if self.key is not None:
            found = self.store.find(self.username, self.key)
            if found is not None:
                return self._replay(found, request_hash)
        content = jsonable_encoder(make())
        if self.key is not None:
            kept = self.store.remember(
                self.username,
                self.key,
                StoredResponse(
                    request_hash=request_hash, status_code=status_code, response=content
                ),
            )
            return self._replay(kept, request_hash)
        return JSONResponse(content, status_code=status_code)

    @staticmethod
    def _replay(found: StoredResponse, request_hash: str) -> JSONResponse:
        if found.request_hash != request_hash:
            raise Conflict("this Idempotency-Key was used with another request")
        return JSONResponse(found.response, status_code=found.status_code)


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
