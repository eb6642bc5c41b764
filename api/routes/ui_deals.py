"""The UI's deal pages: the pipeline board, a deal, the approver's inbox, and their forms.

Each form does what its JSON route in deals.py does, with the same checks.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from adapters.storage.reads import DealSummary
from domain.access import Action, can, sees_all_deals
from domain.deal import (
    ApprovalCommand,
    ApprovalDecision,
    DealState,
    Qualification,
    QualifyCommand,
    StageAnswer,
)
from domain.errors import NotFound
from domain.qualification import QualifyDecision
from domain.stages import OPEN_STAGES, DealStage
from workflows.deal import DealWorkflow

from ..deps import Services, ServicesDep, require, visible_deal
from ..ui_auth import UiForm, UiSession, UiUser
from .ui import act, page, ui_router

router = ui_router()
BOARD_COLUMN = 50  # deals shown per stage; the column says when there are more
# The stages a deal that goes well passes through, for the deal page's stage bar.
HAPPY_PATH = (*OPEN_STAGES, DealStage.WON)
Comment = Annotated[str, Form(max_length=2000)]
PAST = {
    "qualify": "qualified",
    "disqualify": "disqualified",
    "approve": "approved",
    "reject": "rejected",
}


def _visible_owner(session: UiSession) -> str | None:
    """None (every owner) for roles that see all deals; else the rep themself."""
    return None if sees_all_deals(session.user) else session.user.username


@router.get("/board")
def board(request: Request, session: UiUser, services: ServicesDep) -> HTMLResponse:
    """Open deals, one column per stage, newest first."""
    columns: list[tuple[DealStage, list[DealSummary], bool]] = []
    for stage in OPEN_STAGES:
        found = services.reads.list_deals(
            owner=_visible_owner(session),
            stage=stage,
            customer_id=None,
            source=None,
            limit=BOARD_COLUMN,
            cursor=None,
        )
        columns.append((stage, found.items, found.next_cursor is not None))
    return page(request, session, "board.html", {"columns": columns})


def _stage_bar(state: DealState) -> list[dict[str, Any]]:
    """The happy path, each stage with when the deal reached it (and the closing stage, if
    the deal left the path)."""
    reached = {entry.stage: entry.at for entry in state.timeline}
    stages: list[DealStage] = list(HAPPY_PATH)
    if state.stage not in HAPPY_PATH:
        stages.append(state.stage)
    return [
        {"stage": stage, "at": reached.get(stage), "current": stage == state.stage}
        for stage in stages
    ]


def _deal_context(deal_id: str, session: UiSession, services: Services) -> dict[str, Any]:
    deal = visible_deal(deal_id, session.user, services)
    state = services.reads.deal_state(deal_id)
    if state is None:
        raise NotFound("deal not found")
    user = session.user
    my_steps = (
        [] if user.role is None else services.reads.pending_approvals(user.role, user.username)
    )
    settings = services.settings
    return {
        "deal": state,
        "stage_bar": _stage_bar(state),
        "history": services.reads.history(deal_id),
        "may_qualify": state.stage == DealStage.QUALIFYING
        and can(user, Action.QUALIFY, deal.owner),
        "my_step": next((p.step for p in my_steps if p.deal_id == deal_id), None),
        "temporal_url": f"{settings.temporal_ui}/namespaces/{settings.temporal_namespace}"
        f"/workflows/deal-{deal_id}",
    }


@router.get("/deals/{deal_id}")
def deal_page(
    deal_id: str, request: Request, session: UiUser, services: ServicesDep
) -> HTMLResponse:
    return page(request, session, "deal.html", _deal_context(deal_id, session, services))


@router.post("/deals/{deal_id}/qualify")
def qualify(
    deal_id: str,
    session: UiForm,
    services: ServicesDep,
    decision: Annotated[QualifyDecision, Form()],
    reason: Comment = "",
) -> RedirectResponse:
    deal = visible_deal(deal_id, session.user, services)

    def command() -> str:
        require(session.user, Action.QUALIFY, deal.owner)
        body = Qualification(decision=decision, reason=reason.strip() or None)
        answer: StageAnswer = services.temporal.update_deal(
            deal_id, DealWorkflow.qualify, QualifyCommand(body=body, actor=session.user)
        )
        return f"Lead {PAST[decision]}: the deal is now {answer.stage.value}."

    return act(f"/ui/deals/{deal_id}", command)


@router.post("/deals/{deal_id}/approvals")
def decide_approval(
    deal_id: str,
    session: UiForm,
    services: ServicesDep,
    decision: Annotated[Literal["approve", "reject"], Form()],
    comment: Comment = "",
    back: Annotated[Literal["deal", "inbox"], Form()] = "deal",
) -> RedirectResponse:
    visible_deal(deal_id, session.user, services)

    def command() -> str:
        body = ApprovalDecision(decision=decision, comment=comment.strip() or None)
        services.temporal.update_deal(
            deal_id, DealWorkflow.decide_approval, ApprovalCommand(body=body, actor=session.user)
        )
        # The update answers once the deal has settled, so Postgres shows where it went.
        now = services.reads.deal(deal_id)
        stage = now.stage.value if now else "closed"
        return f"{PAST[decision].capitalize()} deal {deal_id}: it is now {stage}."

    return act("/ui/inbox" if back == "inbox" else f"/ui/deals/{deal_id}", command)


@router.get("/inbox")
def inbox(request: Request, session: UiUser, services: ServicesDep) -> HTMLResponse:
    """The approval steps waiting for this user's role, on deals they do not own."""
    user = session.user
    pending = (
        [] if user.role is None else services.reads.pending_approvals(user.role, user.username)
    )
    return page(request, session, "inbox.html", {"pending": pending})
