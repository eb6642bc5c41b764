"""The admin's page for the e-mails customers receive: pick an e-mail and a language, edit
its subject and body with the merge fields in view, preview with sample data, save.

Each form calls the command its JSON route (email_templates.py) calls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from domain.email_templates import TemplateText
from domain.errors import InvalidInput

from ..commands import email_templates as commands
from ..deps import ServicesDep
from ..ui_auth import UiForm, UiUser
from .email_templates import LanguageCode, TemplateName
from .ui import act, page, ui_router

router = ui_router()
Text = Annotated[str, Form(max_length=20000)]


@router.get("/email-templates")
def template_list(request: Request, session: UiUser, services: ServicesDep) -> HTMLResponse:
    templates = commands.list_templates(services, session.user)
    default = services.settings.default_language
    context = {"templates": templates, "default": default}
    return page(request, session, "email_templates.html", context)


@router.get("/email-templates/edit")
def pick(
    template: Annotated[str, Query(pattern=r"^[a-z_]{1,64}$")],
    language: Annotated[str, Query(pattern=r"^[a-z]{2}$")],
) -> RedirectResponse:
    """The list's form: go to the chosen e-mail and language (checked by the next page)."""
    return RedirectResponse(f"/ui/email-templates/{template}/{language}", status_code=303)


@router.get("/email-templates/{template}/{language}")
def template_page(
    template: TemplateName,
    language: LanguageCode,
    request: Request,
    session: UiUser,
    services: ServicesDep,
) -> HTMLResponse:
    found = commands.get_template(services, session.user, template, language)
    return page(request, session, "email_template.html", {"t": found})


@router.post("/email-templates/{template}/{language}", response_model=None)
def template_form(
    template: TemplateName,
    language: LanguageCode,
    request: Request,
    session: UiForm,
    services: ServicesDep,
    subject: Annotated[str, Form(max_length=300)],
    body: Text,
    do: Annotated[Literal["preview", "save", "remove"], Form()],
) -> Response:
    """Preview shows the page again with the rendering (or the refusal, naming the field);
    save and remove go back to the page with what they did."""
    back = f"/ui/email-templates/{template}/{language}"
    if do == "remove":
        at = datetime.now(UTC)

        def remove() -> str:
            commands.remove_template(services, session.user, template, language, at)
            return f"The {language} override of {template} is removed."

        return act(back, remove)
    found = commands.get_template(services, session.user, template, language)
    shown = found.model_copy(update={"subject": subject, "body": body})
    try:
        text = TemplateText(subject=subject, body=body)
        if do == "save":
            at = datetime.now(UTC)
            commands.save_template(services, session.user, template, language, text, at)
            return act(back, lambda: f"Saved: {language} customers get this {template} e-mail.")
        rendered = commands.preview_template(services, session.user, template, text)
    except ValidationError as err:
        field = str(err.errors()[0]["loc"][-1])
        return _refused(request, session, shown, field, err.errors()[0]["msg"])
    except InvalidInput as err:
        field = str(err.field[-1]) if err.field else "body"
        return _refused(request, session, shown, field, err.message)
    return page(request, session, "email_template.html", {"t": shown, "preview": rendered})


def _refused(
    request: Request, session: UiForm, shown: commands.EmailTemplateOut, field: str, why: str
) -> HTMLResponse:
    context = {"t": shown, "error": {"field": field, "message": why}}
    return page(request, session, "email_template.html", context, status=422)
