"""The Temporal UI's remote codec (https://docs.temporal.io/production-deployment/data-encryption):
it opens the payloads l2c seals (adapters/payload_codec.py) for ops and admins, so the UI
shows a deal's inputs and results while the histories keep them sealed.

`POST /ui/codec/decode` (and `/encode`, for payloads typed into the UI) take and answer
`{"payloads": [{"metadata": {name: base64}, "data": base64}]}`. The caller is an ops or admin
user: a bearer token, or the l2c UI's session cookie (the Temporal UI sends it when it runs
on the same site with credentials included); `l2c dev` alone also trusts this machine.
The Temporal UI's origin may call it from the browser (CORS, for these two paths only).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload

from adapters.payload_codec import EncryptionCodec, parse_keys
from domain.access import Action
from domain.errors import InvalidInput
from domain.users import Actor

from ..commands.authorization import authorize
from ..deps import ServicesDep, client_address, current_user
from ..errors import Unauthenticated
from ..services import Services
from ..ui_auth import session_from

router = APIRouter(tags=["operations"])
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
ALLOWED_HEADERS = "Content-Type, X-Namespace, Authorization"
_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


class CodecPayload(BaseModel):
    metadata: dict[str, str] = Field(default_factory=dict)
    data: str = ""


class CodecBody(BaseModel):
    payloads: list[CodecPayload] = Field(max_length=1000)


def codec_user(
    request: Request, services: ServicesDep, token: Annotated[str | None, Depends(_bearer)]
) -> Actor | None:
    """Who asks: a bearer token's user, the UI session's, or (dev only) this machine."""
    if token:
        return current_user(token, services)
    session = session_from(request, services)
    if session is not None:
        return session.user
    if services.settings.codec_trusts_loopback and client_address(request) in LOOPBACK:
        return None
    raise Unauthenticated("not authenticated")


CodecUser = Annotated[Actor | None, Depends(codec_user)]


@router.options("/ui/codec/{operation}", include_in_schema=False)
def preflight(operation: str, request: Request, services: ServicesDep) -> Response:
    return _cors(Response(status_code=204), request, services)


@router.post("/ui/codec/decode")
def decode(
    body: CodecBody, user: CodecUser, request: Request, response: Response, services: ServicesDep
) -> CodecBody:
    """Open sealed payloads (others pass through)."""
    codec = _codec(services, user)
    _cors(response, request, services)
    return CodecBody(payloads=[_out(codec.open(_in(p, i))) for i, p in enumerate(body.payloads)])


@router.post("/ui/codec/encode")
def encode(
    body: CodecBody, user: CodecUser, request: Request, response: Response, services: ServicesDep
) -> CodecBody:
    """Seal payloads with the current key."""
    codec = _codec(services, user)
    _cors(response, request, services)
    return CodecBody(payloads=[_out(codec.seal(_in(p, i))) for i, p in enumerate(body.payloads)])


def _codec(services: Services, user: Actor | None) -> EncryptionCodec:
    if user is not None:
        authorize(user, Action.READ_PAYLOADS)
    if not services.settings.payload_keys:
        raise InvalidInput("payloads are not sealed here: no payload keys are set")
    return EncryptionCodec(parse_keys(services.settings.payload_keys))


def _in(payload: CodecPayload, index: int) -> Payload:
    try:
        return Payload(
            metadata={k: base64.b64decode(v, validate=True) for k, v in payload.metadata.items()},
            data=base64.b64decode(payload.data, validate=True),
        )
    except (binascii.Error, ValueError) as err:
        raise InvalidInput("not base64", field=("payloads", index)) from err


def _out(payload: Payload) -> CodecPayload:
    return CodecPayload(
        metadata={k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        data=base64.b64encode(payload.data).decode(),
    )


def _cors(response: Response, request: Request, services: Services) -> Response:
    """The Temporal UI's origin, and only it, may call from the browser with credentials."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") == services.settings.temporal_ui.rstrip("/"):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            "Content-Type, X-Namespace, Authorization"
        )
        response.headers["Vary"] = "Origin"
    return response
