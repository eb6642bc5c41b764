"""The dev SMTP sink's Maildir, read for people: a list of what l2c sent, and one message."""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from pydantic import BaseModel

_KEY = re.compile(r"^[A-Za-z0-9._,:=-]{1,200}$")


class MailSummary(BaseModel):
    """One line of the mail list."""

    key: str
    subject: str
    to: str
    delivered_at: datetime


class Mail(BaseModel):
    """One message as a person reads it: its headers, its text and its attachments' names."""

    summary: MailSummary
    sender: str
    text: str
    attachments: list[str]


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _summary(key: str, found: mailbox.MaildirMessage, message: EmailMessage) -> MailSummary:
    return MailSummary(
        key=key,
        subject=str(message["Subject"] or "(no subject)"),
        to=str(message["To"] or message["X-Envelope-To"] or ""),
        delivered_at=datetime.fromtimestamp(found.get_date(), UTC),
    )


def list_mail(path: Path, limit: int = 500) -> list[MailSummary]:
    """The newest `limit` messages, newest first."""
    if not path.exists():
        return []
    box = mailbox.Maildir(path, create=False)
    found = [_summary(key, msg, _parse(msg.as_bytes())) for key, msg in box.items()]
    found.sort(key=lambda m: (m.delivered_at, m.key), reverse=True)
    return found[:limit]


def read_mail(path: Path, key: str) -> Mail | None:
    """The message with this key, or None (an unknown or malformed key)."""
    if not _KEY.match(key) or not path.exists():
        return None
    box = mailbox.Maildir(path, create=False)
    try:
        found = box[key]
    except KeyError:
        return None
    message = _parse(found.as_bytes())
    body = message.get_body(preferencelist=("plain", "html"))
    return Mail(
        summary=_summary(key, found, message),
        sender=str(message["From"] or ""),
        text=str(body.get_content()) if body is not None else "",
        attachments=[str(part.get_filename()) for part in message.iter_attachments()],
    )
