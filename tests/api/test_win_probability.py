"""The win probability on the deal (issue 19): with the few closings of the shared database
the rules stay in charge and say so, in JSON and on the deal page; a closed deal has none;
the trained models are for managers."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from fastapi.testclient import TestClient

from api.app import create_app
from domain.kpis import STAGE_PROBABILITY
from domain.stages import DealStage
from tests.conftest import PASSWORD, wait_for
from tests.flows import create_lead

NOTE = re.compile(r"^rules stay in charge: \d+ closed deals, the model needs 200$")


def test_an_open_deal_shows_the_rules_probability_and_a_closed_one_none(live, as_user):
    rep = as_user("rep1")
    t = uuid.uuid4().hex[:8]
    deal_id = create_lead(rep, company=f"Initech {t}", email=f"bill@initech-{t}.example")["deal_id"]

    body = rep.get(f"/deals/{deal_id}").json()
    win = body["win_probability"]
    assert win["source"] == "rules" and win["model_version"] is None
    assert NOTE.match(win["note"]), win["note"]
    assert Decimal(win["probability"]) == STAGE_PROBABILITY[DealStage(body["stage"])]
    assert len(win["reasons"]) == 1

    with TestClient(create_app(live.settings), base_url=live.base_url) as browser:
        login = re.search(r'name="login_csrf" value="([^"]+)"', browser.get("/ui/login").text)
        assert login is not None
        browser.post(
            "/ui/login",
            data={"username": "rep1", "password": PASSWORD, "login_csrf": login.group(1)},
        )
        page = browser.get(f"/ui/deals/{deal_id}").text
    assert 'id="win-probability" data-source="rules"' in page and "rules in charge" in page
    assert 'id="score-reasons"' in page and win["note"] in page

    if body["stage"] == "QUALIFYING":
        rep.post(f"/deals/{deal_id}/qualify", json={"decision": "disqualify"})
    else:
        rep.post(f"/deals/{deal_id}/close-lost", json={"reason": "test"})
    wait_for(lambda: rep.get(f"/deals/{deal_id}").json()["stage"] != body["stage"], 30, "close")
    assert rep.get(f"/deals/{deal_id}").json()["win_probability"] is None


def test_the_trained_models_are_for_managers(as_user):
    assert as_user("rep1").get("/win-models").status_code == 403
    assert as_user("finance").get("/win-models").status_code == 403
    answer = as_user("manager").get("/win-models")
    assert answer.status_code == 200, answer.text
    models = answer.json()
    assert models["in_charge"] == "rules" and models["models"] == []
    assert models["needed"] == 200 and NOTE.match(models["note"])
