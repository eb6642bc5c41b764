"""Which days a report may be asked about: far enough from the calendar's ends that a
period's arithmetic (month ends, the day after, ten years back) stays within it."""

from __future__ import annotations

from datetime import date

from .errors import InvalidInput

EARLIEST = date(1900, 1, 1)
LATEST = date(9000, 12, 31)


def check_reportable(day: date | None, field: str) -> None:
    """Refuse a day outside EARLIEST..LATEST, naming the query field."""
    if day is not None and not EARLIEST <= day <= LATEST:
        raise InvalidInput(
            f"{field} must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}",
            field=(field,),
        )
