"""POST /public/leads: the website's contact form, without a login (JSON or form-encoded)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from ..commands import public_leads
from ..commands.public_leads import Accepted, PublicLeadIn
from ..deps import ServicesDep, client_address

router = APIRouter(tags=["leads"])
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_SCHEMA = PublicLeadIn.model_json_schema()


async def _raw_body(request: Request) -> Any:
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        return dict((await request.form()).items())
    try:
        return await request.json()
    except ValueError:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "not JSON", "input": None}]
        ) from None


async def lead_form(request: Request, services: ServicesDep) -> PublicLeadIn:
    """Throttled first (a refused client's body is not even read), then validated."""
    public_leads.throttle(services, client_address(request))
    raw = await _raw_body(request)
    try:
        return PublicLeadIn.model_validate(raw)
    except ValidationError as err:
        raise RequestValidationError([_named(e) for e in err.errors(include_url=False)]) from None


def _named(error: Any) -> dict[str, Any]:
    """A field's error as FastAPI words its own, without an input that is not plain text
    (an uploaded file, say, which JSON cannot show)."""
    shown = error.get("input") if isinstance(error.get("input"), str | int | float) else None
    return {
        "type": error["type"],
        "loc": ("body", *error["loc"]),
        "msg": error["msg"],
        "input": shown,
    }


@router.post(
    "/public/leads",
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _SCHEMA},
                "application/x-www-form-urlencoded": {"schema": _SCHEMA},
            },
        }
    },
    responses={
        422: {"description": "a field is missing or invalid: `detail[].loc` names it"},
        429: {"description": "too many requests from this client; see Retry-After"},
    },
)
def submit_public_lead(
    body: Annotated[PublicLeadIn, Depends(lead_form)], request: Request, services: ServicesDep
) -> Accepted:
    """Always 202 for a valid form: created, a duplicate, or a bot (nothing is told)."""
    return public_leads.submit(services, client_address(request), body)
