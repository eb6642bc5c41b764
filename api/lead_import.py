"""Reading a CSV of leads: every row checked on its own, a bad row never half-imported."""

from __future__ import annotations

import csv
import io

from pydantic import BaseModel, ValidationError

from domain.errors import InvalidInput
from domain.leads import Lead, LeadSource

MAX_BYTES = 40 * 1024 * 1024  # 100,000 rows of long names and needs
MAX_ROWS = 100_000
COLUMNS = tuple(name for name in Lead.model_fields)
REQUIRED = ("company", "contact_name", "email")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


class RowError(BaseModel):
    row: int  # the line of the file; the header is line 1
    field: str
    reason: str


class ParsedLead(BaseModel):
    row: int
    lead: Lead


def _cell(column: str, value: str) -> object:
    value = value.strip()
    if value == "":
        return LeadSource.IMPORT if column == "source" else None
    if column in ("budget_confirmed", "decision_maker"):
        lowered = value.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else value
    if column == "country":
        return value.upper()
    return value


def parse_leads(data: bytes) -> tuple[list[ParsedLead], list[RowError]]:
    """The valid leads, each with its line, and the errors of the others."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"the file is over {MAX_BYTES // 1024 // 1024} MB", field=("file",))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text", field=("file",)) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    if unknown or missing:
        column = (unknown or missing)[0]
        why = "is not a lead column" if unknown else "is a required column"
        raise InvalidInput(
            f"'{column}' {why}; columns: {', '.join(COLUMNS)}", field=("file", column)
        )
    reader.fieldnames = header
    leads: list[ParsedLead] = []
    errors: list[RowError] = []
    for count, record in enumerate(reader, start=1):
        if count > MAX_ROWS:
            raise InvalidInput(f"more than {MAX_ROWS} rows", field=("file",))
        line = reader.line_num
        if None in record:  # more cells than columns
            errors.append(RowError(row=line, field="*", reason="more cells than columns"))
            continue
        cells = {column: _cell(column, value or "") for column, value in record.items()}
        try:
            leads.append(ParsedLead(row=line, lead=Lead.model_validate(cells)))
        except ValidationError as invalid:
            errors += [
                RowError(row=line, field=".".join(str(p) for p in e["loc"]) or "*", reason=e["msg"])
                for e in invalid.errors()
            ]
    return leads, errors
