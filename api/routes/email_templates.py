"""Admins: the per-language wording of the e-mails customers receive."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response

from adapters.storage.email_templates import StoredTemplate
from domain.email_templates import TemplateText

from ..commands import email_templates as commands
from ..commands.email_templates import EmailTemplateOut, EmailTemplateSummary, Rendered
from ..deps import CurrentUser, ServicesDep

router = APIRouter(tags=["email templates"])

TemplateName = Annotated[str, Path(pattern=r"^[a-z_]{1,64}$")]
LanguageCode = Annotated[str, Path(pattern=r"^[a-z]{2}$", description="ISO 639-1")]


@router.get("/email-templates")
def list_templates(user: CurrentUser, services: ServicesDep) -> list[EmailTemplateSummary]:
    """The customer e-mails, each with the languages an admin reworded it in."""
    return commands.list_templates(services, user)


@router.get("/email-templates/{template}/{language}")
def get_template(
    template: TemplateName, language: LanguageCode, user: CurrentUser, services: ServicesDep
) -> EmailTemplateOut:
    """The override in that language, or the built-in text (`overridden: false`)."""
    return commands.get_template(services, user, template, language)


@router.post("/email-templates/{template}/preview")
def preview_template(
    template: TemplateName, body: TemplateText, user: CurrentUser, services: ServicesDep
) -> Rendered:
    """The text rendered with sample data; 422 naming `subject` or `body` if it is not valid."""
    return commands.preview_template(services, user, template, body)


@router.put("/email-templates/{template}/{language}", operation_id="save_email_template")
def save_template(
    template: TemplateName,
    language: LanguageCode,
    body: TemplateText,
    user: CurrentUser,
    services: ServicesDep,
) -> StoredTemplate:
    """Customers whose contact speaks `language` receive this text from now on."""
    return commands.save_template(services, user, template, language, body, datetime.now(UTC))


@router.delete(
    "/email-templates/{template}/{language}",
    status_code=204,
    operation_id="remove_email_template",
)
def remove_template(
    template: TemplateName, language: LanguageCode, user: CurrentUser, services: ServicesDep
) -> Response:
    commands.remove_template(services, user, template, language, datetime.now(UTC))
    return Response(status_code=204)
