"""Security edges: portal tokens, mass assignment, body sizes, login throttling, disabled
users, and the secret l2c refuses to run with."""

from __future__ import annotations

import logging
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.portal_tokens import portal_tokens
from adapters.storage.users import UserDirectory
from api.app import create_app
from config import DEV_SECRET, Settings
from domain.users import Role
from tests.conftest import PASSWORD, wait_for
from tests.flows import (
    create_lead,
    lead_body,
    lead_email,
    portal_token,
    quote_body,
    stage_of,
    to_quoting,
    to_signature,
)


def quoted_deal(live, as_user) -> tuple[str, str]:
    rep = as_user("rep1")
    deal = to_quoting(rep)["deal_id"]
    rep.post(f"/deals/{deal}/quotes", json=quote_body())
    return deal, portal_token(live, lead_email(rep, deal), "Your quote")


def test_a_forged_portal_token_changes_nothing(live, as_user):
    deal, token = quoted_deal(live, as_user)
    body, signature = token.split(".")
    forged = [
        f"{body}.{signature[:-2]}AA",
        f"{body}x.{signature}",
        f"{body}.{signature}é",
        portal_tokens("another-secret" * 4, 30).issue(deal, "quote", 1),
    ]
    for bad in forged:
        assert as_user(None).post(f"/portal/{bad}/accept").status_code == 404, bad
    assert stage_of(as_user("rep1"), deal) == "PROPOSED"


def test_an_expired_portal_token_changes_nothing(live, as_user):
    deal, _ = quoted_deal(live, as_user)
    tokens = portal_tokens(live.settings.secret_key, 30)
    expired = tokens.issue(deal, "quote", 1, now=datetime.now(UTC) - timedelta(days=31))
    assert as_user(None).post(f"/portal/{expired}/accept").status_code == 404
    assert as_user(None).get(f"/portal/{expired}").status_code == 404
    assert stage_of(as_user("rep1"), deal) == "PROPOSED"


def test_a_token_for_another_deal_or_version_does_not_work_here(live, as_user):
    deal, _ = quoted_deal(live, as_user)
    tokens = portal_tokens(live.settings.secret_key, 30)
    assert as_user(None).post(f"/portal/{tokens.issue(deal, 'quote', 7)}/accept").status_code == 409
    assert (
        as_user(None)
        .post(f"/portal/{tokens.issue(deal, 'contract', 1)}/sign", json={"name": "X"})
        .status_code
        == 409
    )
    assert stage_of(as_user("rep1"), deal) == "PROPOSED"


def test_a_used_signing_link_cannot_sign_again(live, as_user):
    rep = as_user("rep1")
    deal = to_signature(live, rep, as_user("manager"))["deal_id"]
    token = portal_token(live, lead_email(rep, deal), "ready to sign")
    assert as_user(None).post(f"/portal/{token}/sign", json={"name": "A"}).status_code == 200
    assert as_user(None).post(f"/portal/{token}/sign", json={"name": "B"}).status_code == 409
    assert rep.get(f"/deals/{deal}").json()["contract"]["signature"]["name"] == "A"


def test_staff_resend_the_customers_link_to_the_contact_and_never_see_it(live, as_user):
    rep = as_user("rep1")
    deal = to_quoting(rep)["deal_id"]
    assert rep.post(f"/deals/{deal}/quotes", json=quote_body()).status_code == 201
    contact = lead_email(rep, deal)
    portal_token(live, contact, "Your quote")  # the first e-mail has arrived
    before = len(live.mail_to(contact, "Your quote"))
    sent = rep.post(f"/deals/{deal}/portal-link", json={"action": "quote"})
    assert sent.status_code == 200, sent.text
    assert sent.json() == {"action": "quote", "version": 1, "sent_to": contact}
    assert "/portal/" not in sent.text
    wait_for(lambda: len(live.mail_to(contact, "Your quote")) > before, 30, "the resent mail")
    history = rep.every(f"/deals/{deal}/history")
    assert [e["data"]["sent_to"] for e in history if e["action"] == "portal.link_sent"] == [contact]


def test_the_customers_answer_records_where_their_link_was_sent(live, as_user):
    rep = as_user("rep1")
    deal = to_signature(live, rep, as_user("manager"))["deal_id"]  # accepted through the e-mail
    history = rep.every(f"/deals/{deal}/history")
    accepted = [e for e in history if e["action"] == "quote.accepted"]
    assert accepted[0]["data"]["link_sent_to"] == lead_email(rep, deal)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/deals/{deal}/qualify", {"decision": "qualify", "owner": "rep2"}),
        ("/deals/{deal}/cancel", {"reason": "x", "stage": "WON"}),
        ("/deals/{deal}/owner", {"owner": "rep2", "deal_id": "other"}),
    ],
)
def test_fields_a_client_may_not_set_are_refused(as_user, path, body):
    rep = as_user("manager")
    deal = rep.post(
        "/leads",
        json={
            "company": f"MA {uuid.uuid4().hex[:6]}",
            "contact_name": "x",
            "email": f"x@{uuid.uuid4().hex[:6]}.example",
            "source": "web",
        },
    ).json()["deal_id"]
    extra = next(
        k
        for k in body
        if k not in ("decision", "reason", "owner") or k == "owner" and "decision" in body
    )
    answer = rep.post(path.format(deal=deal), json=body)
    assert answer.status_code == 422
    assert ["body", extra] in [e["loc"] for e in answer.json()["detail"]]
    assert stage_of(rep, deal) in ("QUALIFYING", "QUOTING")


