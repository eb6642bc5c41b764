"""The outbox relay: a mail that can never be sent fails once, visibly, and holds up no
other; header values from data are one line."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import insert, select

from adapters.email.mailer import message_id
from adapters.storage.tables import emails
from tests.conftest import wait_for
from tests.flows import create_lead


def _row(deal_id: str, subject: str) -> dict[str, object]:
    key = f"test:{uuid.uuid4().hex}"
    return {
        "key": key,
        "deal_id": deal_id,
        "kind": "test",
        "recipients": ["someone@example.com"],
        "subject": subject,
        "body": "body",
        "attachments": [],
        "message_id": message_id(key),
        "status": "pending",
        "created_at": datetime.now(UTC),
    }


def test_a_mail_that_can_never_be_sent_fails_once_and_holds_up_no_other(live, as_user):
    rep = as_user("rep1")
    deal_id = create_lead(rep)["deal_id"]
    bad, good = _row(deal_id, "Hello\r\nBcc: everyone@example.com"), _row(deal_id, "Fine")
    with live.engine.begin() as conn:
        conn.execute(insert(emails).values([bad, good]))

    def statuses() -> dict[str, str]:
        with live.engine.connect() as conn:
            rows = conn.execute(
                select(emails.c.key, emails.c.status).where(
                    emails.c.key.in_([bad["key"], good["key"]])
                )
            ).all()
        return {key: status for key, status in rows}

    wait_for(lambda: set(statuses().values()) == {"failed", "sent"}, 30, "the relay")
    assert statuses() == {bad["key"]: "failed", good["key"]: "sent"}
    history = rep.every(f"/deals/{deal_id}/history")
    assert [e["data"]["kind"] for e in history if e["action"] == "email.failed"] == ["test"]
    assert rep.get(f"/deals/{deal_id}/history/verify").json()["intact"] is True


def test_a_company_name_with_a_line_break_makes_a_one_line_subject(live, as_user):
    rep = as_user("rep1")
    company = f"Broken\r\nLine {uuid.uuid4().hex[:6]} AG"
    deal_id = create_lead(rep, company=company)["deal_id"]

    def sent() -> list[str]:
        with live.engine.connect() as conn:
            return list(
                conn.execute(
                    select(emails.c.subject).where(
                        emails.c.deal_id == deal_id, emails.c.status == "sent"
                    )
                ).scalars()
            )

    subjects = wait_for(sent, 30, "the lead's e-mail to be sent")
    assert all("\r" not in s and "\n" not in s for s in subjects)
