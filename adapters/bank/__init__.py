"""Bank statement files read into domain lines: camt.053 XML and CSV (docs/cash.md)."""

from __future__ import annotations

from domain.cash_application import ParsedStatement, StatementInvalid

from .camt053 import parse_camt053
from .csv_statement import parse_csv

MAX_BYTES = 5 * 1024 * 1024


def parse_statement(raw: bytes) -> ParsedStatement:
    """XML is camt.053, anything else CSV."""
    if not raw.strip():
        raise StatementInvalid("the file is empty", field=("file",))
    if len(raw) > MAX_BYTES:
        raise StatementInvalid(f"a statement file is at most {MAX_BYTES} bytes", field=("file",))
    if raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return parse_camt053(raw)
    return parse_csv(raw)


__all__ = ["MAX_BYTES", "parse_statement"]
