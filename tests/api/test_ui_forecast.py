"""The forecast's web pages: the managers' forecast page (a rep's own row), and the deal
page's form that sets a deal's category and close date."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from adapters.storage.tables import win_models
from adapters.storage.win_models import WinModelStore
from domain.deal_history import generate_closed_deals
from domain.win_model import WinModel, train
from tests.api.test_forecast import fresh_rep, this_quarter
from tests.api.test_ui_list_pages import ui_session
from tests.conftest import Api, Live
from tests.flows import to_quoting

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def test_a_rep_sets_the_forecast_on_the_deal_page_and_managers_see_it(
    live: Live, as_user: Callable[[str], Api]
) -> None:
    admin, manager = as_user("admin"), as_user("manager")
    team = f"team{uuid.uuid4().hex[:6]}"
    rep = fresh_rep(live, admin, team)
    deal_id = to_quoting(rep)["deal_id"]
    period = this_quarter()
    ui = ui_session(live, rep.username)

    deal_page = ui.get(f"/ui/deals/{deal_id}")
    assert deal_page.status_code == 200, deal_page.text
    assert 'id="deal-forecast"' in deal_page.text
    assert "nothing set: the model" in deal_page.text
    csrf = CSRF.search(deal_page.text)
    assert csrf
    day = period.last_day.isoformat()
    posted = ui.post(
        f"/ui/deals/{deal_id}/forecast",
        data={"csrf": csrf.group(1), "category": "commit", "close_date": day},
    )
    assert posted.status_code == 303, posted.text
    assert rep.get(f"/deals/{deal_id}/forecast").json()["set"]["category"] == "commit"
    assert f"Forecast <small>set by {rep.username}" in ui.get(f"/ui/deals/{deal_id}").text

    boss = ui_session(live, "manager")
    board = boss.get("/ui/board").text
    assert 'href="/ui/forecast"' in board
    shown = boss.get("/ui/forecast", params={"period": period.key, "team": team})
    assert shown.status_code == 200, shown.text
    assert f'data-key="{rep.username}" data-currency="EUR"' in shown.text
    assert f'data-key="{team}" data-currency="EUR"' in shown.text
    assert f'data-deal="{deal_id}"' in shown.text
    assert "suggested" not in shown.text.split(f'data-deal="{deal_id}"')[1].split("</tr>")[0]

    own = ui.get("/ui/forecast", params={"period": period.key})
    assert own.status_code == 200, own.text
    assert re.findall(r'<tr data-key="([^"]+)"', own.text.split('id="forecast-teams"')[0]) == [
        rep.username
    ]
    assert 'href="/ui/forecast"' not in ui.get("/ui/board").text  # the menu is for managers
    assert manager.get("/forecast", params={"period": period.key}).status_code == 200
    assert 'id="win-model"' not in own.text  # the models' figures are for managers


def test_the_forecast_page_says_whose_probabilities_it_uses(live: Live) -> None:
    boss = ui_session(live, "manager")
    card = boss.get("/ui/forecast").text.split('id="win-model"')[1].split("</section>")[0]
    assert "Rules in charge" in card  # the session's database: too few closings for a model
    assert re.search(r"rules stay in charge: \d+ closed deals, the model needs 200", card)

    # A model in the shared database for the length of this test: the card gives its figures.
    start = datetime(2024, 1, 1, tzinfo=UTC)
    model = train(generate_closed_deals(1_000, start=start), start + timedelta(days=800))
    assert isinstance(model, WinModel)
    model.metrics = model.metrics.model_copy(update={"version": f"test-{uuid.uuid4().hex[:8]}"})
    WinModelStore(live.engine).save(model)
    try:
        page = boss.get("/ui/forecast").text
    finally:
        with live.engine.begin() as conn:
            conn.execute(delete(win_models).where(win_models.c.version == model.metrics.version))
    card = page.split('id="win-model"')[1].split("</section>")[0]
    assert f"<code>{model.metrics.version}</code>" in card and "Rules in charge" not in card
    judged = model.metrics.pipeline
    assert judged is not None  # generated deals are seen before signature
    assert f"{judged.auc:.3f}" in card and f"{judged.brier:.3f}" in card
