"""The customer portal: a signed link shows a quote or contract and takes the answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates

from adapters.portal_tokens import PortalClaim
from domain.deal import (
    CustomerAnswer,
    DealState,
    QuoteAnswerCommand,
    SignatureIn,
    SignCommand,
    StageAnswer,
)
from domain.errors import NotAllowed, NotFound
from domain.messages import PortalAction
from workflows.deal import DealWorkflow

from ..deps import Services, ServicesDep
from . import TEMPLATES

router = APIRouter(tags=["portal"])
templates = Jinja2Templates(directory=TEMPLATES)


def _claim(token: str, services: Services, action: PortalAction | None = None) -> PortalClaim:
    claim = services.portal.verify(token)
    if claim is None:
        raise NotFound("this link is not valid or has expired")
    if action is not None and claim.action != action:
        raise NotAllowed(f"this link is for the {claim.action}, not the {action}")
    return claim


def _document(claim: PortalClaim, state: DealState) -> dict[str, Any]:
    view: dict[str, Any] = {
        "deal_id": claim.deal_id,
        "action": claim.action,
        "version": claim.version,
        "stage": state.stage,
        "company": state.customer.name if state.customer else None,
    }
    if claim.action == "quote":
        quote = next((q for q in state.quotes if q.version == claim.version), None)
        if quote is None:
            raise NotFound("this link is not valid or has expired")
        view["quote"] = quote.model_dump(mode="json")
    else:
        if state.contract is None or state.contract.version != claim.version:
            raise NotFound("this link is not valid or has expired")
        view["contract"] = state.contract.model_dump(mode="json")
    return view


@router.get("/portal/{token}", response_model=None)
def show(token: str, request: Request, services: ServicesDep) -> Response:
    claim = _claim(token, services)
    state = services.reads.deal_state(claim.deal_id)
    if state is None:
        raise NotFound("this link is not valid or has expired")
    view = _document(claim, state)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(view)
    return templates.TemplateResponse(request, "portal.html", {"view": view, "token": token})


@router.get("/portal/{token}/pdf", response_model=None)
def quote_pdf(token: str, services: ServicesDep) -> Response:
    """The quote as the PDF the customer received."""
    claim = _claim(token, services, "quote")
    content = services.documents.quote(claim.deal_id, claim.version)
    if content is None:
        raise NotFound("this link is not valid or has expired")
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="quote-v{claim.version}.pdf"'},
    )


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/portal/{token}/accept")
def accept(token: str, request: Request, services: ServicesDep) -> StageAnswer:
    claim = _claim(token, services, "quote")
    answer: StageAnswer = services.temporal.update_deal(
        claim.deal_id,
        DealWorkflow.answer_quote,
        QuoteAnswerCommand(version=claim.version, accept=True, ip=_ip(request)),
    )
    return answer


@router.post("/portal/{token}/reject")
def reject(
    token: str, request: Request, services: ServicesDep, body: CustomerAnswer | None = None
) -> StageAnswer:
    claim = _claim(token, services, "quote")
    answer: StageAnswer = services.temporal.update_deal(
        claim.deal_id,
        DealWorkflow.answer_quote,
        QuoteAnswerCommand(
            version=claim.version,
            accept=False,
            reason=body.reason if body else None,
            ip=_ip(request),
        ),
    )
    return answer


@router.post("/portal/{token}/sign")
def sign(token: str, body: SignatureIn, request: Request, services: ServicesDep) -> StageAnswer:
    claim = _claim(token, services, "contract")
    answer: StageAnswer = services.temporal.update_deal(
        claim.deal_id,
        DealWorkflow.sign_contract,
        SignCommand(version=claim.version, name=body.name, ip=_ip(request)),
    )
    return answer
