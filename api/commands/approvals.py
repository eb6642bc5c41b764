"""Approvals: an approver decides the step addressed to their role; their inbox."""

from __future__ import annotations

from adapters.storage.views.paging import Page, key_of
from domain.approval import ApprovalStep
from domain.deal import ApprovalCommand, ApprovalDecision
from domain.tasks import PendingApproval
from domain.users import Actor
from workflows.deal import DealWorkflow

from ..services import Services
from .authorization import visible_deal


def decide(
    services: Services, user: Actor, deal_id: str, body: ApprovalDecision
) -> list[ApprovalStep]:
    """Whether `user` may decide (their role's step, never their own deal) is the approval
    policy's to say: the workflow checks it against the deal's steps."""
    visible_deal(services, user, deal_id)
    return services.temporal.update_deal(
        deal_id, DealWorkflow.decide_approval, ApprovalCommand(body=body, actor=user)
    )


def pending(services: Services, user: Actor) -> list[PendingApproval]:
    """The steps waiting for the user's role, on deals they do not own."""
    if user.role is None:
        return []
    return services.views.inbox.pending_approvals(user.role, user.username)


def pending_page(
    services: Services, user: Actor, limit: int, cursor: str | None
) -> Page[PendingApproval]:
    """A page of the user's inbox, oldest request first."""
    if user.role is None:
        key_of(cursor, ())  # a bad cursor is refused for everyone alike
        return Page[PendingApproval](items=[], next_cursor=None)
    return services.views.inbox.pending_page(user.role, user.username, limit, cursor)
