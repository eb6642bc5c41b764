"""Turning an HTML form into the pydantic model its JSON route takes, with the same checks:
empty fields are left out (the model's default), and a refusal names each field."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from domain.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)
FORM_IDS = uuid.UUID("6b1d7c52-3f0e-4c55-9d0a-2f1f4e8a9b10")


async def read_form(request: Request) -> FormData:
    """The posted form, read on the event loop so the (sync) route gets it parsed: forms
    whose fields are not known in advance (a quote's lines) are read whole."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(read_form)]


def filled(fields: Mapping[str, object]) -> dict[str, object]:
    """The fields a user filled in (blank ones are not sent, as a JSON client would not)."""
    return {k: v for k, v in fields.items() if not (isinstance(v, str) and v.strip() == "")}


def parse(model: type[M], fields: Mapping[str, object]) -> tuple[M | None, dict[str, str]]:
    """The model, or None and the reason per field ("lines.0.sku": "unknown SKU")."""
    try:
        return model.model_validate(filled(fields)), {}
    except ValidationError as invalid:
        errors: dict[str, str] = {}
        for error in invalid.errors():
            field = ".".join(str(p) for p in error["loc"]) or "form"
            errors.setdefault(field, str(error["msg"]).removeprefix("Value error, "))
        return None, errors


def checked(model: type[M], fields: Mapping[str, object]) -> M:
    """The model, or an InvalidInput naming the first field refused (a 422 on the page)."""
    body, errors = parse(model, fields)
    if body is None:
        field, reason = next(iter(errors.items()))
        raise InvalidInput(f"{field}: {reason}", field=tuple(field.split(".")))
    return body


def form_ids(username: str, form_id: str) -> Callable[[str], str]:
    """Ids derived from the form a page rendered: the same form sent twice makes the same
    deal (so a double click opens one deal, as an Idempotency-Key does for the API)."""

    def derive(part: str) -> str:
        return uuid.uuid5(FORM_IDS, f"{username}\x1f{form_id}\x1f{part}").hex

    return derive


def new_form_id() -> str:
    return uuid.uuid4().hex


PAGE_SIZE = 50  # rows per page of the back office's lists
