"""The web UI's lists page as the deals list does: following "Next page" from the first page
shows every row once, in the JSON list's order (pages made two rows long here)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest

from api.routes import ui_deals, ui_finance, ui_sales
from tests.conftest import PASSWORD, Api, Live, wait_for
from tests.flows import create_lead, quote_body, to_approval, to_fulfilment

NEXT = re.compile(r'<a href="([^"]+)" rel="next">Next page')


def ui_session(live: Live, username: str) -> httpx.Client:
    ui = httpx.Client(base_url=live.base_url, follow_redirects=False)
    login_page = ui.get("/ui/login").text
    found = re.search(r'name="login_csrf" value="([^"]+)"', login_page)
    extra = {"login_csrf": found.group(1)} if found else {}
    answer = ui.post("/ui/login", data={"username": username, "password": PASSWORD, **extra})
    assert answer.status_code == 303, answer.text
    return ui


def follow(ui: httpx.Client, start: str, row: re.Pattern[str]) -> tuple[list[str], int]:
    """Every row the pages show from `start` on, following their "Next page" links."""
    rows: list[str] = []
    url: str | None = start
    pages = 0
    while url is not None:
        shown = ui.get(url)
        assert shown.status_code == 200, shown.text
        rows += [html.unescape(r) for r in row.findall(shown.text)]
        pages += 1
        found = NEXT.search(shown.text)
        url = html.unescape(found.group(1)) if found else None
    return rows, pages


@pytest.fixture
def short_pages(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Two rows a page (the API serves from this process)."""
    monkeypatch.setattr(ui_finance, "PAGE_SIZE", 2)
    monkeypatch.setattr(ui_sales, "LIST_PAGE", 2)
    monkeypatch.setattr(ui_deals, "LIST_PAGE", 2)
    yield


def test_ui_lists_page_through_every_row_once(live, as_user, short_pages):
    rep, manager, finance = as_user("rep2"), as_user("manager"), as_user("finance")
    deal = to_fulfilment(live, rep, manager, quote_body(billing_plan={"kind": "upfront"}))
    for _ in range(2):
        create_lead(rep, company=deal["customer"]["name"])
        to_approval(live, rep)
    customer_id = deal["customer"]["customer_id"]

    def same(api: Api, path: str, key: str, ui: httpx.Client, start: str, row: str) -> None:
        # Other tests' deals move on in the background (reminders, escalations, invoices):
        # walk both again until one walk of each saw the same list.
        def agree() -> tuple[list[str], int, list[str]] | None:
            rows, pages = follow(ui, start, re.compile(row))
            listed = [str(item[key]) for item in api.every(path)]
            return (rows, pages, listed) if rows == listed else None

        walked = wait_for(agree, 60, f"the UI and JSON walks of {path} to agree")
        assert walked is not None
        _, pages, listed = walked
        assert pages == max(1, -(-len(listed) // 2)), path

    same(
        rep,
        "/customers",
        "customer_id",
        ui_session(live, "rep2"),
        "/ui/customers",
        r'<tr data-customer="([^"]+)"',
    )
    same(
        manager,
        "/approvals",
        "deal_id",
        ui_session(live, "manager"),
        "/ui/inbox",
        r'<tr data-deal="([^"]+)"',
    )
    same(
        rep,
        "/tasks",
        "title",
        ui_session(live, "rep2"),
        "/ui/tasks",
        r'<li class="task-[a-z_]+">\s*(?:<a href="[^"]*">)?([^<]+)',
    )
    invoices = f"/invoices?status=open&customer_id={customer_id}"
    assert finance.every(invoices)  # the customer's invoice is listed
    same(
        finance,
        "/invoices?status=open",
        "number",
        ui_session(live, "finance"),
        "/ui/invoices?status=open",
        r'<tr data-invoice="([^"]+)"',
    )
