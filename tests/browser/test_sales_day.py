"""The seller's and the manager's day in a real browser: a rep takes a lead to a sent quote,
a manager approves with the quote in view after following the e-mail's link, filters the
team's pipeline and reassigns; notes, the CSV import, closed deals; every page fits 390 px."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD, Api, Live, body_of, wait_for
from tests.flows import create_lead, lead_email, to_approval, to_quoting

from .conftest import screenshot

LINK = re.compile(r"https?://\S+/ui/(?:deals/[A-Za-z0-9_-]+|inbox)")


def tag() -> str:
    return uuid.uuid4().hex[:6]


# The page's width, the window's, and (to say what is wrong) the first elements that stick
# out of the window and are not inside a box that scrolls or clips them.
MEASURE = """() => {
  const inScrollingBox = e => {
    for (let a = e.parentElement; a; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") { return true; }
    }
    return false;
  };
  const out = [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !inScrollingBox(e))
    .slice(0, 3).map(e => e.tagName + "." + e.className + "#" + e.id);
  return [document.documentElement.scrollWidth, window.innerWidth, out];
}"""


def fits(page: Page, width: int, name: str) -> None:
    """At `width` px the page scrolls only down, never sideways."""
    page.set_viewport_size({"width": width, "height": 900})
    overflow = page.evaluate(MEASURE)
    screenshot(page, f"{name}-{width}.png")
    assert overflow[0] <= overflow[1], (name, width, overflow)


def fits_everywhere(page: Page, name: str) -> None:
    for width in (1280, 390):
        fits(page, width, name)
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_in(page: Page, username: str) -> None:
    """Fill the login form the page is on (it keeps where to go back to)."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_rep_takes_a_lead_to_a_sent_quote(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    page = log_in("rep1")
    expect(page.locator("#my-tasks")).to_be_visible()
    fits_everywhere(page, "home")
    page.locator("#my-tasks").get_by_role("link", name="New lead").click()
    company = f"Browser {tag()} GmbH"
    email = f"ada@browser-{tag()}.example"
    page.get_by_label("Company").fill(company)
    page.get_by_label("Contact name").fill("Ada Lovelace")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Country (2 letters)").fill("DE")
    page.get_by_label("Budget confirmed").check()
    fits_everywhere(page, "lead-new")
    page.get_by_role("button", name="Create the lead").click()

    expect(page.get_by_role("status")).to_contain_text(f"Lead of {company} created")
    expect(page.locator("#deal-stage")).to_have_text("QUALIFYING")
    deal_id = page.url.rsplit("/", 1)[-1]
    page.get_by_role("button", name="Qualify", exact=True).click()
    expect(page.locator("#deal-stage")).to_have_text("QUOTING")

    page.get_by_role("link", name="Write a quote").click()
    expect(page.locator("#quote-form")).to_have_attribute("data-ready", "true")
    page.get_by_label("Product of line 1").select_option("GW-100")
    page.get_by_label("Quantity of line 1").fill("3")
    page.get_by_label("Discount % of line 1").fill("5")
    page.get_by_role("button", name="Add a line").click()
    expect(page.get_by_label("Product of line 4")).to_be_focused()
    page.get_by_label("Product of line 4").select_option("ONBOARD")
    page.get_by_label("Quantity of line 4").fill("1")
    expect(page.locator("#total-net")).not_to_have_text("0.00 EUR")
    shown = page.locator("#total-total").inner_text()
    fits_everywhere(page, "quote")
    page.get_by_role("button", name="Send the quote").click()

    expect(page.get_by_role("status")).to_contain_text("it went to the customer")
    expect(page.locator("#deal-stage")).to_have_text("PROPOSED")
    quote = as_user("rep1").get(f"/deals/{deal_id}").json()["quotes"][-1]
    assert shown == f"{quote['total']} EUR"  # the estimate is the deal's own figure
    mail = wait_for(lambda: live.mail_to(email, "Your quote"), 30, "the customer's quote")
    assert "/portal/" in body_of(mail[-1])

    page.get_by_role("button", name="Resend the customer's quote link").click()
    expect(page.get_by_role("status")).to_contain_text(f"sent again to {email}")
    page.get_by_label("Add a note").fill("Ada wants it before Christmas")
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_role("status")).to_have_text("Note added.")
    timeline = page.locator("#activity")
    expect(timeline).to_contain_text("rep1: Ada wants it before Christmas")
    expect(timeline).to_contain_text(f"E-mail to {email}")
    expect(timeline).to_contain_text("The deal moved to proposed")
    fits_everywhere(page, "deal-proposed")


