"""The forecast in a real browser: a rep sets a deal's forecast on the deal page, a manager
opens the forecast from the menu, picks the period and finds the deal in it."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.api.test_forecast import fresh_rep, this_quarter
from tests.conftest import Api, Live
from tests.flows import to_quoting

from .conftest import screenshot


def test_a_rep_forecasts_a_deal_and_the_manager_sees_it_in_the_forecast(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    admin = as_user("admin")
    rep = fresh_rep(live, admin, f"team{uuid.uuid4().hex[:6]}")
    company = f"Forecast {uuid.uuid4().hex[:6]} AG"
    deal_id = to_quoting(rep, company=company)["deal_id"]
    period = this_quarter()

    page = log_in(rep.username)
    page.goto(f"{live.base_url}/ui/deals/{deal_id}")
    panel = page.locator("#deal-forecast")
    expect(panel).to_contain_text("Suggested: Pipeline")
    panel.get_by_label("Category").select_option("commit")
    panel.get_by_label("Close date").fill(period.last_day.isoformat())
    panel.get_by_role("button", name="Set forecast").click()
    expect(page.get_by_role("status")).to_contain_text("Forecast set: Commit")
    expect(page.locator("#deal-forecast")).to_contain_text(f"set by {rep.username}")
    page.get_by_role("button", name="Log out").click()

    page = log_in("manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Forecast").click()
    page.get_by_label("Period").fill(period.key)
    page.get_by_label("Owner").fill(rep.username)
    page.get_by_role("button", name="Show").click()
    row = page.locator(f"#forecast-deals tr[data-deal='{deal_id}']")
    expect(row).to_contain_text(company)
    expect(row).to_contain_text("Commit")
    expect(row).not_to_contain_text("suggested")
    owner_row = page.locator(f"#forecast-owners tr[data-key='{rep.username}']")
    expect(owner_row.locator("td.commit")).not_to_have_text("—")
    screenshot(page, "forecast.png")
