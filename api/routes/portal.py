"""The customer portal: a signed link shows a quote or contract and takes the answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict

from adapters.portal_tokens import PortalClaim
from domain.access import Action
from domain.deal import (
    CustomerAnswer,
    DealState,
    QuoteAnswerCommand,
    SignatureIn,
    SignCommand,
    StageAnswer,
)
from domain.errors import NotAllowed, NotFound, WrongStage
from domain.messages import PortalAction
from workflows.deal import DealWorkflow

from ..deps import CurrentUser, Services, ServicesDep, require, visible_deal
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


class PortalLinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: PortalAction


class PortalLinkOut(BaseModel):
    url: str
    action: PortalAction
    version: int


@router.post("/deals/{deal_id}/portal-link")
def portal_link(
    deal_id: str, body: PortalLinkRequest, user: CurrentUser, services: ServicesDep
) -> PortalLinkOut:
    """The customer's link to the open quote or the contract, to resend it by hand."""
    deal = visible_deal(deal_id, user, services)
    require(user, Action.QUOTE, deal.owner)
    state = services.reads.deal_state(deal_id)
    assert state is not None
    if body.action == "quote":
        open_quotes = [q.version for q in state.quotes if q.status == "open"]
        version = open_quotes[-1] if open_quotes else None
    else:
        signable = state.stage == "AWAITING_SIGNATURE" and state.contract is not None
        version = state.contract.version if signable and state.contract else None
    if version is None:
        raise WrongStage(f"there is no {body.action} waiting for the customer")
    token = services.portal.issue(deal_id, body.action, version)
    return PortalLinkOut(
        url=f"{services.settings.base_url}/portal/{token}", action=body.action, version=version
    )


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
