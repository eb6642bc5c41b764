"""Gapless numbers per series (INV invoices, CN credit notes, Q quotes) and year."""

from __future__ import annotations

from sqlalchemy import Connection, update
from sqlalchemy.dialects.postgresql import insert

from .tables import invoice_sequences


def next_number(conn: Connection, year: int, series: str) -> str:
    """`SERIES-YEAR-NNNNNN`, the next of its series. The row lock on the year's counter
    serializes issuers; a rolled-back transaction gives its number back, so numbers have
    no gaps."""
    conn.execute(
        insert(invoice_sequences).values(series=series, year=year, last=0).on_conflict_do_nothing()
    )
    last = conn.execute(
        update(invoice_sequences)
        .where(invoice_sequences.c.series == series, invoice_sequences.c.year == year)
        .values(last=invoice_sequences.c.last + 1)
        .returning(invoice_sequences.c.last)
    ).scalar_one()
    return f"{series}-{year}-{last:06d}"
