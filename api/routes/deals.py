"""Deals: list, read, history, and the commands that move them (shared/API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from adapters.storage.reads import DealPage, PendingApproval
from domain.access import Action, sees_all_deals
from domain.approval import ApprovalStep
from domain.audit import AuditEvent, first_broken_link
from domain.catalogue import PriceBook
from domain.deal import (
    ApprovalCommand,
    ApprovalDecision,
    CancelCommand,
    CancelRequest,
    DealState,
    DeliveryCommand,
    Qualification,
    QualifyCommand,
    QuoteCommand,
    ResumeCommand,
    StageAnswer,
)
from domain.errors import InvalidInput, NotFound
from domain.leads import LeadSource
from domain.orders import DeliveryRequest, Order
from domain.quotes import Quote, QuoteRequest
from domain.stages import DealStage
from workflows.deal import DealWorkflow

from ..deps import CurrentUser, ServicesDep, require, visible_deal
from ..idempotency import IdempotencyDep

router = APIRouter(tags=["deals"])


def _cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    at, _, deal_id = cursor.partition("|")
    try:
        return datetime.fromisoformat(at), deal_id
    except ValueError:
        raise InvalidInput("not a cursor this API gave", field=("cursor",)) from None


@router.get("/deals")
def list_deals(
    user: CurrentUser,
    services: ServicesDep,
    stage: DealStage | None = None,
    owner: str | None = None,
    customer_id: str | None = None,
    source: LeadSource | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> DealPage:
    if not sees_all_deals(user):
        if owner not in (None, user.username):
            return DealPage(items=[], next_cursor=None)
        owner = user.username
    return services.reads.list_deals(
        owner=owner,
        stage=stage,
        customer_id=customer_id,
        source=source,
        limit=limit,
        cursor=_cursor(cursor),
    )


@router.get("/deals/{deal_id}")
def get_deal(deal_id: str, user: CurrentUser, services: ServicesDep) -> DealState:
    visible_deal(deal_id, user, services)
    state = services.reads.deal_state(deal_id)
    if state is None:
        raise NotFound("deal not found")
    return state


@router.get("/deals/{deal_id}/history")
def deal_history(deal_id: str, user: CurrentUser, services: ServicesDep) -> list[AuditEvent]:
    visible_deal(deal_id, user, services)
    return services.reads.history(deal_id)


class ChainCheck(BaseModel):
    deal_id: str
    events: int
    intact: bool
    first_broken_seq: int | None


@router.get("/deals/{deal_id}/history/verify")
def verify_history(deal_id: str, user: CurrentUser, services: ServicesDep) -> ChainCheck:
    """Recompute the deal's audit hash chain: intact, or the first event that was altered."""
    visible_deal(deal_id, user, services)
    events = services.reads.history(deal_id)
    broken = first_broken_link(events)
    return ChainCheck(
        deal_id=deal_id, events=len(events), intact=broken is None, first_broken_seq=broken
    )


@router.post("/deals/{deal_id}/qualify")
def qualify(
    deal_id: str, body: Qualification, user: CurrentUser, services: ServicesDep
) -> StageAnswer:
    deal = visible_deal(deal_id, user, services)
    require(user, Action.QUALIFY, deal.owner)
    answer: StageAnswer = services.temporal.update_deal(
        deal_id, DealWorkflow.qualify, QualifyCommand(body=body, actor=user)
    )
    return answer


@router.post("/deals/{deal_id}/quotes", status_code=201, response_model=Quote)
def create_quote(
    deal_id: str,
    body: QuoteRequest,
    user: CurrentUser,
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    deal = visible_deal(deal_id, user, services)
    require(user, Action.QUOTE, deal.owner)

    def submit() -> Quote:
        # The prices of the quoted SKUs go with the command, so history shows what priced it.
        book: PriceBook = services.reads.price_book(skus={line.sku for line in body.lines})
        quote: Quote = services.temporal.update_deal(
            deal_id,
            DealWorkflow.submit_quote,
            QuoteCommand(request=body, price_book=book, actor=user),
        )
        return quote

    return idempotency.respond(body, 201, submit)


@router.post("/deals/{deal_id}/approvals")
def decide_approval(
    deal_id: str, body: ApprovalDecision, user: CurrentUser, services: ServicesDep
) -> list[ApprovalStep]:
    visible_deal(deal_id, user, services)
    steps: list[ApprovalStep] = services.temporal.update_deal(
        deal_id, DealWorkflow.decide_approval, ApprovalCommand(body=body, actor=user)
    )
    return steps


@router.post("/deals/{deal_id}/deliveries")
def record_delivery(
    deal_id: str, body: DeliveryRequest, user: CurrentUser, services: ServicesDep
) -> Order:
    deal = visible_deal(deal_id, user, services)
    require(user, Action.DELIVER, deal.owner)
    order: Order = services.temporal.update_deal(
        deal_id, DealWorkflow.record_delivery, DeliveryCommand(request=body, actor=user)
    )
    return order


@router.post("/deals/{deal_id}/cancel")
def cancel_deal(
    deal_id: str, body: CancelRequest, user: CurrentUser, services: ServicesDep
) -> StageAnswer:
    deal = visible_deal(deal_id, user, services)
    require(user, Action.CANCEL, deal.owner)
    answer: StageAnswer = services.temporal.update_deal(
        deal_id, DealWorkflow.cancel, CancelCommand(body=body, actor=user)
    )
    return answer


@router.post("/deals/{deal_id}/resume")
def resume_deal(deal_id: str, user: CurrentUser, services: ServicesDep) -> StageAnswer:
    """A deal blocked by a refused step (see `blocked` on the deal) tries it again."""
    deal = visible_deal(deal_id, user, services)
    require(user, Action.RESUME, deal.owner)
    answer: StageAnswer = services.temporal.update_deal(
        deal_id, DealWorkflow.resume, ResumeCommand(actor=user)
    )
    return answer


@router.get("/approvals")
def my_approvals(user: CurrentUser, services: ServicesDep) -> list[PendingApproval]:
    if user.role is None:
        return []
    return services.reads.pending_approvals(user.role, user.username)
