"""The frame every page shares: fits 1280 px and 390 px, amounts and times the reader's way
and labelled, a keyboard reaches the main action, and the admin's customer e-mail templates."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from adapters.storage.users import UserDirectory
from domain.users import Role
from tests.conftest import PASSWORD, Api, Live, wait_for
from tests.flows import create_lead, lead_email, quote_body, to_fulfilment, to_quoting

from .conftest import screenshot

WIDTHS = {"desktop": 1280, "phone": 390}
GERMAN_MONEY = re.compile(r"^\d{1,3}(\.\d{3})*,\d{2}\s€$")


@pytest.fixture(scope="module")
def delivered_deal(live: Live, as_user: Callable[[str], Api]) -> str:
    """A deal with an order, a delivery and an invoice: every section of the deal page."""
    deal_id = str(to_fulfilment(live, as_user("rep1"), as_user("manager"))["deal_id"])
    delivered = as_user("ops").post(
        f"/deals/{deal_id}/deliveries",
        json={
            "lines": [{"sku": "GW-100", "quantity": "3"}, {"sku": "ONBOARD", "quantity": "1"}],
            "reference": f"DLV-{deal_id[:8]}",
        },
    )
    assert delivered.status_code == 200, delivered.text
    return deal_id


@pytest.fixture(scope="module")
def german_rep(live: Live) -> Iterator[str]:
    """A rep who reads l2c in German, in Berlin time."""
    name = f"rep-de-{uuid.uuid4().hex[:6]}"
    users = UserDirectory(live.engine)
    users.add(name, Role.SALES_REP, f"{name}@l2c.local", PASSWORD)
    assert users.set_display(name, "de_DE", "Europe/Berlin")
    yield name
    users.set_active(name, False)


def fits(page: Page) -> bool:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    return bool(width[0] <= width[1])


def test_every_page_fits_desktop_and_phone_widths(
    live: Live, log_in: Callable[[str], Page], delivered_deal: str
) -> None:
    page = log_in("admin")
    pages = [
        href
        for href in page.locator("#main-nav a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
    ]
    assert {"/ui/board", "/ui/inbox", "/ui/invoices", "/ui/email-templates"} <= set(pages)
    pages += [f"/ui/deals/{delivered_deal}", "/ui/email-templates/quote_sent/de"]
    for device, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        for href in pages:
            page.goto(f"{live.base_url}{href}")
            expect(page.locator("main h1").first).to_be_visible()
            name = (
                href.strip("/").replace("/", "-").replace("ui-deals-" + delivered_deal, "ui-deal")
            )
            screenshot(page, f"frame-{device}-{name}.png")
            assert fits(page), f"{href} overflows at {width} px"


def test_the_board_and_the_deal_page_show_the_same_labelled_amount(
    live: Live, log_in: Callable[[str], Page], german_rep: str
) -> None:
    rep = Api(live, german_rep)
    company = f"Format {uuid.uuid4().hex[:6]} GmbH"
    deal_id = to_quoting(rep, company=company)["deal_id"]
    assert rep.post(f"/deals/{deal_id}/quotes", json=quote_body()).status_code == 201

    page = log_in(german_rep)
    expect(page.locator("html")).to_have_attribute("lang", "de-DE")
    card = page.locator(".deal-card", has_text=company)
    amount = card.locator(".amount")
    expect(amount).to_contain_text("net")
    on_board = amount.evaluate("e => e.firstChild.textContent.trim()")
    assert GERMAN_MONEY.match(on_board), on_board

    card.click()
    expect(page.locator("#deal-value")).to_contain_text(on_board)
    expect(page.locator("#deal-value")).to_contain_text("net")
    # The quote's summary (the page has other <details> too: notes, actions).
    summary = page.locator("details summary", has=page.locator(".ntg-net")).first
    for label in ("net", "tax", "gross"):
        expect(summary.locator(f".ntg-{label}")).to_contain_text(label)
    history = page.locator("#history")
    expect(history).to_contain_text(f"{german_rep} qualified the lead")
    expect(history).to_contain_text("moved the deal to quoting")
    expect(history).not_to_contain_text('{"')  # no JSON until asked for
    history.locator("details summary").first.click()
    expect(history.locator("pre").first).to_contain_text('"action": "lead.created"')
    # Times in Berlin, the German way: 30.11.2026, 10:07
    stamp = history.locator("time").first.inner_text()
    assert re.match(r"^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}$", stamp), stamp


def test_the_keyboard_skips_to_content_and_reaches_the_main_action(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    deal_id = create_lead(as_user("rep1"))["deal_id"]
    page = log_in("rep1")
    page.goto(f"{live.base_url}/ui/deals/{deal_id}")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    qualify = page.get_by_role("button", name="Qualify", exact=True)
    for _ in range(10):
        page.keyboard.press("Tab")
        if qualify.evaluate("button => document.activeElement === button"):
            break
    expect(qualify).to_be_focused()
    outline = qualify.evaluate("b => getComputedStyle(b).outlineStyle")
    assert outline != "none"
    screenshot(page, "frame-keyboard-focus.png")


def test_admin_edits_a_german_template_and_a_german_contact_receives_it(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    marker = uuid.uuid4().hex[:6]
    page = log_in("admin")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="E-mail templates", exact=True
    ).click()
    page.get_by_label("E-mail").select_option("quote_sent")
    page.get_by_label("Language").fill("de")
    page.get_by_role("button", name="Edit").click()
    expect(page).to_have_url(f"{live.base_url}/ui/email-templates/quote_sent/de")
    expect(page.locator("#merge-fields")).to_contain_text("{{ contact_name }}")

    page.get_by_label("Subject").fill("Angebot {{ vorname }}")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("alert")).to_contain_text("subject is not valid")
    expect(page.get_by_label("Subject")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Subject").fill(f"Ihr Angebot {marker} für {{{{ company }}}}")
    page.get_by_label("Body").fill("Guten Tag {{ contact_name }},\n\nhier: {{ link }}\n")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-subject")).to_have_text(f"Ihr Angebot {marker} für Beispiel AG")
    expect(page.locator("#preview-body")).to_contain_text("Guten Tag Erika Mustermann")
    screenshot(page, "frame-email-template-preview.png")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")

    try:
        rep = as_user("rep1")
        deal_id = to_quoting(rep, language="de")["deal_id"]
        assert rep.post(f"/deals/{deal_id}/quotes", json=quote_body()).status_code == 201
        to = lead_email(rep, deal_id)
        wait_for(lambda: live.mail_to(to, f"Ihr Angebot {marker}"), 30, "the German quote")
    finally:
        as_user("admin").http.delete("/email-templates/quote_sent/de")
