"""Keyset pages for every list: an opaque cursor holds the sort key of the last item seen,
and the next page is the rows after it in the list's order (an index walk, whatever page).

A cursor is the key's values as URL-safe base64 of JSON; `after` turns it back into values
of the list's key types, or refuses it as invalid input naming `cursor`."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, tuple_

from domain.errors import InvalidInput

# How each part of a key is written into a cursor and read back from it.
Key = tuple[Any, ...]
KeyType = type[str] | type[int] | type[datetime]

T = TypeVar("T")

_WRITE: dict[type, Callable[[Any], Any]] = {
    str: str,
    int: int,
    datetime: lambda at: at.isoformat(),
}


class Page(BaseModel, Generic[T]):
    """One page of a list and the cursor of the next (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def cursor_of(key: Key, types: Sequence[KeyType]) -> str:
    """The cursor that resumes a list after the item whose sort key is `key`."""
    values = [_WRITE[t](v) for v, t in zip(key, types, strict=True)]
    raw = json.dumps(values, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read(value: object, kind: KeyType) -> Any:
    if kind is datetime and isinstance(value, str):
        at = datetime.fromisoformat(value)
        if at.tzinfo is None:
            raise ValueError("a cursor's time has an offset")
        return at
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    raise ValueError(f"not a {kind.__name__}")


def key_of(cursor: str | None, types: Sequence[KeyType]) -> Key | None:
    """The sort key a cursor carries (None: the first page); 422 naming `cursor` for any
    text this API did not give."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("wrong length")
        return tuple(_read(v, t) for v, t in zip(values, types, strict=True))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("not a cursor this API gave", field=("cursor",)) from None


def after(columns: Sequence[ColumnElement[Any]], key: Key, descending: bool) -> ColumnElement[bool]:
    """Rows past `key` in a list ordered by `columns` (all one direction): a row comparison,
    which Postgres answers from a btree index on those columns."""
    row, past = tuple_(*columns), tuple_(*key)
    return row < past if descending else row > past


def page_of(
    found: Sequence[T], limit: int, key: Callable[[T], Key], types: Sequence[KeyType]
) -> Page[T]:
    """`found` holds up to limit + 1 items: the page, and one more if there is a next."""
    items = list(found[:limit])
    more = len(found) > limit
    return Page[T](items=items, next_cursor=cursor_of(key(items[-1]), types) if more else None)
