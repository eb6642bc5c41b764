"""The commands a deal takes, as Updates: validated before history, applied by the run loop.

An accepted command goes in its slot; the `run` loop, which alone moves the deal, applies it.
The handler answers once the effect is recorded and the loop waits again, so a client that
reads after a successful call sees what it did.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.errors import refusals_are_final
    from activities.storage import OwnerChange, QuoteRecord, StorageActivities
    from domain.access import Action, can
    from domain.approval import ApprovalStep, check_approver
    from domain.deal import (
        ApprovalCommand,
        CancelCommand,
        DealState,
        DeliveryCommand,
        QualifyCommand,
        QuoteAnswerCommand,
        QuoteCommand,
        ReassignCommand,
        ResumeCommand,
        SignCommand,
        StageAnswer,
    )
    from domain.errors import Conflict, NotAllowed, WrongStage
    from domain.messages import Attachment, PortalLink
    from domain.orders import Order, check_delivery
    from domain.quotes import Quote, QuoteStatus, price_quote
    from domain.stages import DealStage

    from ..activity_options import STORAGE
    from ..invoice import CollectionUpdate
    from ..search_attributes import DEAL_AMOUNT, DEAL_OWNER


from .deal_approval import DealApproval


class DealCommands(DealApproval):
    """Queries, Updates and signals of the deal workflow."""

    @workflow.query
    def state(self) -> DealState:
        return self._state

    @workflow.update
    async def opened(self) -> DealState:
        """Answers once the lead is recorded and any automatic decision taken (sent with the
        start, so POST /leads can wait); refused when the contact has an open deal."""
        await workflow.wait_condition(
            lambda: (
                self._duplicate_of is not None
                or (
                    self._state.customer is not None and (self._idle or self._state.stage.is_closed)
                )
            )
        )
        if self._duplicate_of is not None:
            duplicate = Conflict(f"this contact already has an open deal: {self._duplicate_of}")
            raise ApplicationError(
                duplicate.message, duplicate.details(), type="Conflict", non_retryable=True
            )
        return self._state

    @workflow.update
    async def reassign(self, cmd: ReassignCommand) -> DealState:
        """A manager gives the deal to another seller (checked to be one by the API)."""
        owner = cmd.body.owner
        await self.effect(
            StorageActivities.reassign_owner,
            OwnerChange(
                deal_id=self._deal.deal_id,
                owner=owner,
                at=workflow.now(),
                actor=cmd.actor.username,
                reason=cmd.body.reason,
            ),
            **STORAGE,
        )
        self._deal = self._deal.model_copy(update={"owner": owner})
        self._state.owner = owner
        workflow.upsert_search_attributes([DEAL_OWNER.value_set(owner)])
        self.notify(
            "deal_reassigned",
            f"owner:{owner}:{workflow.now().isoformat()}",
            to_user=owner,
            by=cmd.actor.username,
            reason=cmd.body.reason or "",
            stage=self._state.stage,
        )
        return self._state

    @reassign.validator
    def _check_reassign(self, cmd: ReassignCommand) -> None:
        with refusals_are_final():
            if not can(cmd.actor, Action.ASSIGN_OWNER):
                raise NotAllowed("only a manager may reassign a deal")
            if self._state.stage.is_closed:
                raise WrongStage(f"the deal is already {self._state.stage}")
            if cmd.body.owner == self._deal.owner:
                raise Conflict(f"{cmd.body.owner} already owns this deal")

    @workflow.update
    async def qualify(self, cmd: QualifyCommand) -> StageAnswer:
        self._qualification = cmd
        await self._settled(lambda: self._state.stage is not DealStage.QUALIFYING)
        return self._stage_answer()

    @qualify.validator
    def _check_qualify(self, cmd: QualifyCommand) -> None:
        with refusals_are_final():
            self._require(Action.QUALIFY, cmd.actor, DealStage.QUALIFYING)
            self._free(self._qualification, "a qualification decision")

    @workflow.update
    async def submit_quote(self, cmd: QuoteCommand) -> Quote:
        async with self._quote_lock:  # versions are saved and sent in the order given
            version = len(self._state.quotes) + 1
            with refusals_are_final():
                quote = price_quote(
                    cmd.request, cmd.price_book, version, workflow.now(), self._deal.policy.day
                )
            await self.effect(
                StorageActivities.save_quote,
                QuoteRecord(deal_id=self._deal.deal_id, quote=quote, actor=cmd.actor.username),
                **STORAGE,
            )
            self._state.quotes = [
                q.model_copy(update={"status": QuoteStatus.SUPERSEDED})
                if q.status is QuoteStatus.OPEN
                else q
                for q in self._state.quotes
            ] + [quote]
            self._open_version = version
            workflow.upsert_search_attributes([DEAL_AMOUNT.value_set(float(quote.net_total))])
            self.notify(
                "quote_sent",
                f"quote:{version}",
                to=[self._deal.lead.email],
                portal=PortalLink(action="quote", version=version),
                attachments=[Attachment(kind="quote", deal_id=self._deal.deal_id, version=version)],
                quote=quote.model_dump(mode="json"),
            )
            return quote

    @submit_quote.validator
    def _check_quote(self, cmd: QuoteCommand) -> None:
        with refusals_are_final():
            self._require(Action.QUOTE, cmd.actor, DealStage.QUOTING)
            self._free(self._answer, "the customer's answer")
            price_quote(cmd.request, cmd.price_book, 0, workflow.now(), self._deal.policy.day)

    @workflow.update
    async def answer_quote(self, cmd: QuoteAnswerCommand) -> StageAnswer:
        self._answer = cmd
        await self._settled(lambda: self._state.stage is not DealStage.QUOTING)
        return self._stage_answer()

    @answer_quote.validator
    def _check_answer(self, cmd: QuoteAnswerCommand) -> None:
        with refusals_are_final():
            self._require_stage(DealStage.QUOTING)
            self._free(self._answer, "an answer")
            if cmd.version != self._open_version:
                raise Conflict(f"quote version {cmd.version} is no longer open")
            quote = next(q for q in self._state.quotes if q.version == cmd.version)
            if workflow.now() > quote.valid_until:
                raise Conflict(f"quote version {cmd.version} expired {quote.valid_until}")

    @workflow.update
    async def decide_approval(self, cmd: ApprovalCommand) -> list[ApprovalStep]:
        self._decision_seq += 1
        update_id = f"decision-{self._decision_seq}"
        self._decisions.append((update_id, cmd))
        await self._settled(lambda: update_id in self._decided)
        refusal = self._decided.get(update_id)
        if refusal is not None:
            raise ApplicationError(
                refusal.message, refusal.details(), type=type(refusal).__name__, non_retryable=True
            )
        return self._state.approvals

    @decide_approval.validator
    def _check_decision(self, cmd: ApprovalCommand) -> None:
        with refusals_are_final():
            self._require_stage(DealStage.AWAITING_APPROVAL)
            step = check_approver(self._state.approvals, cmd.actor, self._deal.owner)
            for _, queued in self._decisions:
                if check_approver(self._state.approvals, queued.actor, self._deal.owner) == step:
                    raise Conflict(f"the {step.role} step is already being decided")

    @workflow.update
    async def sign_contract(self, cmd: SignCommand) -> StageAnswer:
        self._signature = cmd
        await self._settled(lambda: self._state.stage is not DealStage.AWAITING_SIGNATURE)
        return self._stage_answer()

    @sign_contract.validator
    def _check_signature(self, cmd: SignCommand) -> None:
        with refusals_are_final():
            self._require_stage(DealStage.AWAITING_SIGNATURE)
            self._free(self._signature, "a signature")
            contract = self._state.contract
            if contract is None or contract.version != cmd.version:
                raise Conflict(f"contract version {cmd.version} is not the one to sign")

    @workflow.update
    async def record_delivery(self, cmd: DeliveryCommand) -> Order:
        reference = cmd.request.reference
        if not self._delivered(reference):
            if all(c.request.reference != reference for c in self._deliveries):
                self._deliveries.append(cmd)
            await self._settled(
                lambda: self._delivered(reference) or reference in self._delivery_refusals
            )
            refusal = self._delivery_refusals.get(reference)
            if refusal is not None:
                raise ApplicationError(
                    refusal.message,
                    refusal.details(),
                    type=type(refusal).__name__,
                    non_retryable=True,
                )
        assert self._state.order is not None
        return self._state.order

    @record_delivery.validator
    def _check_delivery(self, cmd: DeliveryCommand) -> None:
        with refusals_are_final():
            if not can(cmd.actor, Action.DELIVER, self._deal.owner):
                raise NotAllowed("ops or the deal owner record deliveries")
            if self._delivered(cmd.request.reference):
                return  # a repeated reference is a no-op
            self._require_stage(DealStage.FULFILLING)
            if self._state.order is None:
                raise WrongStage("the order is not created yet")
            check_delivery(self._state.order, cmd.request)

    @workflow.update
    async def cancel(self, cmd: CancelCommand) -> StageAnswer:
        self._cancel = cmd
        await self._settled(lambda: False)
        return self._stage_answer()

    @cancel.validator
    def _check_cancel(self, cmd: CancelCommand) -> None:
        with refusals_are_final():
            if not can(cmd.actor, Action.CANCEL, self._deal.owner):
                raise NotAllowed("only the owner or a manager may cancel")
            if self._state.stage.is_closed:
                raise WrongStage(f"the deal is already {self._state.stage}")
            self._free(self._cancel, "a cancellation")

    @workflow.update
    async def resume(self, cmd: ResumeCommand) -> StageAnswer:
        """Try the blocked step again, once its cause is fixed."""
        self._resume = cmd
        await self._settled(lambda: self._resume is None)
        return self._stage_answer()

    @resume.validator
    def _check_resume(self, cmd: ResumeCommand) -> None:
        with refusals_are_final():
            if not can(cmd.actor, Action.RESUME, self._deal.owner):
                raise NotAllowed("the owner, a manager or ops resume a blocked deal")
            if self._state.blocked is None or self._resume is not None:
                raise WrongStage("the deal is not blocked")

    @workflow.signal
    def invoice_updated(self, update: CollectionUpdate) -> None:
        """From a collection child: the invoice as it stands, and the payment that changed it."""
        self._state.invoices = [
            update.invoice if i.number == update.invoice.number else i for i in self._state.invoices
        ]
        if update.payment and all(
            p.reference != update.payment.reference for p in self._state.payments
        ):
            self._state.payments.append(update.payment)
