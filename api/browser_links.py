"""Links in older staff e-mails point at API paths (`/deals/<id>`, `/approvals`). A browser
opening one without a token is sent to the UI's page for it (and so to login, then back
there) instead of a JSON 401; API clients, which send a token or no `text/html`, are not."""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from .errors import domain_error_handler

# API path -> the UI page that shows the same thing; ids as the API gives them.
UI_PAGES = (
    (re.compile(r"/deals/([A-Za-z0-9_-]{1,40})"), "/ui/deals/{}"),
    (re.compile(r"/approvals"), "/ui/inbox"),
)


def ui_page_for(request: Request) -> str | None:
    """The UI page for a browser's GET of an API page without a token, if there is one."""
    if request.method != "GET" or "authorization" in request.headers:
        return None
    if "text/html" not in request.headers.get("accept", ""):
        return None
    for pattern, page in UI_PAGES:
        match = pattern.fullmatch(request.url.path)
        if match:
            return page.format(*match.groups())
    return None


async def unauthenticated_handler(request: Request, exc: Exception) -> Response:
    page = ui_page_for(request)
    if page is not None:
        return RedirectResponse(page, status_code=303)
    answer: JSONResponse = await domain_error_handler(request, exc)
    return answer
