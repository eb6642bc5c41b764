"""The back office's day in a real browser: ops delivers against the order's open
quantities; finance records a payment and a credit note, imports a bank statement and
matches a line by hand, and exports the invoice list; the admin changes a policy setting and
adds a user who then logs in. Every page is shot at 1280 and 390 px and is no wider than
the window."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD, Api, Live
from tests.flows import create_lead, quote_body, to_fulfilment

from .conftest import screenshot

WIDTHS = (1280, 390)


def fits_every_width(page: Page, name: str) -> None:
    """Shoot the page at each width; nothing may stick out sideways."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"back-{name}-{width}.png")
        overflow = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert overflow[0] <= overflow[1], (name, width, overflow)
    page.set_viewport_size({"width": 1440, "height": 900})


def parsed_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def upfront_invoice(live: Live, as_user: Callable[[str], Api], company: str) -> dict[str, Any]:
    """A signed deal of `company`, billed upfront: its one open invoice."""
    quote = quote_body(billing_plan={"kind": "upfront"})
    deal = to_fulfilment(live, as_user("rep1"), as_user("manager"), quote, company=company)
    (invoice,) = as_user("finance").every(f"/invoices?deal_id={deal['deal_id']}")
    return dict(invoice)


def test_ops_delivers_against_the_open_quantities_and_sees_an_over_delivery_refused(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    deal_id = to_fulfilment(live, as_user("rep1"), as_user("manager"))["deal_id"]  # 3 + 1
    page = log_in("ops")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Deliveries", exact=True
    ).click()
    fits_every_width(page, "deliveries")
    page.locator(f"tr[data-deal='{deal_id}']").get_by_role("link", name="Record a delivery").click()
    gateway = page.locator("tr[data-sku='GW-100']")
    expect(gateway.locator(".open")).to_have_text("3")

    page.get_by_label("Deliver now: GW-100").fill("4")
    page.get_by_label("Delivery reference").fill(f"DN-{deal_id[:6]}-1")
    page.get_by_role("button", name="Record delivery").click()

    expect(page.get_by_role("status")).to_contain_text("Refused (422): only 3 of GW-100 left")
    expect(gateway.locator(".open")).to_have_text("3")

    page.get_by_label("Deliver now: GW-100").fill("2")
    page.get_by_label("Delivery reference").fill(f"DN-{deal_id[:6]}-2")
    page.get_by_role("button", name="Record delivery").click()

    expect(page.get_by_role("status")).to_contain_text("2 still to deliver")
    expect(gateway.locator(".delivered")).to_have_text("2")
    expect(gateway.locator(".open")).to_have_text("1")
    order = as_user("ops").get(f"/deals/{deal_id}").json()["order"]
    assert {line["sku"]: Decimal(line["delivered"]) for line in order["lines"]} == {
        "GW-100": Decimal(2),
        "ONBOARD": Decimal(0),
    }
    fits_every_width(page, "delivery")


def test_finance_records_a_payment_and_a_credit_note_and_exports_the_list(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    company = f"Ledger {uuid.uuid4().hex[:6]} AG"
    number = upfront_invoice(live, as_user, company)["number"]
    page = log_in("finance")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Invoices", exact=True
    ).click()
    page.get_by_label("Customer").fill(company)
    page.get_by_role("button", name="Filter").click()
    row = page.locator(f"tr[data-invoice='{number}']")
    expect(row).to_contain_text(company)
    expect(page.locator("#invoice-list tbody tr")).to_have_count(1)
    fits_every_width(page, "invoices")
    row.get_by_role("link", name=number, exact=True).click()

    page.locator("#payment-form").get_by_label("Amount").fill("100.00")
    page.get_by_label("Bank reference").fill(f"PAY-{uuid.uuid4().hex[:8]}")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("status")).to_contain_text("still open")

    page.locator("#credit-form").get_by_label("Amount").fill("50.00")
    page.locator("#credit-form").get_by_label("Reason").fill("one unit came damaged")
    page.get_by_role("button", name="Issue credit note").click()
    expect(page.get_by_role("status")).to_contain_text("Credit note")

    after = as_user("finance").get(f"/invoices/{number}").json()
    assert (Decimal(after["paid"]), Decimal(after["credited"])) == (Decimal(100), Decimal(50))
    expect(page.locator("#invoice-balance")).to_have_attribute("data-amount", after["balance"])
    fits_every_width(page, "invoice")

    page.goto(f"{live.base_url}/ui/invoices?customer={company}")
    with page.expect_download() as download:
        page.locator("#invoices-export").click()
    rows = parsed_csv(download.value.path().read_text(encoding="utf-8"))
    assert [(r["number"], r["customer"], r["paid"], r["credited"]) for r in rows] == [
        (number, company, "100.00", "50.00")
    ]
    assert Decimal(rows[0]["balance"]) == Decimal(after["balance"])


def test_finance_imports_a_statement_and_matches_its_unknown_line_by_hand(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    number = upfront_invoice(live, as_user, f"Bankline {uuid.uuid4().hex[:6]} AG")["number"]
    statement = (
        "booking_date,amount,currency,reference,counterparty,bank_ref\n"
        f"2026-11-30,12.34,EUR,transfer,Someone Else,BR-{uuid.uuid4().hex[:10]}\n"
    )
    page = log_in("finance")
    page.get_by_role("link", name="Bank", exact=True).click()
    page.get_by_label("Statement file").set_input_files(
        {"name": "statement.csv", "mimeType": "text/csv", "buffer": statement.encode()}
    )
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("status")).to_contain_text("0 matched, 1 to match by hand")
    line = page.locator("tr[data-line='1']")
    expect(line).to_contain_text("unmatched")
    fits_every_width(page, "statement")
    line.get_by_label("Invoice for line 1").fill(number)
    line.get_by_role("button", name="Match").click()

    expect(page.get_by_role("status")).to_contain_text(f"Line 1 matched to {number}")
    expect(line).to_contain_text("matched")
    assert Decimal(as_user("finance").get(f"/invoices/{number}").json()["paid"]) == Decimal("12.34")
    page.get_by_role("link", name="the queue").click()
    fits_every_width(page, "bank")


