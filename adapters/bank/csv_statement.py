"""A statement as CSV (shared/API.md): `booking_date,amount,currency,reference,counterparty,
bank_ref`, one line per booking, a negative amount for money out; an optional `fee` column
for what the bank kept of a payment. `;` separates too, where the header uses it."""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from domain.cash_application import Direction, ParsedStatement, StatementInvalid, StatementLine

from .errors import invalid_line

COLUMNS = ("booking_date", "amount", "currency", "reference", "counterparty", "bank_ref")
OPTIONAL = ("fee",)


def parse_csv(raw: bytes) -> ParsedStatement:
    """Each row a line, in order. The statement is the file: the same bytes are the same
    statement (its key is their digest)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise StatementInvalid("a CSV statement is UTF-8 text", field=("file",)) from err
    header = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    names = [n.strip() for n in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [c for c in names if c not in COLUMNS + OPTIONAL]
    if missing or unknown:
        wrong = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
        raise StatementInvalid(
            f"CSV columns: {wrong}; expected {','.join(COLUMNS)}[,fee]", field=("file",)
        )
    lines = [_line(n, row) for n, row in enumerate(reader, start=1)]
    if not lines:
        raise StatementInvalid("the statement has no lines", field=("file",))
    digest = hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()
    return ParsedStatement(key=f"csv:{digest}", format="csv", lines=lines)


def _line(n: int, row: dict[str | None, str | list[str] | None]) -> StatementLine:
    if None in row:
        raise invalid_line(n, "file", "more values than columns")
    value = {str(k).strip(): str(v or "").strip() for k, v in row.items()}
    try:
        amount = Decimal(value["amount"])
    except InvalidOperation as err:
        raise invalid_line(n, "amount", f"not an amount: {value['amount']!r}") from err
    if not amount.is_finite() or amount == 0:
        raise invalid_line(n, "amount", "an amount other than zero")
    try:
        return StatementLine(
            n=n,
            booking_date=value["booking_date"],
            amount=abs(amount),
            fee=value.get("fee") or "0",
            currency=value["currency"].upper(),
            direction=Direction.DEBIT if amount < 0 else Direction.CREDIT,
            reference=value["reference"],
            counterparty=value["counterparty"],
            bank_ref=value["bank_ref"],
        )
    except ValidationError as err:
        first = err.errors()[0]
        raise invalid_line(n, str(first["loc"][0]), first["msg"]) from err
