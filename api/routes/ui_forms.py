"""What the back-office pages share: form bodies validated as the JSON API validates them,
and the page size of their lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

from domain.errors import InvalidInput

T = TypeVar("T")
PAGE_SIZE = 50


def valid(build: Callable[[], T]) -> T:
    """The body a form describes, or a 422 naming the first field the API would refuse
    (a form's refusal is shown on its page, as `act` shows any refusal)."""
    try:
        return build()
    except ValidationError as err:
        first = err.errors()[0]
        field = tuple(first["loc"])
        name = ".".join(str(part) for part in field) or "form"
        raise InvalidInput(f"{name}: {first['msg']}", field=field) from None
