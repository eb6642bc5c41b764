"""Quoting: the price book, the quote PDF, expiry and lapses (short day)."""

from __future__ import annotations

import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from pypdf import PdfReader

from domain.policy import DealPolicy
from domain.qualification import QualificationPolicy
from tests.conftest import wait_for
from tests.flows import lead_email, portal_token, quote_body, stage_of, start_deal, to_quoting
from workflows.deal import DealWorkflow
from workflows.ids import deal_workflow_id


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_quote_pdf_says_what_the_quote_says(live, as_user):
    rep = as_user("rep1")
    deal = to_quoting(rep)
    quote = rep.post(f"/deals/{deal['deal_id']}/quotes", json=quote_body()).json()
    email = lead_email(rep, deal["deal_id"])
    mail = wait_for(lambda: live.mail_to(email, "Your quote"), 30, "the quote mail")[-1]
    attachment = next(part for part in mail.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    text = pdf_text(attachment.get_content())
    company = rep.get(f"/deals/{deal['deal_id']}").json()["customer"]["name"]
    for expected in (
        quote["number"],  # the number people read, not the deal id
        company,
        "GW-100",
        "349.90",
        "52.49",
        f"Subtotal: {quote['subtotal']} EUR",
        f"Tax: {quote['tax_total']} EUR",
        f"Total: {quote['total']} EUR",
        "payment terms 30 days",
    ):
        assert expected in text, expected
    token = portal_token(live, email, "Your quote")
    download = rep.http.get(f"/portal/{token}/pdf")
    assert download.headers["content-type"] == "application/pdf"
    assert f"Total: {quote['total']} EUR" in pdf_text(download.content)


def test_products_are_priced_per_currency_and_inactive_ones_cannot_be_quoted(as_user):
    admin, rep, sku = as_user("admin"), as_user("rep1"), f"KIT-{uuid.uuid4().hex[:6]}"
    product = {
        "sku": sku,
        "name": "Starter kit",
        "kind": "good",
        "unit_price": "99.50",
        "currency": "EUR",
        "tax_rate": "19",
    }
    assert admin.post("/products", json=product).status_code == 201
    assert (
        admin.post("/products", json=dict(product, currency="USD", unit_price="110.00")).status_code
        == 201
    )
    listed = [p for p in rep.get("/products").json() if p["sku"] == sku]
    assert {(p["currency"], p["unit_price"]) for p in listed} == {
        ("EUR", "99.50"),
        ("USD", "110.00"),
    }
    deal = to_quoting(rep)
    usd = rep.post(
        f"/deals/{deal['deal_id']}/quotes",
        json=quote_body(currency="USD", lines=[{"sku": sku, "quantity": "2"}]),
    )
    assert usd.json()["total"] == "261.80"  # 220.00 + 19 % tax
    admin.post("/products", json=dict(product, active=False))
    refused = rep.post(
        f"/deals/{deal['deal_id']}/quotes", json=quote_body(lines=[{"sku": sku, "quantity": "1"}])
    )
    assert refused.status_code == 422
    assert "not sold any more" in refused.json()["detail"][0]["msg"]
    assert admin.post("/products", json=dict(product, kind="subscription")).status_code == 422


def short_day_deal(live, as_user, lapses: int = 3) -> str:
    policy = DealPolicy(
        day=timedelta(seconds=1),
        quote_lapses_before_lost=lapses,
        qualification=QualificationPolicy(
            auto_qualify_at=None,
            auto_disqualify_below=None,
            remind_after_days=1000,
            escalate_after_days=2000,
            close_after_days=3000,
        ),
    )
    deal_id = start_deal(live, "rep1", policy)
    as_user("rep1").post(f"/deals/{deal_id}/qualify", json={"decision": "qualify"})
    return deal_id


def test_an_expired_quote_tells_the_owner_and_a_new_version_can_be_accepted(live, as_user):
    rep = as_user("rep1")
    deal_id = short_day_deal(live, as_user)
    rep.post(f"/deals/{deal_id}/quotes", json=quote_body(valid_days=1))
    old = portal_token(live, lead_email(rep, deal_id), "(version 1)")
    company = rep.get(f"/deals/{deal_id}").json()["customer"]["name"]
    wait_for(lambda: live.mail_to("rep1@", f"Quote v1 for {company} expired"), 30, "expiry")
    assert [q["status"] for q in rep.get(f"/deals/{deal_id}").json()["quotes"]] == ["expired"]
    assert rep.get(f"/deals/{deal_id}").json()["stage"] == "QUOTING"  # back to the owner
    # Its link lapsed with it: like any expired link, it is not found (Step 10).
    assert rep.http.post(f"/portal/{old}/accept").status_code == 404
    rep.post(f"/deals/{deal_id}/quotes", json=quote_body(valid_days=30))
    new = portal_token(live, lead_email(rep, deal_id), "(version 2)")
    assert rep.http.post(f"/portal/{new}/accept").json()["stage"] == "AWAITING_SIGNATURE"


def test_quotes_that_keep_lapsing_lose_the_deal(live, as_user):
    rep = as_user("rep1")
    deal_id = short_day_deal(live, as_user, lapses=2)
    for version in (1, 2):
        rep.post(f"/deals/{deal_id}/quotes", json=quote_body(valid_days=1))

        def lapsed(v: int = version) -> bool:
            status: str = rep.get(f"/deals/{deal_id}").json()["quotes"][v - 1]["status"]
            return status == "expired"

        wait_for(lapsed, 30, f"quote {version} to lapse")
    handle = live.client.get_workflow_handle_for(DealWorkflow.run, deal_workflow_id(deal_id))
    outcome = live.run(handle.result(), timeout=30)
    assert (outcome.stage, outcome.reason) == ("LOST", "2 quotes lapsed without an answer")
    assert stage_of(rep, deal_id) == "LOST"


def test_a_quote_posted_twice_at_once_with_one_idempotency_key_is_issued_once(live, as_user):
    rep = as_user("rep1")
    deal = to_quoting(rep)["deal_id"]
    key = {"Idempotency-Key": f"quote-{uuid.uuid4().hex}"}
    body = quote_body()
    with ThreadPoolExecutor(3) as pool:
        answers = list(
            pool.map(lambda _: rep.post(f"/deals/{deal}/quotes", json=body, headers=key), range(3))
        )
    issued = [a for a in answers if a.status_code == 201]
    assert issued and all(a.status_code in (201, 409) for a in answers), answers
    assert all(a.json() == issued[0].json() for a in issued)
    assert [q["version"] for q in rep.get(f"/deals/{deal}").json()["quotes"]] == [1]
    mails = wait_for(lambda: live.mail_to(lead_email(rep, deal), "Your quote"), what="the quote")
    assert len(mails) == 1
