"""The web UI in a real browser: login, the approver's inbox, the deal page, the dashboard."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD, Api, Live
from tests.flows import create_lead, stage_of, to_approval, to_fulfilment, to_quoting

from .conftest import screenshot

CHARTS = ("funnel", "conversion", "cycle", "aging", "revenue")


def test_without_a_session_every_page_sends_you_to_login(live: Live, page: Page) -> None:
    page.goto(f"{live.base_url}/ui/board")
    expect(page).to_have_url(f"{live.base_url}/ui/login")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()


def test_a_wrong_password_is_refused_on_the_login_page(live: Live, page: Page) -> None:
    page.goto(f"{live.base_url}/ui/login")
    page.get_by_label("Username").fill("rep1")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page).to_have_url(f"{live.base_url}/ui/login")
    screenshot(page, "login.png")


def test_the_board_shows_a_reps_deals_in_stage_columns(
    as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    company = f"Board {uuid.uuid4().hex[:6]} AG"
    to_quoting(as_user("rep1"), company=company)
    page = log_in("rep1")
    column = page.locator("section.column[data-stage='QUOTING']")
    expect(column.get_by_text(company)).to_be_visible()
    screenshot(page, "board.png")


def test_manager_approves_from_the_inbox_and_the_deal_moves_on(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    deal_id = to_approval(live, as_user("rep1"))["deal_id"]
    page = log_in("manager")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Inbox", exact=True
    ).click()
    row = page.locator(f"tr[data-deal='{deal_id}']")
    expect(row).to_be_visible()
    screenshot(page, "inbox.png")

    row.get_by_role("button", name="Approve").click()

    expect(page.get_by_role("status")).to_contain_text("it is now PROPOSED")
    expect(row).to_have_count(0)
    page.goto(f"{live.base_url}/ui/deals/{deal_id}")
    expect(page.locator("#deal-stage")).to_have_text("PROPOSED")
    expect(page.locator("#approvals")).to_contain_text("approved")
    expect(page.locator("#temporal-link")).to_have_attribute(
        "href", re.compile(rf"/namespaces/default/workflows/deal-{deal_id}$")
    )
    screenshot(page, "deal.png")


def test_a_form_without_its_csrf_token_is_refused(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    rep = as_user("rep1")
    deal_id = to_approval(live, rep)["deal_id"]
    page = log_in("manager")
    page.goto(f"{live.base_url}/ui/inbox")
    row = page.locator(f"tr[data-deal='{deal_id}']")
    row.locator("input[name=csrf]").evaluate("input => input.remove()")

    with page.expect_response(f"{live.base_url}/ui/deals/{deal_id}/approvals") as answer:
        row.get_by_role("button", name="Approve").click()

    assert answer.value.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert stage_of(rep, deal_id) == "AWAITING_APPROVAL"


def test_a_refused_command_is_shown_on_the_page(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    """Qualifying twice: the second click, in a tab opened before the first, is a 409."""
    deal_id = create_lead(as_user("rep1"))["deal_id"]
    page = log_in("rep1")
    page.goto(f"{live.base_url}/ui/deals/{deal_id}")
    stale = page.context.new_page()
    stale.goto(f"{live.base_url}/ui/deals/{deal_id}")
    page.get_by_role("button", name="Qualify", exact=True).click()
    expect(page.locator("#deal-stage")).to_have_text("QUOTING")

    stale.get_by_role("button", name="Qualify", exact=True).click()

    expect(stale.get_by_role("status")).to_contain_text("Refused (409)")
    expect(stale.locator("#deal-stage")).to_have_text("QUOTING")


def test_a_rep_cannot_open_another_reps_deal(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    deal_id = create_lead(as_user("rep2"))["deal_id"]
    page = log_in("rep1")
    answer = page.goto(f"{live.base_url}/ui/deals/{deal_id}")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_logging_out_ends_the_session(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    # A user of its own: logging out revokes every token of the user, the shared ones too.
    name = f"leaver{uuid.uuid4().hex[:6]}"
    as_user("admin").post(
        "/users",
        json={
            "username": name,
            "role": "sales_rep",
            "email": f"{name}@example.com",
            "password": PASSWORD,
        },
    )
    page = log_in(name)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live.base_url}/ui/login")
    page.goto(f"{live.base_url}/ui/inbox")
    expect(page).to_have_url(f"{live.base_url}/ui/login?next=%2Fui%2Finbox")


def test_finance_sees_invoices_and_the_dashboard_with_every_chart_drawn(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    deal_id = to_fulfilment(live, as_user("rep1"), as_user("manager"))["deal_id"]
    delivered = as_user("ops").post(
        f"/deals/{deal_id}/deliveries",
        json={
            "lines": [{"sku": "GW-100", "quantity": "3"}, {"sku": "ONBOARD", "quantity": "1"}],
            "reference": f"DLV-{deal_id[:8]}",
        },
    )
    assert delivered.status_code == 200, delivered.text
    page = log_in("finance")

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Invoices", exact=True
    ).click()
    expect(page.locator("#invoice-list")).to_contain_text(deal_id[:8])
    expect(page.locator("#ar-aging")).to_contain_text("EUR")
    number = page.locator("#invoice-list tr[data-invoice]").first.get_attribute("data-invoice")
    pdf = page.request.get(f"{live.base_url}/ui/invoices/{number}.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    screenshot(page, "invoices.png")

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Dashboard", exact=True
    ).click()
    for chart in CHARTS:
        canvas = page.locator(f"#chart-{chart}")
        expect(canvas).to_be_visible()
        expect(canvas).to_have_attribute("data-drawn", "true")  # the script has run
        drawn = canvas.evaluate(
            """canvas => {
                const chart = Chart.getChart(canvas);
                return {chart: chart !== undefined, width: canvas.width, height: canvas.height,
                        datasets: chart ? chart.data.datasets.length : 0};
            }"""
        )
        assert drawn["chart"] and drawn["width"] > 0 and drawn["height"] > 0, (chart, drawn)
        assert drawn["datasets"] > 0, (chart, drawn)
    screenshot(page, "dashboard.png")
