"""Security edges: portal tokens, mass assignment, body sizes, login throttling, disabled
users, and the secret l2c refuses to run with."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.portal_tokens import portal_tokens
from api.app import create_app
from config import DEV_SECRET, Settings
from tests.conftest import PASSWORD
from tests.flows import lead_email, portal_token, quote_body, stage_of, to_approval, to_quoting


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
    assert stage_of(as_user("rep1"), deal) == "QUOTING"


def test_an_expired_portal_token_changes_nothing(live, as_user):
    deal, _ = quoted_deal(live, as_user)
    tokens = portal_tokens(live.settings.secret_key, 30)
    expired = tokens.issue(deal, "quote", 1, now=datetime.now(UTC) - timedelta(days=31))
    assert as_user(None).post(f"/portal/{expired}/accept").status_code == 404
    assert as_user(None).get(f"/portal/{expired}").status_code == 404
    assert stage_of(as_user("rep1"), deal) == "QUOTING"


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
    assert stage_of(as_user("rep1"), deal) == "QUOTING"


def test_a_used_signing_link_cannot_sign_again(live, as_user):
    rep = as_user("rep1")
    deal = to_approval(live, rep)["deal_id"]
    as_user("manager").post(f"/deals/{deal}/approvals", json={"decision": "approve"})
    token = portal_token(live, lead_email(rep, deal), "ready to sign")
    assert as_user(None).post(f"/portal/{token}/sign", json={"name": "A"}).status_code == 200
    assert as_user(None).post(f"/portal/{token}/sign", json={"name": "B"}).status_code == 409
    assert rep.get(f"/deals/{deal}").json()["contract"]["signature"]["name"] == "A"


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
