"""The dashboard's extra series (adapters/storage/kpi_series.py) on the hand-worked data set
of tests/integration/test_kpis.py. (Kept beside the dashboard's browser test; its natural
home is tests/integration.)"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from adapters.storage.kpi_series import cycle_time_histogram, monthly_conversion
from tests.integration.test_kpis import load


def test_conversion_by_month_counts_leads_in_their_creation_month(fresh_engine: Engine) -> None:
    load(fresh_engine)
    months = monthly_conversion(fresh_engine, date(2026, 3, 31))
    assert [m.month for m in months][-3:] == ["2026-01", "2026-02", "2026-03"]
    assert len(months) == 12
    by_month = {m.month: (m.leads, m.signed, m.rate) for m in months}
    assert by_month["2026-02"] == (1, 1, Decimal("1"))  # D5, signed in March
    assert by_month["2026-03"] == (5, 2, Decimal("0.4"))  # D1..D4, D6; D1 and D2 signed
    assert by_month["2026-01"] == (0, 0, None)


def test_cycle_histogram_buckets_deals_signed_in_the_period(fresh_engine: Engine) -> None:
    load(fresh_engine)
    buckets = cycle_time_histogram(fresh_engine, date(2026, 3, 1), date(2026, 3, 31))
    counts = {b.label: b.deals for b in buckets}
    # D1: 10 days; D2: 20 days; D5: 20 days (created in February, signed March 2).
    assert counts == {
        "0–7 d": 0,
        "7–14 d": 1,
        "14–30 d": 2,
        "30–60 d": 0,
        "60–90 d": 0,
        "90–180 d": 0,
        "≥ 180 d": 0,
    }
