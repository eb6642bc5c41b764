"""The admins' overrides of customer e-mails, per template and language; each change is an
audit event on its own chain (`email-templates`), in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert

from domain.email_templates import TemplateText

from .audit import append_event
from .tables import contacts, deals, email_templates

EMAIL_TEMPLATES_CHAIN = "email-templates"


class StoredTemplate(BaseModel):
    template: str
    language: str
    text: TemplateText
    updated_by: str
    updated_at: datetime


class EmailTemplateStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, template: str, language: str) -> StoredTemplate | None:
        query = select(email_templates).where(
            email_templates.c.template == template, email_templates.c.language == language
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _stored(row)

    def first_of(self, template: str, languages: list[str]) -> TemplateText | None:
        """The override in the first of `languages` that has one (one read)."""
        query = select(email_templates).where(
            email_templates.c.template == template, email_templates.c.language.in_(languages)
        )
        with self.engine.connect() as conn:
            found = {row.language: row for row in conn.execute(query)}
        for language in languages:
            if language in found:
                return _stored(found[language]).text
        return None

    def all(self) -> list[StoredTemplate]:
        query = select(email_templates).order_by(
            email_templates.c.template, email_templates.c.language
        )
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def put(self, template: str, language: str, text: TemplateText, by: str, at: datetime) -> None:
        values = {"subject": text.subject, "body": text.body, "updated_by": by, "updated_at": at}
        with self.engine.begin() as conn:
            conn.execute(
                insert(email_templates)
                .values(template=template, language=language, **values)
                .on_conflict_do_update(index_elements=["template", "language"], set_=values)
            )
            append_event(
                conn,
                EMAIL_TEMPLATES_CHAIN,
                f"{template}:{language}:{at.isoformat()}",
                at,
                by,
                "email_template.changed",
                {"template": template, "language": language, **text.model_dump()},
            )

    def remove(self, template: str, language: str, by: str, at: datetime) -> bool:
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(email_templates)
                .where(
                    email_templates.c.template == template,
                    email_templates.c.language == language,
                )
                .returning(email_templates.c.template)
            ).first()
            if gone is None:
                return False
            append_event(
                conn,
                EMAIL_TEMPLATES_CHAIN,
                f"{template}:{language}:removed:{at.isoformat()}",
                at,
                by,
                "email_template.removed",
                {"template": template, "language": language},
            )
        return True

    def contact_language(self, deal_id: str) -> str | None:
        """The language of the deal's contact (None: they named none)."""
        query = (
            select(contacts.c.language)
            .join(deals, deals.c.contact_id == contacts.c.contact_id)
            .where(deals.c.deal_id == deal_id)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()


def _stored(row: object) -> StoredTemplate:
    r = row._mapping  # type: ignore[attr-defined]
    return StoredTemplate(
        template=r["template"],
        language=r["language"],
        text=TemplateText(subject=r["subject"], body=r["body"]),
        updated_by=r["updated_by"],
        updated_at=r["updated_at"],
    )
