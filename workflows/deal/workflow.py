"""DealWorkflow: one deal from lead to cash, stage by stage (see shared/ARCHITECTURE.md).

`run` is the process; each stage is a class of its own (one module each) and the handlers
below only delegate. Every command's effects are written in one transaction when the deal
next waits (effects.py), so a command costs one local activity.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.errors import refusals_are_final
    from domain import effects as fx
    from domain.access import Action, can
    from domain.approval import ApprovalStep
    from domain.change_orders import ChangeOrder, ChangeOrderStatus
    from domain.deal import (
        ApprovalCommand,
        CancelCommand,
        ChangeOrderCommand,
        CloseLostCommand,
        DealInput,
        DealOutcome,
        DealState,
        DeliveryCommand,
        PortalLinkCommand,
        PortalLinkSent,
        QualifyCommand,
        QuoteAnswerCommand,
        QuoteCommand,
        ReassignCommand,
        ResumeCommand,
        SignCommand,
        StageAnswer,
    )
    from domain.errors import Conflict, NotAllowed, WrongStage
    from domain.invoices import Invoice
    from domain.orders import Order
    from domain.quotes import Quote
    from domain.stages import NEGOTIATING, DealStage

    from ..invoice import CollectionUpdate
    from ..search_attributes import DEAL_OWNER

from .approval import Approval
from .billing import ON_SCHEDULE, Billing
from .cancellation import Cancellation
from .change_orders import AFTER_DELIVERY, ChangeOrders
from .collection import Collecting
from .effects import DealEffects, DealEnded
from .fulfilment import Fulfilment
from .qualification import Qualification
from .quoting import Quoting
from .signature import Signing

# Approval before the customer sees a quote, and rejections back to QUOTING (shared/API.md v2).
APPROVE_FIRST = "approve-before-proposing"


@workflow.defn(name="DealWorkflowV2")
class DealWorkflow:
    @workflow.init
    def __init__(self, deal: DealInput) -> None:
        self.deal = DealEffects(deal)
        self.qualification = Qualification(self.deal)
        self.quoting = Quoting(self.deal)
        self.approval = Approval(self.deal)
        self.signing = Signing(self.deal)
        self.billing = Billing(self.deal)
        self.fulfilment = Fulfilment(self.deal, self.billing)
        self.collecting = Collecting(self.deal, self.billing)
        self.cancellation = Cancellation(self.deal)
        self.change_orders = ChangeOrders(self.deal, self.billing)
        self._links_sent = 0

    @workflow.run
    async def run(self, deal: DealInput) -> DealOutcome:
        self.deal.approve_first = workflow.patched(APPROVE_FIRST)
        self.billing.on_schedule = workflow.patched(ON_SCHEDULE)
        self.change_orders.after_delivery = workflow.patched(AFTER_DELIVERY)
        if not await self.qualification.open():
            self.deal.ended = True
            await workflow.wait_condition(workflow.all_handlers_finished)
            duplicate_of = self.qualification.duplicate_of
            return DealOutcome(
                deal_id=deal.deal_id,
                stage=None,
                reason=f"duplicate of open deal {duplicate_of}",
                duplicate_of=duplicate_of,
            )
        try:
            await self.qualification.qualify()
            quote = await self.agree_terms()
            self.deal.terms = quote
            signer = await self.signing.signed(quote)
            await self.fulfilment.fulfil(quote, signer)
            outcome, reason = await self.invoice_and_collect()
            self.deal.enter(outcome, reason)
        except DealEnded as ended:
            if self.deal.approve_first and self.deal.state.stage is DealStage.AWAITING_APPROVAL:
                self.approval.withdraw_if_open()
            if ended.stage is DealStage.CANCELLED:
                await self.collecting.compensate(ended.reason, ended.actor)
            if self.deal.state.stage is not ended.stage:
                self.deal.enter(ended.stage, ended.reason, ended.actor)
        await self.deal.commit()
        self.deal.ended = True
        await self.collecting.collectors_done()
        await workflow.wait_condition(workflow.all_handlers_finished)
        state = self.deal.state
        return DealOutcome(deal_id=deal.deal_id, stage=state.stage, reason=state.close_reason)

    async def agree_terms(self) -> Quote:
        """Quote until the approvers approve a quote and the customer accepts it; each
        rejection returns to QUOTING, where the owner revises the quote or closes the deal."""
        if not self.deal.approve_first:
            return await self.agree_terms_accepted_first()
        while True:
            quote = await self.quoting.next_quote()
            if not await self.approval.approved(quote):
                self.quoting.refused(
                    quote.version, self.approval.rejected_by, self.approval.rejection
                )
                continue
            accepted = await self.quoting.proposed(quote)
            if accepted is not None:
                return accepted

    async def invoice_and_collect(self) -> tuple[DealStage, str]:
        """INVOICING, then COLLECTING until won or written off; when a signed change order
        adds units to the order delivered in full (`AFTER_DELIVERY`), back to FULFILLING
        for them, then on again."""
        while True:
            assert self.deal.terms is not None
            if await self.billing.invoice(self.deal.terms):
                ended = await self.collecting.collect()
                if ended is not None:
                    return ended
            await self.fulfilment.deliveries()

    async def agree_terms_accepted_first(self) -> Quote:
        """Before `APPROVE_FIRST`: the customer accepted, then the approvers decided."""
        while True:
            quote = await self.quoting.accepted_quote()
            if await self.approval.approved(quote):
                return quote
            self.deal.enter(DealStage.QUOTING, "contract rejected: quote again")

    # --- queries and updates: each validated before history, applied by the stage ---

    @workflow.query
    def state(self) -> DealState:
        return self.deal.state

    @workflow.update
    async def opened(self) -> DealState:
        """Answers once the lead is recorded and any automatic decision taken (sent with the
        start, so POST /leads can wait); refused when the contact has an open deal."""
        q = self.qualification
        await workflow.wait_condition(
            lambda: (
                q.duplicate_of is not None
                or (self.deal.state.customer is not None and (self.deal.idle or self.deal.ended))
            )
        )
        if q.duplicate_of is not None:
            duplicate = Conflict(f"this contact already has an open deal: {q.duplicate_of}")
            raise ApplicationError(
                duplicate.message, duplicate.details(), type="Conflict", non_retryable=True
            )
        return self.deal.state

    @workflow.update
    async def reassign(self, cmd: ReassignCommand) -> DealState:
        """A manager gives the deal to another seller (checked to be one by the API)."""
        d, owner = self.deal, cmd.body.owner
        await d.write(
            [fx.ChangeOwner(owner=owner, reason=cmd.body.reason, actor=cmd.actor.username)],
            [
                d.email(
                    "deal_reassigned",
                    f"owner:{owner}:{workflow.now().isoformat()}",
                    to_user=owner,
                    by=cmd.actor.username,
                    reason=cmd.body.reason or "",
                    stage=d.state.stage,
                )
            ],
        )
        d.deal = d.deal.model_copy(update={"owner": owner})
        d.state.owner = owner
        d.involved.add(owner)
        workflow.upsert_search_attributes([DEAL_OWNER.value_set(owner)])
        return d.state

    @reassign.validator
    def _check_reassign(self, cmd: ReassignCommand) -> None:
        with refusals_are_final():
            if not can(cmd.actor, Action.ASSIGN_OWNER):
                raise NotAllowed("only a manager may reassign a deal")
            if self.deal.state.stage.is_closed:
                raise WrongStage(f"the deal is already {self.deal.state.stage}")
            if cmd.body.owner == self.deal.deal.owner:
                raise Conflict(f"{cmd.body.owner} already owns this deal")

    @workflow.update
    async def qualify(self, cmd: QualifyCommand) -> StageAnswer:
        self.qualification.command = cmd
        await self.deal.settled(lambda: self.deal.state.stage is not DealStage.QUALIFYING)
        return self.deal.answer()

    @qualify.validator
    def _check_qualify(self, cmd: QualifyCommand) -> None:
        with refusals_are_final():
            self.qualification.check(cmd)

    @workflow.update
    async def submit_quote(self, cmd: QuoteCommand) -> Quote:
        with refusals_are_final():
            return await self.quoting.submit(cmd)

    @submit_quote.validator
    def _check_quote(self, cmd: QuoteCommand) -> None:
        with refusals_are_final():
            self.quoting.check_quote(cmd)

    @workflow.update
    async def answer_quote(self, cmd: QuoteAnswerCommand) -> StageAnswer:
        self.quoting.answer = cmd
        if not self.deal.approve_first:
            await self.deal.settled(lambda: self.deal.state.stage is not DealStage.QUOTING)
            return self.deal.answer()
        await self.deal.settled(lambda: self.quoting.answer is not cmd)
        with refusals_are_final():
            self.quoting.check_fresh(cmd)
        return self.deal.answer()

    @answer_quote.validator
    def _check_answer(self, cmd: QuoteAnswerCommand) -> None:
        with refusals_are_final():
            self.quoting.check_answer(cmd)

    @workflow.update
    async def decide_approval(self, cmd: ApprovalCommand) -> list[ApprovalStep]:
        with refusals_are_final():
            if self._deciding_cancellation():
                return await self.cancellation.decide(cmd)
            if self._deciding_change():
                return await self.change_orders.decide(cmd)
            return await self.approval.decide(cmd)

    @decide_approval.validator
    def _check_decision(self, cmd: ApprovalCommand) -> None:
        with refusals_are_final():
            if self._deciding_cancellation():
                self.cancellation.check(cmd)
            elif self._deciding_change():
                self.change_orders.check_decision(cmd)
            else:
                self.approval.check(cmd)

    def _deciding_change(self) -> bool:
        return self.change_orders.awaiting(ChangeOrderStatus.AWAITING_APPROVAL)

    def _deciding_cancellation(self) -> bool:
        return (
            self.cancellation.pending() is not None
            and self.deal.state.stage is not DealStage.AWAITING_APPROVAL
        )

    @workflow.update
    async def sign_contract(self, cmd: SignCommand) -> StageAnswer:
        if self.change_orders.awaiting(ChangeOrderStatus.AWAITING_SIGNATURE):
            with refusals_are_final():
                return await self.change_orders.sign(cmd)
        self.signing.command = cmd
        await self.deal.settled(lambda: self.deal.state.stage is not DealStage.AWAITING_SIGNATURE)
        return self.deal.answer()

    @sign_contract.validator
    def _check_signature(self, cmd: SignCommand) -> None:
        with refusals_are_final():
            if self.change_orders.awaiting(ChangeOrderStatus.AWAITING_SIGNATURE):
                self.change_orders.check_signature(cmd)
            else:
                self.signing.check(cmd)

    @workflow.update
    async def change_order(self, cmd: ChangeOrderCommand) -> ChangeOrder:
        """A signed deal's whole new set of lines: approved on its delta, then signed."""
        with refusals_are_final():
            return await self.change_orders.request(cmd)

    @change_order.validator
    def _check_change_order(self, cmd: ChangeOrderCommand) -> None:
        with refusals_are_final():
            self.change_orders.check(cmd)

    @workflow.update
    async def record_delivery(self, cmd: DeliveryCommand) -> Order:
        with refusals_are_final():
            return await self.fulfilment.record(cmd)

    @record_delivery.validator
    def _check_delivery(self, cmd: DeliveryCommand) -> None:
        with refusals_are_final():
            self.fulfilment.check(cmd)

    @workflow.update
    async def cancel(self, cmd: CancelCommand) -> StageAnswer:
        """At once while nothing is invoiced; after that, a request finance decides."""
        return await self.cancellation.cancel(cmd)

    @cancel.validator
    def _check_cancel(self, cmd: CancelCommand) -> None:
        with refusals_are_final():
            if not can(cmd.actor, Action.CANCEL, self.deal.deal.owner):
                raise NotAllowed("only the owner or a manager may cancel")
            if self.deal.state.stage.is_closed:
                raise WrongStage(f"the deal is already {self.deal.state.stage}")
            self.deal.free(self.deal.cancel, "a cancellation")
            self.cancellation.check_cancel()

    @workflow.update
    async def close_lost(self, cmd: CloseLostCommand) -> StageAnswer:
        """The owner gives the deal up before signature: LOST, with the reason."""
        self.deal.lost = cmd
        await self.deal.settled(lambda: self.deal.state.stage.is_closed)
        return self.deal.answer()

    @close_lost.validator
    def _check_close_lost(self, cmd: CloseLostCommand) -> None:
        with refusals_are_final():
            if not can(cmd.actor, Action.CLOSE_LOST, self.deal.deal.owner):
                raise NotAllowed("only the owner or a manager may close a deal as lost")
            self.deal.require_stage(*sorted(NEGOTIATING))
            self.deal.free(self.deal.lost, "closing as lost")
            self.deal.free(self.deal.cancel, "a cancellation")

    @workflow.update
    async def resume(self, cmd: ResumeCommand) -> StageAnswer:
        """Try the blocked step again, once its cause is fixed."""
        self.deal.resume = cmd
        await self.deal.settled(lambda: self.deal.resume is None)
        return self.deal.answer()

    @resume.validator
    def _check_resume(self, cmd: ResumeCommand) -> None:
        with refusals_are_final():
            if not can(cmd.actor, Action.RESUME, self.deal.deal.owner):
                raise NotAllowed("the owner, a manager or ops resume a blocked deal")
            if self.deal.state.blocked is None or self.deal.resume is not None:
                raise WrongStage("the deal is not blocked")

    @workflow.update
    async def send_portal_link(self, cmd: PortalLinkCommand) -> PortalLinkSent:
        """Staff send the customer's link again: to the deal's contact, never to themselves."""
        d, version = self.deal, self._waiting_version(cmd.action)
        assert version is not None
        self._links_sent += 1
        key = f"{cmd.action}:{version}:resent:{self._links_sent}"
        if cmd.action == "quote":
            email = self.quoting.email(self.quoting.quote(version), key)
        else:
            email = d.email(**self.signing.email(key))
        sent_to = d.deal.lead.email
        event = fx.RecordEvent(
            key=f"portal.link_sent:{self._links_sent}",
            action="portal.link_sent",
            data={"action": cmd.action, "version": version, "sent_to": sent_to},
            actor=cmd.actor.username,
        )
        await d.write([event], [email])
        return PortalLinkSent(action=cmd.action, version=version, sent_to=sent_to)

    @send_portal_link.validator
    def _check_portal_link(self, cmd: PortalLinkCommand) -> None:
        with refusals_are_final():
            if not can(cmd.actor, Action.QUOTE, self.deal.deal.owner):
                raise NotAllowed("the owner or a manager resend the customer's link")
            if self._waiting_version(cmd.action) is None:
                raise WrongStage(f"there is no {cmd.action} waiting for the customer")

    def _waiting_version(self, action: str) -> int | None:
        stage = self.deal.state.stage
        if action == "quote":
            return self.quoting.open_version if stage is self.quoting.answer_stage else None
        contract = self.deal.state.contract
        waiting = stage is DealStage.AWAITING_SIGNATURE and contract is not None
        return contract.version if waiting and contract is not None else None

    @workflow.signal
    def invoice_updated(self, update: CollectionUpdate) -> None:
        self.collecting.invoice_updated(update)

    @workflow.signal
    async def subscription_invoiced(self, invoice: Invoice) -> None:
        """From a subscription line's billing child: a period's invoice, to collect."""
        await self.billing.period_invoiced(invoice)

    @workflow.signal
    async def subscription_term_billed(self, sku: str) -> None:
        """From a subscription: its first term is invoiced; the deal may close."""
        await self.billing.term_billed(sku)

    @workflow.update
    async def caught_up(self) -> StageAnswer:
        """Answers once the deal has applied what it was told before (an invoice settled by
        its collector): after a payment, one read then shows WON."""
        await self.deal.settled(lambda: True)
        return self.deal.answer()
