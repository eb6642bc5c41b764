"""AWAITING_APPROVAL, the deal's control point: draft the contract from the quote, ask each
group of approvers, remind and escalate the slow ones, keep earlier approvals that still hold.
Since `APPROVE_FIRST` this comes before the customer sees the quote, and is skipped when
nothing needs asking."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import effects as fx
    from domain.approval import ApprovalStep, StepStatus, carry_over, check_approver
    from domain.contract import draft_contract
    from domain.deal import ApprovalCommand
    from domain.errors import Conflict, DomainError
    from domain.quotes import Quote
    from domain.stages import DealStage

from .asking import Asking
from .credit import credit_checked
from .effects import DealEffects

OPEN = (StepStatus.WAITING, StepStatus.PENDING)


class Approval:
    def __init__(self, deal: DealEffects) -> None:
        self.deal = deal
        self.decisions: list[tuple[str, ApprovalCommand]] = []  # (update id, command), in order
        self.decided: dict[str, DomainError | None] = {}  # update id -> refusal, if any
        self._seq = 0
        self._approved_quote: Quote | None = None  # the quote of the latest approval round
        self.rejected_by = ""  # who rejected the latest round, and why
        self.rejection = ""

    async def approved(self, quote: Quote) -> bool:
        """Draft the contract and have it approved, group by group; False on a rejection."""
        d = self.deal
        if not d.approve_first:
            d.enter(DealStage.AWAITING_APPROVAL)
        version = await self.draft(quote)
        if d.approve_first and any(s.status is not StepStatus.APPROVED for s in d.state.approvals):
            d.enter(DealStage.AWAITING_APPROVAL)
        approved = True
        for group in sorted({step.group for step in d.state.approvals}):
            if not await self.approve_group(version, group, quote):
                self.withdraw_open_steps(version)
                approved = False
                break
        for update_id, _ in self.decisions:  # arrived with another one for the same step
            self.decided[update_id] = Conflict("the approval step was already decided")
        self.decisions.clear()
        return approved

    async def draft(self, quote: Quote) -> int:
        d = self.deal
        earlier = d.state.contract
        version = earlier.version + 1 if earlier else 1
        contract = draft_contract(
            version,
            d.deal.deal_id,
            d.customer_name,
            d.deal.lead.contact_name,
            quote,
            workflow.now(),
        )
        steps = await credit_checked(d, d.policy.approval.steps_for(quote), quote)
        if earlier is not None and self._approved_quote is not None:
            steps = carry_over(steps, d.state.approvals, self._approved_quote, quote)
        d.add(fx.DraftContract(contract=contract, steps=steps))
        d.state.contract, d.state.approvals = contract, steps
        self._approved_quote = quote
        return version

    async def approve_group(self, version: int, group: int, quote: Quote) -> bool:
        """Ask every undecided step of the group at once; wait, remind, escalate."""
        asking = self.asking(version)
        follow_ups = asking.ask(group, quote.total, quote.currency, quote.max_discount_pct)

        async def follow_up(kind: str) -> None:
            follow_ups.pop(0)
            asking.follow_up(group, kind)

        while asking.of(group, StepStatus.PENDING):
            await self.deal.follow_up(lambda: bool(self.decisions), list(follow_ups), follow_up)
            if not self.apply_decision(version):
                return False
        return True

    def asking(self, version: int) -> Asking:
        return Asking(
            self.deal,
            f"approval:{version}",
            lambda: self.deal.state.approvals,
            lambda step, action: self.save(version, step, action),
        )

    def apply_decision(self, version: int) -> bool:
        """Record the next decision; False if it rejects the contract."""
        d = self.deal
        # It stays queued until applied, so validators see the step as being decided.
        update_id, cmd = self.decisions[0]
        try:  # checked again: a parallel decision may have taken the step meanwhile
            step = check_approver(d.state.approvals, cmd.actor, d.deal.owner, d.involved)
        except DomainError as refusal:
            self.decisions.pop(0)
            self.decided[update_id] = refusal
            return True
        approved = cmd.body.decision == "approve"
        status = StepStatus.APPROVED if approved else StepStatus.REJECTED
        decided = {
            "status": status,
            "decided_at": workflow.now(),
            "decided_by": cmd.actor.username,
            "comment": cmd.body.comment,
        }
        self.save(
            version, step.model_copy(update=decided), f"approval.{status}", cmd.actor.username
        )
        self.decisions.pop(0)
        self.decided[update_id] = None
        if not approved:
            self.rejected_by = f"{step.role} {cmd.actor.username}"
            self.rejection = cmd.body.comment or "no reason given"
            d.notify(
                "approval_rejected",
                f"approval:{version}:{step.index}:rejected",
                to_user=d.deal.owner,
                role=step.role,
                decided_by=cmd.actor.username,
                comment=cmd.body.comment or "",
            )
        return approved

    def withdraw_if_open(self) -> None:
        """The deal ended while its approval was asked: the asked steps are withdrawn."""
        contract = self.deal.state.contract
        if contract is not None and any(s.status in OPEN for s in self.deal.state.approvals):
            self.withdraw_open_steps(contract.version)

    def withdraw_open_steps(self, version: int) -> None:
        for step in self.deal.state.approvals:
            if step.status in OPEN:
                self.save(
                    version,
                    step.model_copy(update={"status": StepStatus.WITHDRAWN}),
                    "approval.withdrawn",
                )
        for update_id, _ in self.decisions:  # decisions that came too late
            self.decided[update_id] = None
        self.decisions.clear()

    def save(self, version: int, step: ApprovalStep, action: str, actor: str = "system") -> None:
        self.deal.add(
            fx.SaveApprovalStep(contract_version=version, step=step, action=action, actor=actor)
        )
        self.deal.state.approvals = [
            step if s.index == step.index else s for s in self.deal.state.approvals
        ]

    # --- the update ---

    async def decide(self, cmd: ApprovalCommand) -> list[ApprovalStep]:
        self._seq += 1
        update_id = f"decision-{self._seq}"
        self.decisions.append((update_id, cmd))
        await self.deal.settled(lambda: update_id in self.decided)
        refusal = self.decided.get(update_id)
        if refusal is not None:
            raise refusal
        return self.deal.state.approvals

    def check(self, cmd: ApprovalCommand) -> None:
        d = self.deal
        d.require_stage(DealStage.AWAITING_APPROVAL)
        step = check_approver(d.state.approvals, cmd.actor, d.deal.owner, d.involved)
        for _, queued in self.decisions:
            if check_approver(d.state.approvals, queued.actor, d.deal.owner, d.involved) == step:
                raise Conflict(f"the {step.role} step is already being decided")
