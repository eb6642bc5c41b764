"""Asking approvers, one group of a contract version's steps at a time: the request, then a
reminder and an escalation on the policy's timeouts. One helper, so a change order's
approvers are asked, reminded and escalated exactly as a quote's are (approval.py,
change_orders.py); who keeps the steps, and how they wait, is theirs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.approval import ESCALATES_TO, ApprovalStep, StepStatus

from .effects import DealEffects

# A follow-up of the approvers who have not decided: remind them, then escalate.
FollowUps = list[tuple[datetime, str]]


@dataclass
class Asking:
    """The steps of one contract version, asked group by group."""

    deal: DealEffects
    key: str  # e-mail keys start with it: "approval:<version>", "change:<n>:approval"
    steps: Callable[[], list[ApprovalStep]]  # the steps as they stand
    save: Callable[[ApprovalStep, str], None]  # a step changed, with its audit action

    def ask(self, group: int, total: Decimal, currency: str, max_discount: Decimal) -> FollowUps:
        """Ask every undecided step of the group at once; when to remind and escalate."""
        d, asked_at = self.deal, workflow.now()
        for step in self.of(group, StepStatus.WAITING):
            self.save(
                step.model_copy(update={"status": StepStatus.PENDING, "requested_at": asked_at}),
                "approval.requested",
            )
            d.notify(
                "approval_requested",
                f"{self.key}:{step.index}",
                to_role=step.role,
                exclude_user=d.deal.owner,
                role=step.role,
                total=str(total),
                currency=currency,
                max_discount=str(max_discount),
            )
        policy = d.policy.approval
        return [
            (asked_at + d.policy.days(policy.remind_after_days), "remind"),
            (asked_at + d.policy.days(policy.escalate_after_days), "escalate"),
        ]

    def follow_up(self, group: int, kind: str) -> None:
        """Remind the approvers who have not decided, or escalate to the role above them."""
        d = self.deal
        for step in self.of(group, StepStatus.PENDING):
            up = ESCALATES_TO.get(step.role)
            if kind == "remind" or up is None:
                d.notify(
                    "approval_reminder",
                    f"{self.key}:{step.index}:{kind}",
                    to_role=step.role,
                    exclude_user=d.deal.owner,
                    role=step.role,
                    since=str(step.requested_at),
                )
                continue
            self.save(step.model_copy(update={"escalated_to": up}), "approval.escalated")
            d.notify(
                "approval_escalated",
                f"{self.key}:{step.index}:escalated",
                to_role=up,
                exclude_user=d.deal.owner,
                role=step.role,
                escalated_to=up,
                since=str(step.requested_at),
            )

    async def follow_up_until(
        self, group: int, follow_ups: FollowUps, decided: Callable[[], bool]
    ) -> None:
        """On timers of its own, for steps asked outside the deal's run (a change order's):
        each follow-up as it falls due, committed, until `decided`."""
        for due, kind in follow_ups:
            try:
                await workflow.wait_condition(decided, timeout=due - workflow.now())
                return
            except TimeoutError:
                self.follow_up(group, kind)
                await self.deal.commit()

    def of(self, group: int, status: StepStatus) -> list[ApprovalStep]:
        return [s for s in self.steps() if s.group == group and s.status is status]
