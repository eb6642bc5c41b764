"""Every link in a staff e-mail opens a page of the web UI (never a JSON endpoint that a
browser shows as a 401), and every staff e-mail about a deal links to that deal's page."""

from __future__ import annotations

import re

import pytest

from adapters.email.mailer import TEMPLATES
from domain.email_templates import CUSTOMER_EMAILS

LINK = re.compile(r"\{\{ *base_url *\}\}(\S*)")
STAFF = sorted(path.stem for path in TEMPLATES.glob("*.txt") if path.stem not in CUSTOMER_EMAILS)


def test_there_are_staff_emails_to_check() -> None:
    assert {"lead_assigned", "approval_requested", "subscription_renewal_quote"} <= set(STAFF)


@pytest.mark.parametrize("name", STAFF)
def test_every_link_of_a_staff_email_is_a_ui_page(name: str) -> None:
    text = (TEMPLATES / f"{name}.txt").read_text()
    for path in LINK.findall(text):
        assert path.startswith("/ui/"), (name, path)


@pytest.mark.parametrize("name", STAFF)
def test_a_staff_email_about_a_deal_links_to_its_page(name: str) -> None:
    text = (TEMPLATES / f"{name}.txt").read_text()
    if "deal_id" in text:
        assert "{{ base_url }}/ui/deals/{{ deal_id }}" in text, name
