"""A 5,000-row CSV import with bad rows and duplicates, until every deal is recorded."""

from __future__ import annotations

import csv
import io
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.storage.tables import deals
from tests.conftest import wait_for
from tests.flows import create_lead

BAD = {  # row index -> (column, bad value)
    10: ("email", "not-an-email"),
    200: ("country", "Germany"),
    1000: ("estimated_value", "-5"),
    2500: ("currency", "DOLLARS"),
    3000: ("company", ""),
    4000: ("budget_confirmed", "maybe"),
}


# Starting 5,000 deal workflows is the point of this test and takes minutes on a busy 2-core
# machine (254 s seen alone); the suite's 300 s default would fail it for being slow, not wrong.
# How fast it is belongs to bench/, not here; it still has a limit, so a hang fails.
@pytest.mark.timeout(1500)
def test_five_thousand_leads_import_with_errors_and_duplicates_reported(live, as_user):
    manager, t = as_user("manager"), uuid.uuid4().hex[:8]
    existing = [create_lead(manager, email=f"known{i}@bulk-{t}.example") for i in range(2)]
    rows = []
    for i in range(4994):
        rows.append(
            {
                "company": f"Bulk {t} {i} Oy",
                "contact_name": f"C {i}",
                "email": f"c{i}@bulk-{t}-{i}.example",
                "source": "trade_show",
                "country": "FI",
                "estimated_value": "",
                "currency": "",
                "budget_confirmed": "",
            }
        )
    for index, (column, value) in BAD.items():
        rows[index][column] = value
    rows.append(dict(rows[5]))  # the same contact twice in the file
    rows.append(dict(rows[6]))
    for i in range(2):  # contacts that already have an open deal
        rows.append(dict(rows[7], email=f"known{i}@bulk-{t}.example"))
    rows.append(dict(rows[8], email=f"x@bulk2-{t}.example"))
    rows.append(dict(rows[9], email=f"y@bulk2-{t}.example"))
    assert len(rows) == 5000
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)

    started = time.monotonic()
    answer = manager.post(
        "/leads/import", files={"file": ("leads.csv", out.getvalue(), "text/csv")}, timeout=600
    )
    accepted = time.monotonic() - started
    assert answer.status_code == 202, answer.text[:500]
    result = answer.json()
    assert result["created"] == 5000 - len(BAD) - 4
    assert result["duplicates"] == 4
    # Each bad row is reported by its line (the header is line 1) and field, and skipped.
    assert {(e["row"], e["field"]) for e in result["errors"]} == {
        (index + 2, column) for index, (column, _) in BAD.items()
    }
    dupes = result["duplicate_rows"]
    assert [d["same_as_row"] for d in dupes if d["same_as_row"]] == [7, 8]
    assert sorted(d["open_deal"] for d in dupes if d["open_deal"]) == sorted(
        e["deal_id"] for e in existing
    )
    imported_rows = {d["row"] for d in result["deals"]}
    assert not imported_rows & {index + 2 for index in BAD}

    def recorded() -> int:
        company = deals.c.lead["company"].astext
        with live.engine.connect() as conn:
            query = select(func.count()).where(company.like(f"Bulk {t} %"))
            return int(conn.execute(query).scalar_one())

    def progress() -> dict[str, Any]:
        status = manager.get(result["progress_url"])
        assert status.status_code == 200, status.text
        return dict(status.json())

    first = progress()  # the report is there at once, the deals start in the background
    assert (first["to_create"], first["duplicates"], first["rows"]) == (result["created"], 4, 5000)
    assert len(first["errors"]) == len(BAD)
    done = wait_for(lambda: (p := progress())["done"] and p, 900, "the import to finish")
    assert (done["started"], done["percent"]) == (result["created"], 100)
    wait_for(lambda: recorded() == result["created"], 900, "every imported deal")
    print(
        f"\nimport of 5,000 rows: accepted in {accepted:.1f}s, "
        f"all deals recorded after {time.monotonic() - started:.1f}s"
    )
