"""Lists as CSV files (RFC 4180): a header row, then one row per item.

Numbers are written as plain decimals (`1234.50`, no grouping, no currency sign) so a
spreadsheet reads them as numbers; text that a spreadsheet would run as a formula (it starts
with = + - @, or a tab or carriage return) is written with a leading apostrophe instead.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from fastapi.responses import Response

Cell = str | int | Decimal | date | datetime | Enum | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: Cell) -> str:
    """One cell: numbers and dates as they are, text guarded against formula injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):  # a datetime too: ISO 8601 with its offset
        return value.isoformat()
    text = str(value.value if isinstance(value, Enum) else value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def flat_rows(data: Mapping[str, Any]) -> list[list[Cell]]:
    """A nested report as (name, breakdown, value) rows: `ar_aging, EUR.1_30, 120.00`. A
    list item is named by its `stage` or `key` (a funnel step, a segment), else its index."""
    rows: list[list[Cell]] = []

    def walk(name: str, path: tuple[str, ...], value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(name, (*path, str(key)), inner)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(name, (*path, _item_name(item, index)), _without_name(item))
        else:
            rows.append([name, ".".join(path), value])

    for name, value in data.items():
        walk(name, (), value)
    return rows


NAMING_FIELDS = ("stage", "key")


def _item_name(item: Any, index: int) -> str:
    if isinstance(item, Mapping):
        for field in NAMING_FIELDS:
            if field in item:
                return str(cell_text(item[field]))
    return str(index)


def _without_name(item: Any) -> Any:
    if isinstance(item, Mapping) and any(f in item for f in NAMING_FIELDS):
        return {k: v for k, v in item.items() if k not in NAMING_FIELDS}
    return item


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """RFC 4180: CRLF line ends, fields quoted where they hold a comma, quote or line end."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([cell_text(h) for h in header])
    writer.writerows([cell_text(c) for c in row] for row in rows)
    return out.getvalue()


def csv_file(name: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Response:
    """A download named `name`.csv."""
    return Response(
        to_csv(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
