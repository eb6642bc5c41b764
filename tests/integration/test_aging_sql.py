"""The SQL of AR aging buckets as the domain does: one definition (domain.kpis.AGING)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from adapters.storage.views.invoices import aging_case
from domain.kpis import aging_bucket

DAYS_LATE = [-30, -1, 0, 1, 30, 31, 60, 61, 90, 91, 400]


@pytest.mark.parametrize("days_late", DAYS_LATE)
def test_postgres_buckets_days_past_due_as_the_domain_does(live, days_late):
    query = text(f"SELECT {aging_case('CAST(:days_late AS integer)')}")
    with live.engine.connect() as conn:
        bucket = conn.execute(query, {"days_late": days_late}).scalar_one()
    assert bucket == aging_bucket(days_late)
