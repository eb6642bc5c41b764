"""Links in staff e-mails open the deal's UI page: the new-lead mail links to it, and an API
path opened by a browser without a token is sent to the UI rather than answered 401."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.conftest import Api, Live, body_of, wait_for
from tests.flows import create_lead

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_the_new_lead_mail_links_to_the_deals_ui_page(
    live: Live, as_user: Callable[[str], Api]
) -> None:
    deal_id = create_lead(as_user("rep1"))["deal_id"]
    mails = wait_for(
        lambda: [m for m in live.mail_to("rep1@", "New lead") if deal_id in body_of(m)],
        30,
        "the new-lead mail",
    )
    assert f"{live.settings.base_url.rstrip('/')}/ui/deals/{deal_id}" in body_of(mails[-1])


@pytest.mark.parametrize(
    ("path", "page"), [("/deals/d-123", "/ui/deals/d-123"), ("/approvals", "/ui/inbox")]
)
def test_a_browser_without_a_token_is_sent_to_the_ui_page(live: Live, path: str, page: str) -> None:
    answer = httpx.get(f"{live.base_url}{path}", headers=BROWSER)
    assert answer.status_code == 303
    assert answer.headers["location"] == page


def test_the_ui_page_sends_you_to_login_and_remembers_it(live: Live) -> None:
    answer = httpx.get(f"{live.base_url}/ui/deals/d-123", headers=BROWSER)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/login?next=%2Fui%2Fdeals%2Fd-123"


@pytest.mark.parametrize(
    "headers",
    [
        {"Accept": "application/json"},
        {**BROWSER, "Authorization": "Bearer not-a-token"},
    ],
)
def test_api_clients_still_get_a_401(live: Live, headers: dict[str, str]) -> None:
    answer = httpx.get(f"{live.base_url}/deals/d-123", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["detail"]
