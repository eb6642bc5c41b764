"""The one shape of a refused statement line: 422 naming the line and its field."""

from __future__ import annotations

from domain.cash_application import StatementInvalid


def invalid_line(n: int, field: str, why: str) -> StatementInvalid:
    return StatementInvalid(f"line {n}: {why}", field=("file", "lines", n, field))
