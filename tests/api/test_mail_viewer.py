"""/ui/mail: the dev SMTP sink's Maildir in the browser, only where `l2c dev` points at it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.app import create_app
from tests.conftest import PASSWORD, wait_for
from tests.flows import create_lead


def test_the_mail_viewer_lists_dev_mail_newest_first_and_opens_a_message(live, as_user):
    first = create_lead(as_user("rep1"))["customer"]["name"]
    second = create_lead(as_user("rep1"))["customer"]["name"]
    wait_for(lambda: live.mail_to("rep1", second), 30, "the second lead's e-mail")
    settings = live.settings.model_copy(update={"maildir": live.stack.maildir})
    with TestClient(create_app(settings), base_url=live.base_url) as browser:
        form = re.search(r'name="login_csrf" value="([^"]+)"', browser.get("/ui/login").text)
        assert form is not None  # the login form's own CSRF token (Step 10)
        signed_in = browser.post(
            "/ui/login",
            data={"username": "rep1", "password": PASSWORD, "login_csrf": form.group(1)},
        )
        assert signed_in.status_code == 200, signed_in.text
        listing = browser.get("/ui/mail")
        assert listing.status_code == 200
        assert listing.text.index(second) < listing.text.index(first)  # newest first
        key = re.search(r'href="/ui/mail/([^"]+)"', listing.text)
        assert key is not None
        message = browser.get(f"/ui/mail/{key.group(1)}")
        assert message.status_code == 200
        assert "New lead for you" in message.text and "Hello rep1" in message.text
        assert browser.get("/ui/mail/..%2Fsecret").status_code == 404


def test_without_l2c_dev_there_is_no_mail_viewer(as_user):
    assert as_user(None).get("/ui/mail", follow_redirects=False).status_code == 404
    assert as_user("admin").get("/ui/mail", follow_redirects=False).status_code == 404
