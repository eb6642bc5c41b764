"""Report periods stay far enough from the calendar's ends for their arithmetic."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidInput
from domain.periods import LATEST, check_reportable


def test_a_day_near_year_9999_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as refused:
        check_reportable(date(9999, 12, 31), "to")
    assert refused.value.field == ("to",)


def test_ordinary_days_and_no_day_are_fine():
    check_reportable(date(2026, 6, 30), "from")
    check_reportable(LATEST, "to")
    check_reportable(None, "to")
