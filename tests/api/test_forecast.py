"""The forecast through the API: setting a deal's category and close date (validation, who
may, its audit event), quotas, teams, and the forecast's numbers on real deals."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from domain.forecast import quarter_of
from tests.conftest import PASSWORD, Api, Live
from tests.flows import create_lead, to_fulfilment, to_proposed, to_quoting


class Rep(Api):
    username: str  # always signed in


def fresh_rep(live: Live, admin: Api, team: str | None = None) -> Rep:
    """A rep of their own, so the forecast's numbers hold only this test's deals."""
    name = f"rep{uuid.uuid4().hex[:8]}"  # a rep like the others (the round robin may pick them)
    added = admin.post(
        "/users",
        json={
            "username": name,
            "role": "sales_rep",
            "email": f"{name}@example.com",
            "password": PASSWORD,
        },
    )
    assert added.status_code == 201, added.text
    if team is not None:
        put = admin.put(f"/users/{name}/team", json={"team": team})
        assert put.status_code == 200, put.text
        assert put.json()["team"] == team
    return Rep(live, name)


def amount_of(live: Live, deal_id: str) -> Decimal:
    """The deal's amount as the forecast reads it (its quote's net total, once quoted)."""
    with live.engine.connect() as conn:
        found = conn.execute(
            text("SELECT amount FROM deals WHERE deal_id = :id"), {"id": deal_id}
        ).scalar_one()
    return Decimal(found)


def this_quarter() -> Any:
    return quarter_of(datetime.now(UTC).date())


def test_setting_a_forecast_is_validated_authorized_and_audited(
    as_user: Callable[[str], Api],
) -> None:
    rep, manager = as_user("rep1"), as_user("manager")
    deal_id = create_lead(rep)["deal_id"]
    url = f"/deals/{deal_id}/forecast"

    before = rep.get(url).json()
    assert before["set"] is None
    assert before["suggested_category"] == "pipeline"  # qualifying: 0.10 by the stage rules
    assert before["probability_source"] == "rules"

    bad_category = rep.put(url, json={"category": "sure_thing", "close_date": "2026-12-01"})
    assert bad_category.status_code == 422 and "category" in bad_category.text
    bad_date = rep.put(url, json={"category": "commit", "close_date": "soon"})
    assert bad_date.status_code == 422 and "close_date" in bad_date.text
    assert (
        as_user("finance")
        .put(url, json={"category": "commit", "close_date": "2026-12-01"})
        .status_code
        == 403
    )
    assert (
        as_user("rep2")
        .put(url, json={"category": "commit", "close_date": "2026-12-01"})
        .status_code
        == 404
    )
    assert rep.get(url).json()["set"] is None

    set_ = rep.put(url, json={"category": "commit", "close_date": "2026-12-15"})
    assert set_.status_code == 200, set_.text
    assert set_.json()["set"]["category"] == "commit"
    assert set_.json()["set"]["set_by"] == "rep1"
    assert set_.json()["suggested_category"] == "pipeline"  # the model's view is still shown
    by_manager = manager.put(url, json={"category": "best_case", "close_date": "2026-12-20"})
    assert by_manager.status_code == 200, by_manager.text

    events = [e for e in rep.every(f"/deals/{deal_id}/history") if e["action"] == "forecast.set"]
    assert [(e["actor"], e["data"]["category"]) for e in events] == [
        ("rep1", "commit"),
        ("manager", "best_case"),
    ]
    assert events[1]["data"]["previous_category"] == "commit"
    assert rep.get(f"/deals/{deal_id}/history/verify").json()["intact"] is True


def test_a_signed_deal_has_no_forecast_to_set(live: Live, as_user: Callable[[str], Api]) -> None:
    rep, manager = as_user("rep1"), as_user("manager")
    deal_id = to_fulfilment(live, rep, manager)["deal_id"]
    refused = rep.put(
        f"/deals/{deal_id}/forecast", json={"category": "commit", "close_date": "2026-12-01"}
    )
    assert refused.status_code == 409, refused.text


def test_quotas_are_set_by_admins_and_validated(live: Live, as_user: Callable[[str], Api]) -> None:
    admin = as_user("admin")
    rep = fresh_rep(live, admin)
    body = {"owner": rep.username, "period": "2026-Q4", "amount": "50000.00", "currency": "EUR"}
    assert as_user("manager").put("/quotas", json=body).status_code == 403
    bad = admin.put("/quotas", json={**body, "period": "2026-Q5"})
    assert bad.status_code == 422 and "period" in bad.text
    bad_amount = admin.put("/quotas", json={**body, "amount": "-1"})
    assert bad_amount.status_code == 422 and "amount" in bad_amount.text
    assert admin.put("/quotas", json=body).status_code == 200
    assert admin.put("/quotas", json={**body, "amount": "60000.00"}).status_code == 200
    mine = rep.get("/quotas", params={"period": "2026-Q4"}).json()
    assert [(q["owner"], Decimal(q["amount"])) for q in mine] == [(rep.username, Decimal(60000))]


def test_the_forecast_adds_up_the_reps_deals(live: Live, as_user: Callable[[str], Api]) -> None:
    admin, manager = as_user("admin"), as_user("manager")
    team = f"team{uuid.uuid4().hex[:6]}"
    rep = fresh_rep(live, admin, team)
    period = this_quarter()
    inside = period.last_day.isoformat()
    won = to_fulfilment(live, rep, manager)["deal_id"]  # signed now: closed in this quarter
    proposed = to_proposed(live, rep, manager)["deal_id"]  # 0.60 by the stage rules
    quoting = to_quoting(rep)["deal_id"]  # 0.30
    later = to_quoting(rep)["deal_id"]  # set to close after the quarter: not counted
    for deal_id, category, day in (
        (proposed, "commit", inside),
        (quoting, "pipeline", inside),
        (later, "commit", period.end.isoformat()),
    ):
        put = rep.put(f"/deals/{deal_id}/forecast", json={"category": category, "close_date": day})
        assert put.status_code == 200, put.text
    quota = {"owner": rep.username, "period": period.key, "amount": "100000.00", "currency": "EUR"}
    assert admin.put("/quotas", json=quota).status_code == 200
    w, p, q = amount_of(live, won), amount_of(live, proposed), amount_of(live, quoting)

    report = manager.get("/forecast", params={"period": period.key, "owner": rep.username})

    assert report.status_code == 200, report.text
    [row] = report.json()["owners"]
    figures = row["figures"]["EUR"]
    cent = Decimal("0.01")
    assert Decimal(figures["closed"]) == w
    assert Decimal(figures["commit"]) == w + p
    assert Decimal(figures["best_case"]) == w + p
    assert Decimal(figures["pipeline"]) == w + p + q
    expected = (w + Decimal("0.6") * p + Decimal("0.3") * q).quantize(cent)
    assert Decimal(figures["expected"]) == expected
    assert Decimal(figures["expected_low"]) < expected < Decimal(figures["expected_high"])
    assert Decimal(row["attainment"]["EUR"]) == (w / Decimal(100000)).quantize(Decimal("0.0001"))
    assert {d["deal_id"] for d in report.json()["deals"]} == {proposed, quoting}
    by_team = manager.get("/forecast", params={"period": period.key, "team": team}).json()
    assert [t["key"] for t in by_team["teams"]] == [team]
    assert by_team["teams"][0]["figures"]["EUR"] == figures

    own = rep.get("/forecast", params={"period": period.key}).json()
    assert [r["key"] for r in own["owners"]] == [rep.username]
    assert rep.get("/forecast", params={"owner": "rep1"}).status_code == 403
    assert as_user("finance").get("/forecast").status_code == 403
    assert manager.get("/forecast", params={"period": "2026-13"}).status_code == 422


def test_a_snapshot_is_taken_by_managers(live: Live, as_user: Callable[[str], Api]) -> None:
    assert as_user("rep1").post("/forecast/snapshots", json={}).status_code == 403
    taken = as_user("manager").post("/forecast/snapshots", json={"period": "2026-11"})
    assert taken.status_code == 201, taken.text
    assert taken.json()["period"] == "2026-11"
