"""Admins reword the e-mails customers receive, per language: list, read, preview with
sample data, save (checked: syntax, known merge fields, renders) and remove an override.
Every save and removal is an audit event (adapters/storage/email_templates.py)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from adapters.email.mailer import TEMPLATES as BUILTIN_TEMPLATES
from adapters.storage.email_templates import EmailTemplateStore, StoredTemplate
from domain.access import Action
from domain.email_templates import (
    CUSTOMER_EMAILS,
    CustomerEmail,
    TemplateText,
    check_text,
    customer_email,
    preview,
    split_builtin,
)
from domain.errors import NotFound
from domain.users import Actor

from ..services import Services
from .authorization import authorize


class EmailTemplateOut(BaseModel):
    """One customer e-mail in one language: the text sent, and whether an admin wrote it."""

    template: str
    title: str
    language: str
    overridden: bool
    subject: str
    body: str
    fields: dict[str, str]
    updated_by: str | None = None
    updated_at: datetime | None = None


class EmailTemplateSummary(BaseModel):
    template: str
    title: str
    languages: list[str]  # the languages with an override


class Rendered(BaseModel):
    subject: str
    body: str


def _store(services: Services) -> EmailTemplateStore:
    return EmailTemplateStore(services.engine)


def builtin_text(email: CustomerEmail) -> TemplateText:
    return split_builtin((BUILTIN_TEMPLATES / f"{email.name}.txt").read_text())


def list_templates(services: Services, user: Actor) -> list[EmailTemplateSummary]:
    authorize(user, Action.MANAGE_EMAIL_TEMPLATES)
    stored = _store(services).all()
    return [
        EmailTemplateSummary(
            template=e.name,
            title=e.title,
            languages=[s.language for s in stored if s.template == e.name],
        )
        for e in CUSTOMER_EMAILS.values()
    ]


def get_template(services: Services, user: Actor, template: str, language: str) -> EmailTemplateOut:
    """The override, or the built-in text to start one from."""
    authorize(user, Action.MANAGE_EMAIL_TEMPLATES)
    email = customer_email(template)
    stored = _store(services).get(template, language)
    text = stored.text if stored else builtin_text(email)
    return EmailTemplateOut(
        template=template,
        title=email.title,
        language=language,
        overridden=stored is not None,
        subject=text.subject,
        body=text.body,
        fields=email.all_fields,
        updated_by=stored.updated_by if stored else None,
        updated_at=stored.updated_at if stored else None,
    )


def preview_template(
    services: Services, user: Actor, template: str, text: TemplateText
) -> Rendered:
    authorize(user, Action.MANAGE_EMAIL_TEMPLATES)
    subject, body = preview(customer_email(template), text)
    return Rendered(subject=subject, body=body)


def save_template(
    services: Services, user: Actor, template: str, language: str, text: TemplateText, at: datetime
) -> StoredTemplate:
    authorize(user, Action.MANAGE_EMAIL_TEMPLATES)
    check_text(customer_email(template), text)
    store = _store(services)
    store.put(template, language, text, user.username, at)
    saved = store.get(template, language)
    assert saved is not None
    return saved


def remove_template(
    services: Services, user: Actor, template: str, language: str, at: datetime
) -> None:
    """Back to the built-in text (or the default language's override)."""
    authorize(user, Action.MANAGE_EMAIL_TEMPLATES)
    customer_email(template)
    if not _store(services).remove(template, language, user.username, at):
        raise NotFound(f"no {language} override of {template}")
