"""The dev mail viewer: what the SMTP sink of `l2c dev` received, at /ui/mail.

Only `l2c dev` tells the API where its Maildir is (`L2C_MAILDIR`); elsewhere these pages
are 404. Any signed-in user may read them: in dev, every mailbox is the developer's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from adapters.embedded.maildir import list_mail, read_mail
from domain.errors import NotFound

from ..deps import ServicesDep
from ..ui_auth import UiUser
from .ui import page, ui_router

router = ui_router()


def dev_maildir(services: ServicesDep) -> Path:
    """The Maildir, or 404 when this API does not run under `l2c dev`."""
    if services.settings.maildir is None:
        raise NotFound("no such page")
    return services.settings.maildir


MaildirDep = Annotated[Path, Depends(dev_maildir)]


@router.get("/mail")
def mail_list(request: Request, maildir: MaildirDep, session: UiUser) -> HTMLResponse:
    return page(request, session, "mail.html", {"messages": list_mail(maildir)})


@router.get("/mail/{key}")
def mail_message(request: Request, maildir: MaildirDep, session: UiUser, key: str) -> HTMLResponse:
    mail = read_mail(maildir, key)
    if mail is None:
        raise NotFound("no such message")
    return page(request, session, "mail_message.html", {"mail": mail})