@pytest.fixture
def policy_kept(as_user: Callable[[str], Api]) -> Iterator[dict[str, Any]]:
    """The current policy, put back as the newest version after the test (other tests'
    new deals start with it)."""
    admin = as_user("admin")
    before = admin.get("/policy").json()
    yield before
    restored = admin.put("/policy", json={"policy": before["policy"], "note": "back as it was"})
    assert restored.status_code in (200, 201), restored.text


def test_admin_changes_a_policy_setting_and_adds_a_user_who_then_logs_in(
    live: Live,
    as_user: Callable[[str], Api],
    log_in: Callable[[str], Page],
    policy_kept: dict[str, Any],
) -> None:
    page = log_in("admin")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Policy", exact=True
    ).click()
    notice = policy_kept["policy"]["renewal_notice_days"] % 300 + 1
    page.get_by_label("Renewal notice days").fill(str(notice))
    page.get_by_label("Why this change").fill("earlier renewal notices")
    page.get_by_role("button", name="Save as a new version").click()

    expect(page.get_by_role("status")).to_contain_text("saved")
    now = as_user("admin").get("/policy").json()
    assert now["policy"]["renewal_notice_days"] == notice
    assert now["policy"] | {"renewal_notice_days": None} == policy_kept["policy"] | {
        "renewal_notice_days": None
    }
    expect(page.locator(f"tr[data-version='{now['version']}']")).to_contain_text(
        "earlier renewal notices"
    )
    fits_every_width(page, "policy")

    name = f"clerk{uuid.uuid4().hex[:6]}"
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Users", exact=True
    ).click()
    form = page.locator("#add-user")
    form.get_by_label("Username").fill(name)
    form.get_by_label("E-mail").fill(f"{name}@example.com")
    form.get_by_label("Role").select_option("finance")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status")).to_contain_text(f"User {name} added as finance")
    expect(page.locator(f"tr[data-user='{name}']")).to_contain_text("active")
    fits_every_width(page, "users")

    page.context.clear_cookies()  # not "Log out": that revokes the shared API token too
    log_in(name)
    # A finance user: the menu offers the bank statements.
    expect(page.get_by_role("link", name="Bank", exact=True)).to_be_visible()


def test_the_pipeline_and_the_kpis_export_as_csv_each_reader_seeing_their_own(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    mine = create_lead(as_user("rep1"), company=f"Mine {uuid.uuid4().hex[:6]} AG")["deal_id"]
    theirs = create_lead(as_user("rep2"))["deal_id"]
    page = log_in("rep1")
    with page.expect_download() as download:
        page.locator("#deals-export").click()
    deals = {r["deal_id"]: r for r in parsed_csv(download.value.path().read_text("utf-8"))}
    assert mine in deals and theirs not in deals
    assert deals[mine]["stage"] == "QUALIFYING" and deals[mine]["owner"] == "rep1"
    refused = page.request.get(f"{live.base_url}/ui/kpis/export.csv")
    assert refused.status == 403

    page.context.clear_cookies()  # not "Log out": that revokes the shared API token too
    page = log_in("manager")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Dashboard", exact=True
    ).click()
    with page.expect_download() as download:
        page.locator("#kpis-export").click()
    kpis = parsed_csv(download.value.path().read_text("utf-8"))
    assert list(kpis[0]) == ["kpi", "breakdown", "value"]
    created = next(r for r in kpis if r["kpi"] == "leads_created")
    assert int(created["value"]) >= 2


def test_a_form_the_api_would_refuse_is_refused_on_its_page_naming_the_field(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    number = upfront_invoice(live, as_user, f"Typo {uuid.uuid4().hex[:6]} AG")["number"]
    page = log_in("finance")
    page.goto(f"{live.base_url}/ui/invoices/{number}")
    page.locator("#payment-form").get_by_label("Amount").fill("12,50")
    page.get_by_label("Bank reference").fill(f"PAY-{uuid.uuid4().hex[:8]}")
    page.get_by_role("button", name="Record payment").click()

    expect(page.get_by_role("status")).to_contain_text("Refused (422): amount")
    assert Decimal(as_user("finance").get(f"/invoices/{number}").json()["paid"]) == 0


def test_finance_sets_a_customers_credit_terms_on_its_credit_page(
    live: Live, as_user: Callable[[str], Api], log_in: Callable[[str], Page]
) -> None:
    company = f"Terms {uuid.uuid4().hex[:6]} AG"
    invoice = upfront_invoice(live, as_user, company)
    page = log_in("finance")
    page.goto(f"{live.base_url}/ui/invoices/{invoice['number']}")
    page.get_by_role("link", name="credit standing").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(company)

    form = page.locator("#credit-terms")
    form.get_by_label("Credit limit").fill("1000.00")
    form.get_by_label("Currency").fill("EUR")
    form.get_by_label("Payment terms (days)").fill("14")
    form.get_by_role("button", name="Save terms").click()

    expect(page.get_by_role("status")).to_contain_text("limit 1000.00 EUR, 14 days")
    standing = as_user("finance").get(f"/customers/{invoice['customer_id']}").json()
    assert standing["credit_standing"]["limit"] == "1000.00"
    assert standing["credit_standing"]["payment_terms_days"] == 14
    expect(page.locator("#credit-exposure")).to_have_attribute("data-amount", invoice["total"])
    fits_every_width(page, "credit")