def test_a_quote_the_deal_refuses_shows_the_form_again_naming_the_line(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    deal_id = to_quoting(as_user("rep1"))["deal_id"]
    page = log_in("rep1")
    page.goto(f"{live.base_url}/ui/deals/{deal_id}/quote")
    page.get_by_label("Product of line 1").select_option("GW-100")
    page.get_by_label("Quantity of line 1").fill("0")
    page.get_by_role("button", name="Send the quote").click()

    expect(page.locator("#form-errors")).to_contain_text("line 0.quantity")
    assert as_user("rep1").get(f"/deals/{deal_id}").json()["quotes"] == []


def test_a_manager_follows_the_mail_link_and_approves_with_the_quote_in_view(
    live: Live, as_user: Callable[[str], Api], page: Page
) -> None:
    rep = as_user("rep1")
    deal_id = to_approval(live, rep)["deal_id"]
    mail = wait_for(
        lambda: [m for m in live.mail_to("manager@", "Approval needed") if deal_id in body_of(m)],
        30,
        "the approval request",
    )
    links = LINK.findall(body_of(mail[-1]))
    deal_link = next(link for link in links if deal_id in link)
    assert any(link.endswith("/ui/inbox") for link in links)

    page.goto(deal_link)  # signed out: login first, then back to the deal
    expect(page).to_have_url(re.compile(r"/ui/login\?next="))
    sign_in(page, "manager")
    expect(page).to_have_url(deal_link)
    page.get_by_role("link", name="Review the quote to approve it").click()

    quote = page.locator("#quote-in-view")
    expect(quote).to_contain_text("Edge gateway GW-100")
    expect(quote.locator("tr.discounted")).to_contain_text("15")
    fits_everywhere(page, "approval")
    page.get_by_label("Comment").fill("ok, strategic account")
    page.get_by_role("button", name="Approve").click()

    expect(page.get_by_role("status")).to_contain_text("it is now PROPOSED")
    assert rep.get(f"/deals/{deal_id}").json()["stage"] == "PROPOSED"
    mail = wait_for(lambda: live.mail_to(lead_email(rep, deal_id), "Your quote"), 30, "quote")
    assert mail


def test_the_inbox_link_of_an_approval_mail_lands_on_the_inbox_after_login(
    live: Live, page: Page
) -> None:
    page.goto(f"{live.base_url}/approvals", wait_until="commit")  # an older mail's link
    expect(page).to_have_url(re.compile(r"/ui/login\?next=%2Fui%2Finbox$"))
    sign_in(page, "manager")
    expect(page).to_have_url(f"{live.base_url}/ui/inbox")


def test_a_login_link_to_another_site_goes_home_instead(live: Live, page: Page) -> None:
    page.goto(f"{live.base_url}/ui/login?next=//evil.example/ui/x")
    sign_in(page, "manager")
    expect(page).to_have_url(f"{live.base_url}/ui/board")


def test_a_manager_filters_the_team_pipeline_and_reassigns(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    name = f"Team {tag()}"
    theirs = create_lead(as_user("rep2"), company=f"{name} Two AG", source="partner")
    create_lead(as_user("rep1"), company=f"{name} One AG", source="partner")
    page = log_in("manager")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Deals", exact=True
    ).click()
    filters = page.locator("#deal-filters")
    filters.get_by_label("Owner").select_option("rep2")
    filters.get_by_label("Source").select_option("partner")
    filters.get_by_label("Open or closed").select_option("open")
    filters.get_by_role("button", name="Filter").click()

    table = page.locator("#deals")
    expect(table).to_contain_text(f"{name} Two AG")
    expect(table).not_to_contain_text(f"{name} One AG")
    fits_everywhere(page, "team-pipeline")
    table.get_by_role("link", name=f"{name} Two AG").click()
    page.get_by_label("Reassign to").select_option("rep1")
    page.get_by_role("button", name="Reassign").click()

    expect(page.get_by_role("status")).to_contain_text("now belongs to rep1")
    assert as_user("rep1").get(f"/deals/{theirs['deal_id']}").json()["owner"] == "rep1"


def test_a_reps_closed_deals_are_in_their_list(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    company = f"Lost {tag()} AG"
    deal_id = to_quoting(as_user("rep2"), company=company)["deal_id"]
    page = log_in("rep2")
    page.goto(f"{live.base_url}/ui/deals/{deal_id}")
    page.get_by_text("Close lost or cancel").click()
    page.get_by_label("Why was it lost?").fill("went with a competitor")
    page.get_by_role("button", name="Close as lost").click()
    expect(page.locator("#deal-stage")).to_have_text("LOST")

    page.goto(f"{live.base_url}/ui/deals?status=closed")
    expect(page.locator(f"tr[data-deal='{deal_id}']")).to_contain_text("lost")
    page.goto(f"{live.base_url}/ui/deals?status=open")
    expect(page.locator(f"tr[data-deal='{deal_id}']")).to_have_count(0)


def test_a_rep_imports_a_csv_and_sees_what_was_refused(
    log_in: Callable[[str], Page], tmp_path_factory: object
) -> None:
    t = tag()
    csv = (
        "company,contact_name,email,source\n"
        f"Import {t} AG,Ada,ada@import-{t}.example,trade_show\n"
        f"Broken {t} AG,Bob,not-an-email,trade_show\n"
    )
    page = log_in("rep1")
    page.goto(page.url.replace("/ui/board", "/ui/leads/import"))
    page.get_by_label("CSV file").set_input_files(
        {"name": "leads.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    )
    page.get_by_role("button", name="Import").click()

    expect(page.locator("#import-summary")).to_contain_text("1 deal created")
    expect(page.locator("#import-errors")).to_contain_text("email")
    fits_everywhere(page, "import-result")


def test_a_customer_note_is_on_the_customer_page(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    deal = create_lead(as_user("rep1"))
    page = log_in("rep1")
    page.goto(f"{live.base_url}/ui/deals/{deal['deal_id']}")
    page.get_by_role("link", name="Customer page").click()
    page.get_by_label("Add a note").fill("Prefers calls in the morning")
    page.get_by_role("button", name="Save note").click()

    expect(page.locator("#activity")).to_contain_text("rep1: Prefers calls in the morning")
    expect(page.locator("#customer-deals")).to_contain_text("qualifying")
    fits_everywhere(page, "customer")


def test_a_funnel_bar_opens_the_list_of_its_deals(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    to_quoting(as_user("rep1"))
    page = log_in("manager")
    page.goto(f"{live.base_url}/ui/dashboard")
    canvas = page.locator("#chart-funnel")
    expect(canvas).to_have_attribute("data-drawn", "true")
    point = canvas.evaluate(
        """canvas => {
            const chart = Chart.getChart(canvas);
            const labels = chart.data.labels;
            const i = labels.findIndex(l => l === "QUOTING");
            const bar = chart.getDatasetMeta(0).data[i];
            return {x: bar.x - 2, y: bar.y};
        }"""
    )
    canvas.click(position={"x": max(point["x"], 3), "y": point["y"]})

    expect(page).to_have_url(re.compile(r"/ui/deals\?reached=QUOTING&created_from="))
    expect(page.locator("#drill-down")).to_contain_text("reached quoting")
    expect(page.locator("#deals tbody tr").first).to_be_visible()


def test_the_same_quote_form_sent_twice_makes_one_version(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    deal_id = to_quoting(as_user("rep1"))["deal_id"]
    page = log_in("rep1")
    page.goto(f"{live.base_url}/ui/deals/{deal_id}/quote")
    page.get_by_label("Product of line 1").select_option("GW-100")
    page.get_by_label("Quantity of line 1").fill("2")
    posted = page.locator("#quote-form").evaluate(
        "form => new URLSearchParams(new FormData(form)).toString()"
    )
    url = f"{live.base_url}/ui/deals/{deal_id}/quote"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    for _ in range(2):  # a double click
        sent = page.request.post(url, data=posted, headers=headers, max_redirects=0)
        assert sent.status == 303, sent.text()

    quotes = as_user("rep1").get(f"/deals/{deal_id}").json()["quotes"]
    assert [q["version"] for q in quotes] == [1]
