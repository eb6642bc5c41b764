"""Deals: read one, list them, their history; qualify, close lost, cancel, resume, reassign."""

from __future__ import annotations

from pydantic import BaseModel

from adapters.storage.views.deals import DealFilter, DealPage, DealRow, DealSummary
from adapters.storage.views.paging import Page
from domain.access import Action, can
from domain.approval import ApprovalStep
from domain.audit import AuditEvent, check_chain
from domain.deal import (
    CancelCommand,
    CancelRequest,
    CloseLostCommand,
    CloseLostRequest,
    DealState,
    Qualification,
    QualifyCommand,
    ReassignCommand,
    Reassignment,
    ResumeCommand,
    StageAnswer,
)
from domain.stages import OPEN_STAGES, DealStage
from domain.users import Actor
from domain.win_score import WinScore
from workflows.deal import DealWorkflow

from ..services import Services
from .authorization import authorize, owner_scope, visible_deal, visible_state
from .leads import seller

BOARD_COLUMN = 50  # deals shown per stage; the column says when there are more


class ChainCheck(BaseModel):
    deal_id: str
    events: int
    intact: bool
    first_broken_seq: int | None
    reason: str | None = None


class DealDetail(DealState):
    """A deal with its chance to be won: the win model's while it is open (or the stage rule
    while the rules are in charge); None once it closed."""

    win_probability: WinScore | None = None


class DealPageView(BaseModel):
    """What the UI's deal page shows: the deal, its history, and what the user may do."""

    deal: DealState
    win_probability: WinScore | None = None
    history: list[AuditEvent]
    may_qualify: bool
    my_step: ApprovalStep | None
    summary: DealSummary | None = None  # the figure the board shows, so both show the same


class BoardColumn(BaseModel):
    stage: DealStage
    deals: list[DealSummary]
    more: bool


def list_deals(
    services: Services,
    user: Actor,
    where: DealFilter,
    limit: int,
    cursor: str | None = None,
) -> DealPage:
    """A rep lists their own deals only (asking for another owner's finds nothing)."""
    scope = owner_scope(user)
    if scope is not None:
        if where.owner not in (None, scope):
            return DealPage(items=[], next_cursor=None)
        where = where.model_copy(update={"owner": scope})
    return services.views.deals.page(where, limit, cursor)


def board(services: Services, user: Actor) -> list[BoardColumn]:
    """Open deals, one column per stage, newest first."""
    columns = []
    for stage in OPEN_STAGES:
        found = services.views.deals.page(
            DealFilter(owner=owner_scope(user), stage=stage), BOARD_COLUMN, None
        )
        columns.append(
            BoardColumn(stage=stage, deals=found.items, more=found.next_cursor is not None)
        )
    return columns


def deal(services: Services, user: Actor, deal_id: str) -> DealState:
    return visible_state(services, user, deal_id)


def deal_detail(services: Services, user: Actor, deal_id: str) -> DealDetail:
    """The deal and its win probability (the scorer's few statements after the deal's)."""
    state = visible_state(services, user, deal_id)
    return DealDetail.model_construct(
        **dict(state), win_probability=win_probability(services, deal_id)
    )


def win_probability(services: Services, deal_id: str) -> WinScore | None:
    """None for a closed deal (adapters/storage/win_scores.py scores open ones only)."""
    return services.win_scores.scores([deal_id]).get(deal_id)


def deal_row(services: Services, user: Actor, deal_id: str) -> DealRow:
    """Where the deal stands (stage, owner), cheaply."""
    return visible_deal(services, user, deal_id)


def deal_page(services: Services, user: Actor, deal_id: str) -> DealPageView:
    state = visible_state(services, user, deal_id)
    mine = (
        []
        if user.role is None
        else services.views.inbox.pending_approvals(user.role, user.username)
    )
    return DealPageView(
        deal=state,
        history=services.views.deals.history(deal_id),
        may_qualify=state.stage == DealStage.QUALIFYING and can(user, Action.QUALIFY, state.owner),
        my_step=next((p.step for p in mine if p.deal_id == deal_id), None),
        summary=services.views.deals.summary(deal_id),
        win_probability=win_probability(services, deal_id),
    )


def history_page(
    services: Services, user: Actor, deal_id: str, limit: int, cursor: str | None
) -> Page[AuditEvent]:
    """A page of the deal's audit events, oldest first."""
    visible_deal(services, user, deal_id)
    return services.views.deals.history_page(deal_id, limit, cursor)


def verify_history(services: Services, user: Actor, deal_id: str) -> ChainCheck:
    """Recompute the deal's keyed audit chain and compare its signed head: intact, or the
    first event that was altered or is missing."""
    visible_deal(services, user, deal_id)
    events, head = services.views.deals.chain(deal_id)
    verdict = check_chain(events, head, services.settings.audit_secret)
    return ChainCheck(
        deal_id=deal_id,
        events=len(events),
        intact=verdict.first_broken_seq is None,
        first_broken_seq=verdict.first_broken_seq,
        reason=verdict.reason,
    )


def qualify(services: Services, user: Actor, deal_id: str, body: Qualification) -> StageAnswer:
    found = visible_deal(services, user, deal_id)
    authorize(user, Action.QUALIFY, found.owner)
    return services.temporal.update_deal(
        deal_id, DealWorkflow.qualify, QualifyCommand(body=body, actor=user)
    )


def cancel(services: Services, user: Actor, deal_id: str, body: CancelRequest) -> StageAnswer:
    found = visible_deal(services, user, deal_id)
    authorize(user, Action.CANCEL, found.owner)
    return services.temporal.update_deal(
        deal_id, DealWorkflow.cancel, CancelCommand(body=body, actor=user)
    )


def close_lost(
    services: Services, user: Actor, deal_id: str, body: CloseLostRequest
) -> StageAnswer:
    """The owner gives a deal up before signature (after a rejection, say): LOST."""
    found = visible_deal(services, user, deal_id)
    authorize(user, Action.CLOSE_LOST, found.owner)
    return services.temporal.update_deal(
        deal_id, DealWorkflow.close_lost, CloseLostCommand(body=body, actor=user)
    )


def resume(services: Services, user: Actor, deal_id: str) -> StageAnswer:
    """A deal blocked by a refused step (see `blocked` on the deal) tries it again."""
    found = visible_deal(services, user, deal_id)
    authorize(user, Action.RESUME, found.owner)
    return services.temporal.update_deal(deal_id, DealWorkflow.resume, ResumeCommand(actor=user))


def reassign(services: Services, user: Actor, deal_id: str, body: Reassignment) -> DealState:
    visible_deal(services, user, deal_id)
    authorize(user, Action.ASSIGN_OWNER)
    seller(services, body.owner)
    return services.temporal.update_deal(
        deal_id, DealWorkflow.reassign, ReassignCommand(body=body, actor=user)
    )
