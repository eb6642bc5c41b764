"""Request limits: bodies over a size are refused with 413 before they are read whole, and
text with a NUL character (which Postgres cannot store in text or JSON) is refused with 422
before anything reads it."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 1024 * 1024  # 1 MiB: far above any JSON this API takes
MiB = 1024 * 1024
# Uploads, a little above what their readers take (lead CSVs 40 MiB, statements 5 MiB).
UPLOADS = {
    "/leads/import": 41 * MiB,
    "/ui/leads/import": 41 * MiB,
    "/bank-statements": 11 * MiB,
    "/ui/bank-statements": 11 * MiB,
}
NUL_IN_JSON = b"\\u0000"
FORM = b"application/x-www-form-urlencoded"  # where a NUL is written %00
TAIL = len(NUL_IN_JSON) - 1  # bytes kept from a chunk, for a NUL escape split between two


class TooLarge(BaseException):  # noqa: N818
    """Raised from `receive`. Not an Exception, so the framework's body parsing (which turns
    any Exception into a 400) lets it through to us."""


class HasNul(BaseException):  # noqa: N818
    """Raised from `receive` when the body holds a NUL character (raw, or escaped in JSON)."""


class BodyLimit:
    """Refuse a body over the limit by its Content-Length, or when the stream exceeds it;
    refuse NUL characters in the path, the query or the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            where = "path" if "\x00" in scope["path"] else "query"
            await _refuse_nul(send, where)
            return
        limit = UPLOADS.get(scope["path"], MAX_BODY)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, limit)
            return
        seen, tail = 0, b""
        form = dict(scope["headers"]).get(b"content-type", b"").startswith(FORM)

        async def counted() -> Message:
            nonlocal seen, tail
            message = await receive()
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                raise TooLarge
            joined = tail + chunk
            if b"\x00" in chunk or NUL_IN_JSON in joined or (form and b"%00" in joined):
                raise HasNul
            tail = joined[-TAIL:]
            return message

        try:
            await self.app(scope, counted, send)
        except TooLarge:
            await _refuse(send, limit)
        except HasNul:
            await _refuse_nul(send, "body")


async def _refuse(send: Send, limit: int) -> None:
    await _answer(send, 413, {"detail": f"request body larger than {limit} bytes"})


async def _refuse_nul(send: Send, where: str) -> None:
    """A 422 shaped as FastAPI's validation errors, naming where the NUL was."""
    reason = "text may not contain NUL (\\u0000) characters"
    await _answer(send, 422, {"detail": [{"loc": [where], "msg": reason, "type": "value_error"}]})


async def _answer(send: Send, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
