"""The UI's deal pages: the pipeline board, a deal, the approver's inbox, and their forms.

Each form calls the command its JSON route in deals.py calls, with the same checks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from config import Settings
from domain.deal import ApprovalDecision, DealState, Qualification
from domain.qualification import QualifyDecision
from domain.stages import OPEN_STAGES, DealStage

from ..commands import approvals, deals
from ..commands.tasks import my_tasks, tasks_page
from ..deps import PageCursor, ServicesDep
from ..ui_auth import UiForm, UiUser
from .ui import act, page, ui_router
from .ui_forecast import forecast_panel
from .ui_sales import sales_panel
from .ui_subscriptions import subscriptions_panel

router = ui_router()
# The stages a deal that goes well passes through, for the deal page's stage bar.
HAPPY_PATH = (*OPEN_STAGES, DealStage.WON)
TASKS_SHOWN = 20  # "my tasks", first on the home page
LIST_PAGE = 50  # rows of a page of the inbox and of all tasks
Comment = Annotated[str, Form(max_length=2000)]
PAST = {
    "qualify": "qualified",
    "disqualify": "disqualified",
    "approve": "approved",
    "reject": "rejected",
}


@router.get("/board")
def board(request: Request, session: UiUser, services: ServicesDep) -> HTMLResponse:
    """Open deals, one column per stage, newest first."""
    columns = [(c.stage, c.deals, c.more) for c in deals.board(services, session.user)]
    tasks = my_tasks(services, session.user, datetime.now(UTC), None, TASKS_SHOWN)
    return page(request, session, "board.html", {"columns": columns, "tasks": tasks})


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


def _temporal_url(settings: Settings, deal_id: str) -> str:
    return (
        f"{settings.temporal_ui}/namespaces/{settings.temporal_namespace}/workflows/deal-{deal_id}"
    )


@router.get("/deals/{deal_id}")
def deal_page(
    deal_id: str, request: Request, session: UiUser, services: ServicesDep
) -> HTMLResponse:
    view = deals.deal_page(services, session.user, deal_id)
    context = {
        "deal": view.deal,
        "stage_bar": _stage_bar(view.deal),
        "history": view.history,
        "may_qualify": view.may_qualify,
        "my_step": view.my_step,
        "summary": view.summary,
        "win": view.win_probability,
        "temporal_url": _temporal_url(services.settings, deal_id),
        **sales_panel(services, session.user, view.deal),
        **subscriptions_panel(services, session.user, view.deal),
        **forecast_panel(request, services, session.user, view.deal),
    }
    return page(request, session, "deal.html", context)


@router.post("/deals/{deal_id}/qualify")
def qualify(
    deal_id: str,
    session: UiForm,
    services: ServicesDep,
    decision: Annotated[QualifyDecision, Form()],
    reason: Comment = "",
) -> RedirectResponse:
    def command() -> str:
        body = Qualification(decision=decision, reason=reason.strip() or None)
        answer = deals.qualify(services, session.user, deal_id, body)
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
    def command() -> str:
        body = ApprovalDecision(decision=decision, comment=comment.strip() or None)
        approvals.decide(services, session.user, deal_id, body)
        # The update answers once the deal has settled, so Postgres shows where it went.
        now = deals.deal_row(services, session.user, deal_id)
        return f"{PAST[decision].capitalize()} deal {deal_id}: it is now {now.stage.value}."

    return act("/ui/inbox" if back == "inbox" else f"/ui/deals/{deal_id}", command)


@router.get("/inbox")
def inbox(
    request: Request, session: UiUser, services: ServicesDep, cursor: PageCursor = None
) -> HTMLResponse:
    """The approval steps waiting for this user's role, on deals they do not own, a page
    at a time (oldest request first)."""
    found = approvals.pending_page(services, session.user, LIST_PAGE, cursor)
    context = {"pending": found.items, "next_cursor": found.next_cursor, "cursor": cursor}
    return page(request, session, "inbox.html", context)


@router.get("/tasks")
def all_tasks(
    request: Request, session: UiUser, services: ServicesDep, cursor: PageCursor = None
) -> HTMLResponse:
    """All the user's open tasks, most urgent first, a page at a time."""
    found = tasks_page(services, session.user, datetime.now(UTC), None, LIST_PAGE, cursor)
    context = {"tasks": found.items, "next_cursor": found.next_cursor, "cursor": cursor}
    return page(request, session, "tasks.html", context)
