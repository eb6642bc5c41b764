"""Cancelling a deal: at once while nothing is invoiced; once it has invoices, a request that
finance decides, since approving it credits what the customer still owes (Step 10)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import effects as fx
    from domain.approval import (
        ApprovalStep,
        StepStatus,
        cancellation_step,
        check_approver,
        pending_cancellation,
    )
    from domain.deal import ApprovalCommand, CancelCommand, StageAnswer
    from domain.errors import Conflict
    from domain.users import Role

from .effects import DealEffects


class Cancellation:
    def __init__(self, deal: DealEffects) -> None:
        self.deal = deal
        self.request: CancelCommand | None = None  # waiting for finance

    def pending(self) -> ApprovalStep | None:
        return pending_cancellation(self.deal.state.approvals)

    async def cancel(self, cmd: CancelCommand) -> StageAnswer:
        d = self.deal
        if not d.state.invoices:
            d.cancel = cmd  # the run loop ends the deal
            await d.settled(lambda: False)
            return d.answer()
        contract = d.state.contract
        assert contract is not None  # invoices come after the signature
        step = cancellation_step(d.state.approvals, cmd.body.reason, workflow.now())
        self.request = cmd
        d.state.approvals = [*d.state.approvals, step]
        asked = fx.AskApproval(
            contract_version=contract.version,
            step=step,
            action="cancellation.requested",
            actor=cmd.actor.username,
        )
        email = d.email(
            "cancellation_requested",
            f"cancellation:{step.index}",
            to_role=Role.FINANCE,
            exclude_user=d.deal.owner,
            requested_by=cmd.actor.username,
            reason=cmd.body.reason,
            invoices=", ".join(i.number for i in d.state.invoices),
        )
        await d.write([asked], [email])
        return d.answer()

    def check_cancel(self) -> None:
        if self.pending() is not None:
            raise Conflict("a cancellation of this deal already waits for finance")

    async def decide(self, cmd: ApprovalCommand) -> list[ApprovalStep]:
        """Finance approves (credit notes, CANCELLED) or rejects (the deal goes on)."""
        d, step = self.deal, self.check(cmd)
        contract, request = d.state.contract, self.request
        assert contract is not None and request is not None
        approved = cmd.body.decision == "approve"
        status = StepStatus.APPROVED if approved else StepStatus.REJECTED
        decided = step.model_copy(
            update={
                "status": status,
                "decided_at": workflow.now(),
                "decided_by": cmd.actor.username,
                "comment": cmd.body.comment,
            }
        )
        d.state.approvals = [decided if s.index == step.index else s for s in d.state.approvals]
        emails = []
        if not approved:
            self.request = None
            emails.append(
                d.email(
                    "cancellation_rejected",
                    f"cancellation:{step.index}:rejected",
                    to_user=d.deal.owner,
                    decided_by=cmd.actor.username,
                    comment=cmd.body.comment or "",
                    stage=d.state.stage,
                )
            )
        saved = fx.SaveApprovalStep(
            contract_version=contract.version,
            step=decided,
            action=f"cancellation.{status}",
            actor=cmd.actor.username,
        )
        await d.write([saved], emails)
        if approved:
            d.cancel = request  # the run loop credits what is owed and ends the deal
            await d.settled(lambda: False)
        return d.state.approvals

    def check(self, cmd: ApprovalCommand) -> ApprovalStep:
        step = self.pending()
        if step is None:
            raise Conflict("no cancellation waits for a decision")
        # Only this step counts: deciding a step of the contract earlier is no conflict here.
        return check_approver([step], cmd.actor, self.deal.deal.owner, self.deal.involved)
