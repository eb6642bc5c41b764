"""AR aging: one definition of the buckets, exact at every boundary."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.kpis import AGING, AGING_BUCKETS, aging_bucket, days_past_due

BOUNDARIES = [
    (-5, "current"),
    (0, "current"),
    (1, "1_30"),
    (30, "1_30"),
    (31, "31_60"),
    (60, "31_60"),
    (61, "61_90"),
    (90, "61_90"),
    (91, "over_90"),
    (3650, "over_90"),
]


@pytest.mark.parametrize(("days_late", "bucket"), BOUNDARIES)
def test_an_invoice_falls_in_the_bucket_of_its_days_past_due(days_late, bucket):
    assert aging_bucket(days_late) == bucket


@pytest.mark.parametrize(("days_late", "bucket"), BOUNDARIES)
def test_days_past_due_count_calendar_days_from_the_due_date(days_late, bucket):
    on = date(2030, 6, 30)
    assert aging_bucket(days_past_due(on - timedelta(days=days_late), on)) == bucket


def test_the_buckets_are_those_of_the_api_in_order():
    assert AGING_BUCKETS == ("current", "1_30", "31_60", "61_90", "over_90")


def test_bucket_bounds_rise_and_only_the_last_is_open_ended():
    bounds = [b.max_days_late for b in AGING]
    assert bounds[-1] is None
    assert all(b is not None for b in bounds[:-1])
    assert bounds[:-1] == sorted(bounds[:-1])  # type: ignore[type-var]
