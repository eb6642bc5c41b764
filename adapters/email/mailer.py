"""Render an e-mail from its template, keep it in the outbox, send it over SMTP once."""

from __future__ import annotations

import hashlib
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from pydantic import BaseModel
from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert

from adapters.documents import Documents
from adapters.portal_tokens import PortalTokens
from adapters.storage.email_templates import EmailTemplateStore
from adapters.storage.tables import emails
from adapters.storage.users import UserDirectory
from domain.email_templates import (
    CUSTOMER_EMAILS,
    TemplateText,
    languages_to_try,
    render_text,
)
from domain.messages import Attachment, EmailRequest, NoRecipients

TEMPLATES = Path(__file__).parent / "templates"


class SmtpConfig(BaseModel):
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    starttls: bool = False


def message_id(key: str) -> str:
    """The same key always gives the same Message-ID, so a resent mail is a duplicate."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@l2c.local>"


class Mailer:
    def __init__(
        self,
        engine: Engine,
        smtp: SmtpConfig,
        sender: str,
        seller: str,
        base_url: str,
        tokens: PortalTokens,
        users: UserDirectory,
        documents: Documents,
        default_language: str = "en",
    ) -> None:
        self.engine = engine
        self.overrides = EmailTemplateStore(engine)
        self.default_language = default_language
        self.documents = documents
        self.seller = seller
        self.smtp = smtp
        self.sender = sender
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.users = users
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
        )

    def recipients(self, request: EmailRequest) -> list[str]:
        recipients = list(request.to)
        if request.to_user:
            user = self.users.get(request.to_user)
            if user is not None and user.active:
                recipients.append(user.email)
        if request.to_role:
            recipients += self.users.emails_of_role(request.to_role, request.exclude_user)
        if not recipients:
            raise NoRecipients(f"no recipient for e-mail {request.key}")
        return recipients

    def render(self, request: EmailRequest) -> tuple[str, str]:
        context = {"seller": self.seller, "base_url": self.base_url, **request.context}
        if request.portal is not None and request.deal_id is not None:
            token = self.tokens.issue(
                request.deal_id,
                request.portal.action,
                request.portal.version,
                sent_to=request.to[0] if request.to else None,
                expires_at=request.portal.expires_at,
            )
            context["link"] = f"{self.base_url}/portal/{token}"
        override = self.override(request)
        if override is not None:
            try:
                return render_text(override, context)
            except (TemplateError, ArithmeticError, TypeError, ValueError):
                # Checked against sample data when saved; should real data still break it,
                # the customer gets the built-in text rather than no e-mail at all.
                pass
        text = self.templates.get_template(f"{request.template}.txt").render(**context)
        first, _, body = text.partition("\n")
        # A header is one line: a CR or LF from data (a company name) would make it invalid.
        subject = " ".join(first.removeprefix("Subject:").split())
        return subject, body.lstrip("\n")

    def override(self, request: EmailRequest) -> TemplateText | None:
        """An admin's wording of a customer e-mail: in the contact's language, else in the
        company's default language; None: the built-in file."""
        if request.template not in CUSTOMER_EMAILS or request.deal_id is None:
            return None
        language = self.overrides.contact_language(request.deal_id)
        tried = languages_to_try(language, self.default_language)
        return self.overrides.first_of(request.template, tried)

    def send(self, request: EmailRequest) -> str:
        """Write the outbox row (once), send it unless already sent; its Message-ID.

        For deals started before the outbox relay (workflows/legacy): the row is marked
        `sending`, not `pending`, so the relay leaves it to this activity."""
        with self.engine.begin() as conn:
            row = conn.execute(select(emails).where(emails.c.key == request.key)).first()
            if row is None:
                subject, body = self.render(request)
                conn.execute(
                    insert(emails)
                    .values(
                        key=request.key,
                        deal_id=request.deal_id,
                        kind=request.template,
                        recipients=self.recipients(request),
                        subject=subject,
                        body=body,
                        attachments=[a.model_dump(mode="json") for a in request.attachments],
                        message_id=message_id(request.key),
                        status="sending",
                        created_at=datetime.now(UTC),
                    )
                    .on_conflict_do_nothing()
                )
                row = conn.execute(select(emails).where(emails.c.key == request.key)).one()
        if row.status == "sent":
            return str(row.message_id)
        self.deliver(row)
        with self.engine.begin() as conn:
            conn.execute(
                update(emails)
                .where(emails.c.key == request.key)
                .values(status="sent", sent_at=datetime.now(UTC), attempts=emails.c.attempts + 1)
            )
        return str(row.message_id)

    def deliver(self, row: Any) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(row.recipients)
        message["Subject"] = row.subject
        message["Message-ID"] = row.message_id
        message["Date"] = format_datetime(row.created_at)
        message.set_content(row.body)
        for ref in row.attachments:
            name, content = self.documents.attachment(Attachment.model_validate(ref))
            message.add_attachment(content, maintype="application", subtype="pdf", filename=name)
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=30) as client:
            if self.smtp.starttls:
                client.starttls()
            if self.smtp.user:
                client.login(self.smtp.user, self.smtp.password or "")
            client.send_message(message)
