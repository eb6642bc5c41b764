"""Every link in the staff e-mails of one deal, followed in a browser by the person it was
sent to: signed out, it asks for the login and then lands on the page it named (the deal,
the inbox), never on a JSON 401."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD, Api, Live, body_of, wait_for
from tests.flows import to_approval

LINK = re.compile(r"https?://\S+/ui/\S+")
STAFF = ("rep1", "rep2", "manager", "finance", "ops", "admin")


def _staff_mail(live: Live, deal_id: str) -> list[tuple[str, str, str]]:
    """(recipient, subject, body) of every staff e-mail that names the deal."""
    found = []
    for message in live.mail():
        to = str(message["To"])
        user = to.split("@")[0].split("<")[-1]
        if user in STAFF and deal_id in body_of(message):
            found.append((user, str(message["Subject"]), body_of(message)))
    return found


def _follow(page: Page, user: str, link: str) -> None:
    """Open `link` signed out, log in as `user`, and land on the page it names."""
    page.context.clear_cookies()
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/ui/login\?next="))
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(link)
    heading = page.locator("h1")
    if "/ui/deals/" in link:
        expect(heading).to_contain_text("Acme")
    else:
        expect(heading).to_be_visible()
        expect(heading).not_to_contain_text("Not found")
    assert '"detail"' not in page.content(), link


def _follow_all(page: Page, live: Live, deal_id: str, wanted: tuple[str, ...]) -> set[str]:
    """Follow every link of the deal's staff e-mails whose subjects hold `wanted`; the
    (user, link) pairs followed."""

    def all_sent() -> list[tuple[str, str, str]]:
        mail = _staff_mail(live, deal_id)
        chosen = [m for m in mail if any(w in m[1] for w in wanted)]
        return chosen if all(any(w in m[1] for m in chosen) for w in wanted) else []

    followed = set()
    for user, _, body in wait_for(all_sent, 30, f"the staff e-mails {wanted}"):
        for link in LINK.findall(body):
            if f"{user} {link}" not in followed:
                followed.add(f"{user} {link}")
                _follow(page, user, link)
    return followed


def test_every_link_in_a_deals_staff_mail_opens_its_page_after_login(
    live: Live, as_user: Callable[[str], Api], page: Page
) -> None:
    rep2, manager = as_user("rep2"), as_user("manager")
    deal_id = to_approval(live, rep2)["deal_id"]  # a new lead for rep2, an approval request
    rejected = manager.post(
        f"/deals/{deal_id}/approvals", json={"decision": "reject", "comment": "too deep"}
    )
    assert rejected.status_code == 200, rejected.text
    followed = _follow_all(
        page, live, deal_id, ("New lead for you", "Approval needed", "were rejected")
    )
    # Once reassigned, the deal is rep1's: rep2's old links are no longer theirs to open.
    moved = manager.post(f"/deals/{deal_id}/owner", json={"owner": "rep1", "reason": "holiday"})
    assert moved.status_code == 200, moved.text
    followed |= _follow_all(page, live, deal_id, ("is now your deal",))

    deal_page = f"/ui/deals/{deal_id}"
    assert {f.split()[0] for f in followed if f.endswith(deal_page)} == {"rep1", "rep2", "manager"}
    assert any(f.startswith("manager ") and f.endswith("/ui/inbox") for f in followed), followed