def test_an_oversized_body_is_refused_unread(live, as_user):
    rep = as_user("rep1")
    huge = b'{"company": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    answer = rep.post("/leads", content=huge, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413

    def chunks():
        for _ in range(40):
            yield b"y" * 65536  # no Content-Length: counted as it streams

    streamed = rep.post("/leads", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert rep.get("/deals").status_code == 200


def test_a_nul_character_is_refused_before_anything_reads_it(live, as_user):
    """Postgres stores no NUL in text or JSON: a 422 naming where it was, never a 500."""
    rep = as_user("rep1")
    deal = create_lead(rep)["deal_id"]
    noted = rep.post(f"/deals/{deal}/notes", json={"body": "call\u0000back"})
    assert noted.status_code == 422 and noted.json()["detail"][0]["loc"] == ["body"]
    lead = rep.post("/leads", json=lead_body(company="Nul\x00 AG"))
    assert lead.status_code == 422, lead.text
    listed = rep.get("/deals", params={"owner": "rep1\x00"})
    assert listed.status_code == 422 and listed.json()["detail"][0]["loc"] == ["query"]
    form = rep.post(
        "/ui/login",
        content=b"username=rep1%00&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 422
    assert rep.get(f"/deals/{deal}/notes").json() == []  # nothing was written


def new_user(as_user, prefix: str, password: str = "a-long-password") -> str:
    name = f"{prefix}{uuid.uuid4().hex[:6]}"
    created = as_user("admin").post(
        "/users",
        json={
            "username": name,
            "role": "sales_rep",
            "email": f"{name}@example.com",
            "password": password,
        },
    )
    assert created.status_code == 201, created.text
    return name


def client_from(live, address: str) -> httpx.Client:
    """A client connecting from its own loopback address (not a trusted proxy's)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=live.base_url, transport=transport, timeout=60)


def test_login_is_throttled_per_client_and_user(live, as_user):
    name = new_user(as_user, "victim")
    stranger = client_from(live, "127.0.0.2")
    for _ in range(5):
        wrong = stranger.post("/auth/token", data={"username": name, "password": "wrong"})
        assert wrong.status_code == 401
    locked = stranger.post("/auth/token", data={"username": name, "password": "a-long-password"})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    answer = stranger.post("/auth/token", data={"username": "rep1", "password": PASSWORD})
    assert answer.status_code == 200  # other users are not affected


def test_a_stranger_cannot_lock_a_user_out(live, as_user):
    name = new_user(as_user, "finance")
    stranger = client_from(live, "127.0.0.4")
    for _ in range(8):
        stranger.post("/auth/token", data={"username": name, "password": "wrong"})
    own = client_from(live, "127.0.0.5")
    answer = own.post("/auth/token", data={"username": name, "password": "a-long-password"})
    assert answer.status_code == 200


def test_parallel_wrong_guesses_do_not_get_past_the_limit(live, as_user):
    name = new_user(as_user, "target")
    guesser = client_from(live, "127.0.0.6")

    def guess(n: int) -> int:
        answer = guesser.post("/auth/token", data={"username": name, "password": f"guess{n}"})
        return answer.status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(guess, range(20)))
    assert codes.count(401) == 5 and codes.count(429) == 15


def test_a_disabled_users_token_stops_working(live, as_user):
    name = f"leaver{uuid.uuid4().hex[:6]}"
    as_user("admin").post(
        "/users",
        json={
            "username": name,
            "role": "sales_rep",
            "email": f"{name}@example.com",
            "password": "a-long-password",
        },
    )
    client = httpx.Client(base_url=live.base_url)
    token = client.post(
        "/auth/token", data={"username": name, "password": "a-long-password"}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/deals", headers=headers).status_code == 200
    off = as_user("admin").put(f"/users/{name}/active", json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert client.get("/deals", headers=headers).status_code == 401
    assert (
        client.post(
            "/auth/token", data={"username": name, "password": "a-long-password"}
        ).status_code
        == 401
    )


def test_l2c_refuses_the_built_in_or_a_short_secret_outside_dev():
    for secret in (DEV_SECRET, "short"):
        with pytest.raises(ValueError, match="L2C_SECRET_KEY"):
            create_app(Settings(_env_file=None, secret_key=secret))
    create_app(Settings(_env_file=None, secret_key="k" * 40))


def test_l2c_dev_in_the_environment_does_not_unlock_the_built_in_secret(monkeypatch):
    """Only `l2c dev` runs with the public secret, and it hands its children a random one."""
    monkeypatch.setenv("L2C_DEV", "true")
    monkeypatch.setenv("L2C_SECRET_KEY", DEV_SECRET)
    with pytest.raises(ValueError, match="L2C_SECRET_KEY"):
        create_app(Settings(_env_file=None))


def test_no_secret_or_token_is_kept_in_workflow_history(live, as_user):
    deal, token = quoted_deal(live, as_user)
    handle = live.client.get_workflow_handle(f"deal-{deal}")
    history = live.run(handle.fetch_history()).to_json()
    assert token.split(".")[1] not in history
    assert live.settings.secret_key not in history
    assert PASSWORD not in history


def token_of(live, name: str, password: str = "a-long-password") -> dict[str, str]:
    answer = httpx.post(
        f"{live.base_url}/auth/token", data={"username": name, "password": password}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_a_token_from_before_a_password_change_stops_working(live, as_user):
    name = new_user(as_user, "changer")
    old = token_of(live, name)
    UserDirectory(live.engine).add(
        name, Role.SALES_REP, f"{name}@example.com", "a-new-long-password", replace=True
    )
    assert httpx.get(f"{live.base_url}/deals", headers=old).status_code == 401
    new = token_of(live, name, "a-new-long-password")
    assert httpx.get(f"{live.base_url}/deals", headers=new).status_code == 200


def test_a_token_from_before_a_role_change_stops_working(live, as_user):
    name = new_user(as_user, "promoted")
    old = token_of(live, name)
    changed = as_user("admin").put(f"/users/{name}/role", json={"role": "finance"})
    assert changed.status_code == 200
    assert httpx.get(f"{live.base_url}/deals", headers=old).status_code == 401
    assert httpx.get(f"{live.base_url}/deals", headers=token_of(live, name)).status_code == 200


def test_a_ui_logout_revokes_the_users_tokens(live, as_user):
    name = new_user(as_user, "leaving")
    api_token = token_of(live, name)
    ui = httpx.Client(base_url=live.base_url, follow_redirects=False)
    assert ui.get("/ui/login").status_code == 200
    login = ui.post(
        "/ui/login",
        data={"username": name, "password": "a-long-password", **login_csrf(ui)},
    )
    assert login.status_code == 303
    cookie = ui.cookies.get("l2c_session")
    csrf = re.search(r'name="csrf" value="([^"]+)"', ui.get("/ui/board").text)
    assert cookie and csrf
    assert ui.post("/ui/logout", data={"csrf": csrf.group(1)}).status_code == 303
    assert httpx.get(f"{live.base_url}/deals", headers=api_token).status_code == 401
    stolen = httpx.get(f"{live.base_url}/ui/board", cookies={"l2c_session": cookie})
    assert stolen.status_code == 303  # back to the login page


def login_csrf(ui: httpx.Client) -> dict[str, str]:
    """The login form's CSRF field, if it has one (it does since issue 13)."""
    found = re.search(r'name="login_csrf" value="([^"]+)"', ui.get("/ui/login").text)
    return {"login_csrf": found.group(1)} if found else {}


def test_the_portal_page_cannot_be_framed(live, as_user):
    _, token = quoted_deal(live, as_user)
    shown = as_user(None).get(f"/portal/{token}")
    assert shown.status_code == 200
    assert shown.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in shown.headers["content-security-policy"]


def test_the_ui_cannot_be_framed(live):
    shown = httpx.get(f"{live.base_url}/ui/login")
    assert shown.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in shown.headers["content-security-policy"]


def test_a_login_form_posted_from_another_site_is_refused(live):
    """Login CSRF: another site must not log the victim's browser in as the attacker."""
    forged = httpx.post(
        f"{live.base_url}/ui/login",
        data={"username": "rep1", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403 and "l2c_session" not in forged.cookies
    ui = httpx.Client(base_url=live.base_url)
    stale = ui.post(
        "/ui/login", data={"username": "rep1", "password": PASSWORD, "login_csrf": "0" * 64}
    )
    assert stale.status_code == 403
    ours = ui.post(
        "/ui/login",
        data={"username": "rep1", "password": PASSWORD, **login_csrf(ui)},
        follow_redirects=False,
    )
    assert ours.status_code == 303 and "l2c_session" in ours.cookies


def test_portal_tokens_are_masked_in_the_access_log(live, as_user):
    _, token = quoted_deal(live, as_user)
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    access = logging.getLogger("uvicorn.access")
    keep, level = Keep(), access.level
    access.addHandler(keep)
    access.setLevel(logging.INFO)
    try:
        assert as_user(None).get(f"/portal/{token}").status_code == 200
        wait_for(lambda: any("/portal/" in line for line in records), 10, "the access log")
    finally:
        access.removeHandler(keep)
        access.setLevel(level)
    assert all(token not in line for line in records)
    assert any("/portal/*** " in line for line in records)
