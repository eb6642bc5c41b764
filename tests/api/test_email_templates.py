"""Admins reword customer e-mails per language; the contact's language picks the text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from adapters.storage.tables import audit_events
from tests.conftest import body_of, wait_for
from tests.flows import lead_email, quote_body, to_quoting

GERMAN_QUOTE = {
    "subject": "Ihr Angebot von {{ seller }} (Version {{ quote.version }})",
    "body": "Guten Tag {{ contact_name }},\n\nunser Angebot für {{ company }}: "
    "{{ quote.total }} {{ quote.currency }} brutto.\n\n{{ link }}\n",
}
PATH = "/email-templates/quote_sent/de"


@pytest.fixture
def german_quote(as_user) -> Iterator[None]:
    admin = as_user("admin")
    saved = admin.put(PATH, json=GERMAN_QUOTE)
    assert saved.status_code == 200, saved.text
    yield
    admin.http.delete(PATH)


def test_a_german_contact_gets_the_german_override(live, as_user, german_quote):
    rep = as_user("rep1")
    german = to_quoting(rep, language="de")
    english = to_quoting(rep)
    for deal in (german, english):
        answer = rep.post(f"/deals/{deal['deal_id']}/quotes", json=quote_body())
        assert answer.status_code == 201, answer.text
    to_german = lead_email(rep, german["deal_id"])
    mail = wait_for(lambda: live.mail_to(to_german, "Ihr Angebot"), 30, "the German quote")[-1]
    assert "Guten Tag" in body_of(mail)
    assert "/portal/" in body_of(mail)  # the merge field `link` still carries the portal link
    to_english = lead_email(rep, english["deal_id"])
    wait_for(lambda: live.mail_to(to_english, "Your quote"), 30, "the built-in quote")


def test_saving_a_template_is_audited(live, as_user, german_quote):
    with live.engine.connect() as conn:
        actions = conn.execute(
            select(audit_events.c.actor, audit_events.c.data).where(
                audit_events.c.deal_id == "email-templates",
                audit_events.c.action == "email_template.changed",
            )
        ).all()
    assert any(a.actor == "admin" and a.data["language"] == "de" for a in actions)


def test_an_unknown_merge_field_is_refused_and_changes_nothing(as_user):
    admin = as_user("admin")
    refused = admin.put(
        "/email-templates/dunning/fr", json={"subject": "Rappel {{ prenom }}", "body": "x"}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "subject"
    assert admin.get("/email-templates/dunning/fr").json()["overridden"] is False


def test_bad_syntax_is_refused_naming_the_body(as_user):
    refused = as_user("admin").post(
        "/email-templates/dunning/preview", json={"subject": "ok", "body": "{% if level %}"}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "body"


def test_the_preview_renders_sample_data(as_user):
    shown = as_user("admin").post(
        "/email-templates/payment_received/preview",
        json={"subject": "Zahlung zu {{ invoice }}", "body": "{{ amount }} {{ currency }}"},
    )
    assert shown.status_code == 200, shown.text
    assert shown.json() == {"subject": "Zahlung zu INV-2026-000042", "body": "1130.50 EUR"}


def test_only_admins_manage_templates(as_user):
    assert as_user("rep1").get("/email-templates").status_code == 403
    assert as_user("finance").put(PATH, json=GERMAN_QUOTE).status_code == 403


def test_a_staff_email_is_not_a_customer_template(as_user):
    assert as_user("admin").get("/email-templates/lead_assigned/de").status_code == 404


def test_a_lead_language_must_be_an_iso_code(as_user):
    refused = as_user("rep1").post(
        "/leads",
        json={
            "company": "Sprach GmbH",
            "contact_name": "A B",
            "email": "a@sprach.example",
            "source": "web",
            "language": "german",
        },
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "language"
