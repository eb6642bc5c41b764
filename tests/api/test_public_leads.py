"""POST /public/leads, the website's contact form: no login, UTM captured, a honeypot and
duplicates answered like any lead but creating nothing, and a rate limit per client."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from adapters.storage.tables import deals
from tests.conftest import Live


@pytest.fixture
def visitor(live: Live) -> Iterator[httpx.Client]:
    """A client from an address of its own (all of 127/8 is this machine), so each test
    has its own rate limit."""
    address = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(1, 254)}"
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=live.base_url, transport=transport, timeout=60) as client:
        yield client


def form(**overrides: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    body = {
        "company": f"Webshop {tag} Ltd",
        "contact_name": "Grace Hopper",
        "email": f"grace@web-{tag}.example",
        "country": "DE",
        "need": "a demo",
        "website": "",
    }
    body.update(overrides)
    return body


def deals_of(live: Live, email: str) -> list[str]:
    with live.engine.connect() as conn:
        return list(
            conn.execute(select(deals.c.deal_id).where(deals.c.email_key == email)).scalars()
        )


def test_a_web_form_starts_a_deal_with_its_campaign(live, as_user, visitor) -> None:
    sent = form(utm_source="newsletter", utm_medium="email", utm_campaign="spring", utm_term="")

    answer = visitor.post("/public/leads", data=sent)  # as an HTML form posts it

    assert answer.status_code == 202, answer.text
    (deal_id,) = deals_of(live, sent["email"])
    deal = as_user("admin").get(f"/deals/{deal_id}").json()
    assert deal["source"] == "web"
    assert deal["campaign"] == {
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "spring",
    }
    assert deal["owner"].startswith("rep")
    history = as_user("admin").every(f"/deals/{deal_id}/history")
    assert history[0]["action"] == "lead.created" and history[0]["actor"] == "web-form"


def test_json_is_accepted_too(live, visitor) -> None:
    sent = form(utm_source="ads")
    assert visitor.post("/public/leads", json=sent).status_code == 202
    assert len(deals_of(live, sent["email"])) == 1


def test_a_filled_honeypot_is_answered_but_creates_nothing(live, visitor) -> None:
    sent = form(website="http://spam.example")
    answer = visitor.post("/public/leads", data=sent)
    assert answer.status_code == 202
    assert answer.json() == {"status": "accepted"}
    assert deals_of(live, sent["email"]) == []


def test_a_contact_with_an_open_deal_gets_the_same_answer_and_no_new_deal(live, visitor):
    sent = form()
    first = visitor.post("/public/leads", data=sent)
    again = visitor.post("/public/leads", data=form(email=sent["email"]))
    assert first.json() == again.json() == {"status": "accepted"}
    assert again.status_code == 202
    assert len(deals_of(live, sent["email"])) == 1


def test_the_sixth_request_in_a_minute_is_429(live, visitor) -> None:
    for _ in range(live.settings.public_leads_burst):
        assert visitor.post("/public/leads", data=form(website="bot")).status_code == 202
    refused = visitor.post("/public/leads", data=form())
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("change", "field"),
    [({"email": "not-an-address"}, "email"), ({"country": "Germany"}, "country")],
)
def test_bad_input_is_422_naming_the_field(live, visitor, change, field) -> None:
    sent = form(**change)
    refused = visitor.post("/public/leads", json=sent)
    assert refused.status_code == 422
    assert ["body", field] in [e["loc"][:2] for e in refused.json()["detail"]]
    with live.engine.connect() as conn:
        made = conn.execute(
            select(func.count())
            .select_from(deals)
            .where(deals.c.lead["company"].astext == sent["company"])
        ).scalar()
    assert made == 0


def test_a_missing_field_is_named(visitor) -> None:
    refused = visitor.post("/public/leads", data={"company": "X", "contact_name": "Y"})
    assert refused.status_code == 422
    assert ["body", "email"] in [e["loc"] for e in refused.json()["detail"]]


def test_a_file_instead_of_a_field_is_422_naming_it(visitor) -> None:
    sent = form()
    del sent["company"]
    refused = visitor.post("/public/leads", data=sent, files={"company": ("c.txt", b"Acme")})
    assert refused.status_code == 422
    assert ["body", "company"] in [e["loc"] for e in refused.json()["detail"]]
