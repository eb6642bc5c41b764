"""The customer portal: a signed link shows a quote or contract and takes the answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates

from domain.deal import CustomerAnswer, PortalLinkSent, SignatureIn, StageAnswer

from ..commands import portal
from ..commands.portal import PortalLinkRequest
from ..deps import CurrentUser, ServicesDep
from . import TEMPLATES

router = APIRouter(tags=["portal"])
templates = Jinja2Templates(directory=TEMPLATES)
# The customer's accept and sign buttons are never shown inside another site's frame.
NO_FRAMING = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never hand it on
}


@router.post("/deals/{deal_id}/portal-link")
def portal_link(
    deal_id: str, body: PortalLinkRequest, user: CurrentUser, services: ServicesDep
) -> PortalLinkSent:
    """The customer's link to the open quote or the contract, to resend it by hand."""
    return portal.portal_link(services, user, deal_id, body.action)


@router.get("/portal/{token}", response_model=None)
def show(token: str, request: Request, services: ServicesDep) -> Response:
    view = portal.document(services, token)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(view, headers=NO_FRAMING)
    return templates.TemplateResponse(
        request, "portal.html", {"view": view, "token": token}, headers=NO_FRAMING
    )


@router.get("/portal/{token}/pdf", response_model=None)
def quote_pdf(token: str, services: ServicesDep) -> Response:
    """The quote as the PDF the customer received."""
    version, content = portal.quote_pdf(services, token)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="quote-v{version}.pdf"'},
    )


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/portal/{token}/accept")
def accept(token: str, request: Request, services: ServicesDep) -> StageAnswer:
    return portal.answer_quote(services, token, accept=True, reason=None, ip=_ip(request))


@router.post("/portal/{token}/reject")
def reject(
    token: str, request: Request, services: ServicesDep, body: CustomerAnswer | None = None
) -> StageAnswer:
    reason = body.reason if body else None
    return portal.answer_quote(services, token, accept=False, reason=reason, ip=_ip(request))


@router.post("/portal/{token}/sign")
def sign(token: str, body: SignatureIn, request: Request, services: ServicesDep) -> StageAnswer:
    return portal.sign(services, token, body.name, _ip(request))
