"""Contract approval, the deal's control point: draft the contract, ask each group of
approvers, remind and escalate the slow ones, keep earlier approvals that still hold."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.storage import ContractRecord, CreditQuery, StorageActivities
    from domain.approval import (
        ESCALATES_TO,
        ApprovalStep,
        StepStatus,
        carry_over,
        check_approver,
        with_credit_check,
    )
    from domain.contract import draft_contract
    from domain.errors import Conflict, DomainError
    from domain.quotes import Quote
    from domain.stages import DealStage

    from ..activity_options import STORAGE

from .deal_money import DealMoney

OPEN = (StepStatus.WAITING, StepStatus.PENDING)


class DealApproval(DealMoney):
    async def await_approval(self, quote: Quote) -> bool:
        """Draft the contract and have it approved, group by group; False on a rejection."""
        await self.enter(DealStage.AWAITING_APPROVAL)
        earlier = self._state.contract
        version = earlier.version + 1 if earlier else 1
        contract = draft_contract(
            version,
            self._deal.deal_id,
            self._customer_name,
            self._deal.lead.contact_name,
            quote,
            workflow.now(),
        )
        exposure = await self.effect(
            StorageActivities.read_credit_exposure,
            CreditQuery(deal_id=self._deal.deal_id, currency=quote.currency),
            **STORAGE,
        )
        steps = with_credit_check(
            self._deal.policy.approval.steps_for(quote),
            exposure,
            quote.total,
            self._deal.policy.credit_limit,
            quote.currency,
        )
        if earlier is not None and self._approved_quote is not None:
            steps = carry_over(steps, self._state.approvals, self._approved_quote, quote)
        await self.effect(
            StorageActivities.save_contract,
            ContractRecord(deal_id=self._deal.deal_id, contract=contract, steps=steps),
            **STORAGE,
        )
        self._state.contract, self._state.approvals = contract, steps
        self._approved_quote = quote
        approved = True
        for group in sorted({step.group for step in steps}):
            if not await self.approve_group(version, group, quote):
                await self.withdraw_open_steps(version)
                approved = False
                break
        for update_id, _ in self._decisions:  # arrived with another one for the same step
            self._decided[update_id] = Conflict("the approval step was already decided")
        self._decisions.clear()
        return approved

    async def approve_group(self, version: int, group: int, quote: Quote) -> bool:
        """Ask every undecided step of the group at once; wait, remind, escalate."""
        asked_at = workflow.now()
        for step in self._steps(group, StepStatus.WAITING):
            await self._save_step(
                version,
                step.model_copy(update={"status": StepStatus.PENDING, "requested_at": asked_at}),
                "approval.requested",
            )
            self.notify(
                "approval_requested",
                f"approval:{version}:{step.index}",
                to_role=step.role,
                exclude_user=self._deal.owner,
                role=step.role,
                total=str(quote.total),
                currency=quote.currency,
                max_discount=str(quote.max_discount_pct),
            )
        policy = self._deal.policy.approval
        follow_ups = [
            (policy.remind_after_days, "remind"),
            (policy.escalate_after_days, "escalate"),
        ]
        while self._steps(group, StepStatus.PENDING):
            due = asked_at + self._deal.policy.days(follow_ups[0][0]) if follow_ups else None
            if await self.until(
                lambda: bool(self._decisions), due - workflow.now() if due else None
            ):
                if not await self.apply_decision(version):
                    return False
            else:
                await self.follow_up_approvers(version, group, follow_ups.pop(0)[1])
        return True

    async def apply_decision(self, version: int) -> bool:
        """Record the next decision; False if it rejects the contract."""
        # It stays queued until recorded, so validators see the step as being decided.
        update_id, cmd = self._decisions[0]
        try:  # checked again: a parallel decision may have taken the step meanwhile
            step = check_approver(self._state.approvals, cmd.actor, self._deal.owner)
        except DomainError as refusal:
            self._decisions.pop(0)
            self._decided[update_id] = refusal
            return True
        approved = cmd.body.decision == "approve"
        status = StepStatus.APPROVED if approved else StepStatus.REJECTED
        await self._save_step(
            version,
            step.model_copy(
                update={
                    "status": status,
                    "decided_at": workflow.now(),
                    "decided_by": cmd.actor.username,
                    "comment": cmd.body.comment,
                }
            ),
            f"approval.{status}",
            cmd.actor.username,
        )
        self._decisions.pop(0)
        self._decided[update_id] = None
        if not approved:
            self.notify(
                "approval_rejected",
                f"approval:{version}:{step.index}:rejected",
                to_user=self._deal.owner,
                role=step.role,
                decided_by=cmd.actor.username,
                comment=cmd.body.comment or "",
            )
        return approved

    async def follow_up_approvers(self, version: int, group: int, kind: str) -> None:
        """Remind the approvers who have not decided, or escalate to the role above them."""
        for step in self._steps(group, StepStatus.PENDING):
            up = ESCALATES_TO.get(step.role)
            if kind == "remind" or up is None:
                self.notify(
                    "approval_reminder",
                    f"approval:{version}:{step.index}:{kind}",
                    to_role=step.role,
                    exclude_user=self._deal.owner,
                    role=step.role,
                    since=str(step.requested_at),
                )
                continue
            await self._save_step(
                version, step.model_copy(update={"escalated_to": up}), "approval.escalated"
            )
            self.notify(
                "approval_escalated",
                f"approval:{version}:{step.index}:escalated",
                to_role=up,
                exclude_user=self._deal.owner,
                role=step.role,
                escalated_to=up,
                since=str(step.requested_at),
            )

    async def withdraw_open_steps(self, version: int) -> None:
        for step in self._state.approvals:
            if step.status in OPEN:
                await self._save_step(
                    version,
                    step.model_copy(update={"status": StepStatus.WITHDRAWN}),
                    "approval.withdrawn",
                )
        for update_id, _ in self._decisions:  # decisions that came too late
            self._decided[update_id] = None
        self._decisions.clear()

    def _steps(self, group: int, status: StepStatus) -> list[ApprovalStep]:
        return [s for s in self._state.approvals if s.group == group and s.status is status]
