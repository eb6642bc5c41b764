"""Deals: list, read, history, and the commands that move them (shared/API.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from adapters.storage.views.deals import DealFilter, DealPage
from adapters.storage.views.paging import Page
from domain.approval import ApprovalStep
from domain.audit import AuditEvent
from domain.change_orders import ChangeOrder, ChangeOrderRequest
from domain.deal import (
    ApprovalDecision,
    CancelRequest,
    CloseLostRequest,
    Qualification,
    StageAnswer,
)
from domain.leads import LeadSource
from domain.orders import DeliveryRequest, Order
from domain.quotes import Quote, QuoteRequest
from domain.stages import DealStage
from domain.tasks import PendingApproval

from ..commands import approvals, change_orders, deals, deliveries, quotes
from ..commands.deals import ChainCheck
from ..deps import CurrentUser, PageCursor, PageLimit, ServicesDep
from ..idempotency import IdempotencyDep

router = APIRouter(tags=["deals"])


@router.get("/deals")
def list_deals(
    user: CurrentUser,
    services: ServicesDep,
    stage: DealStage | None = None,
    owner: str | None = None,
    customer_id: str | None = None,
    source: LeadSource | None = None,
    min_amount: Annotated[Decimal | None, Query(ge=0)] = None,
    max_amount: Annotated[Decimal | None, Query(ge=0)] = None,
    closed: bool | None = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> DealPage:
    """Newest first; `closed` true lists ended deals only, false open ones only."""
    where = DealFilter(
        owner=owner,
        stage=stage,
        customer_id=customer_id,
        source=source,
        min_amount=min_amount,
        max_amount=max_amount,
        closed=closed,
    )
    return deals.list_deals(services, user, where, limit, cursor)


@router.get("/deals/{deal_id}")
def get_deal(deal_id: str, user: CurrentUser, services: ServicesDep) -> deals.DealDetail:
    return deals.deal_detail(services, user, deal_id)


@router.get("/deals/{deal_id}/history")
def deal_history(
    deal_id: str,
    user: CurrentUser,
    services: ServicesDep,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Page[AuditEvent]:
    """The deal's audit events, oldest first."""
    return deals.history_page(services, user, deal_id, limit, cursor)


@router.get("/deals/{deal_id}/history/verify")
def verify_history(deal_id: str, user: CurrentUser, services: ServicesDep) -> ChainCheck:
    """Recompute the deal's audit hash chain: intact, or the first event that was altered."""
    return deals.verify_history(services, user, deal_id)


@router.post("/deals/{deal_id}/qualify")
def qualify(
    deal_id: str, body: Qualification, user: CurrentUser, services: ServicesDep
) -> StageAnswer:
    return deals.qualify(services, user, deal_id, body)


@router.post("/deals/{deal_id}/quotes", status_code=201, response_model=Quote)
def create_quote(
    deal_id: str,
    body: QuoteRequest,
    user: CurrentUser,
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    submit = quotes.submit_quote(services, user, deal_id, body)
    return idempotency.respond(body, 201, submit)


@router.post("/deals/{deal_id}/change-orders", status_code=201, response_model=ChangeOrder)
def create_change_order(
    deal_id: str,
    body: ChangeOrderRequest,
    user: CurrentUser,
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """The whole new set of lines of a signed deal; approved on its delta, then signed."""
    send = change_orders.request_change(services, user, deal_id, body)
    return idempotency.respond(body, 201, send)


@router.post("/deals/{deal_id}/approvals")
def decide_approval(
    deal_id: str, body: ApprovalDecision, user: CurrentUser, services: ServicesDep
) -> list[ApprovalStep]:
    return approvals.decide(services, user, deal_id, body)


@router.post("/deals/{deal_id}/deliveries")
def record_delivery(
    deal_id: str, body: DeliveryRequest, user: CurrentUser, services: ServicesDep
) -> Order:
    return deliveries.record_delivery(services, user, deal_id, body)


@router.post("/deals/{deal_id}/cancel")
def cancel_deal(
    deal_id: str, body: CancelRequest, user: CurrentUser, services: ServicesDep
) -> StageAnswer:
    return deals.cancel(services, user, deal_id, body)


@router.post("/deals/{deal_id}/close-lost")
def close_lost(
    deal_id: str, body: CloseLostRequest, user: CurrentUser, services: ServicesDep
) -> StageAnswer:
    """Give the deal up before signature: it ends LOST with the reason."""
    return deals.close_lost(services, user, deal_id, body)


@router.post("/deals/{deal_id}/resume")
def resume_deal(deal_id: str, user: CurrentUser, services: ServicesDep) -> StageAnswer:
    """A deal blocked by a refused step (see `blocked` on the deal) tries it again."""
    return deals.resume(services, user, deal_id)


@router.get("/approvals")
def my_approvals(
    user: CurrentUser,
    services: ServicesDep,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Page[PendingApproval]:
    """The steps waiting for the caller's role, oldest request first."""
    return approvals.pending_page(services, user, limit, cursor)
