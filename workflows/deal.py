"""DealWorkflow: one deal from lead to cash, stage by stage (see shared/ARCHITECTURE.md).

Commands arrive as Updates. A validator refuses a command before it reaches history; an
accepted command is put in its slot and the `run` loop, which alone moves the deal, applies
it. The handler answers once the effect is recorded in Postgres, so a client that reads
after a successful call sees what it did. Every slot is emptied when the stage changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.email import EmailActivities
    from activities.errors import refusals_are_final
    from activities.finance import FinanceActivities, IssueInvoice
    from activities.storage import (
        ApprovalStepRecord,
        ContractRecord,
        DealEvent,
        DeliveryRecord,
        OpenDeal,
        OrderRecord,
        QuoteRecord,
        QuoteStatusChange,
        SignatureRecord,
        StageChange,
        StorageActivities,
    )
    from domain.access import Action, can
    from domain.approval import ApprovalStep, StepStatus, check_approver
    from domain.billing import BillingEvent, InvoiceDraft, installment_days, invoices_for
    from domain.contract import Signature, draft_contract
    from domain.deal import (
        ApprovalCommand,
        CancelCommand,
        DealInput,
        DealOutcome,
        DealState,
        DeliveryCommand,
        QualifyCommand,
        QualifyDecision,
        QuoteAnswerCommand,
        QuoteCommand,
        SignCommand,
        StageAnswer,
        TimelineEntry,
    )
    from domain.errors import Conflict, DomainError, NotAllowed, WrongStage
    from domain.invoices import Invoice, InvoiceStatus
    from domain.leads import score_lead
    from domain.messages import EmailRequest, PortalLink
    from domain.orders import Delivery, Order, apply_delivery, check_delivery, order_from_quote
    from domain.quotes import Quote, QuoteStatus, price_quote
    from domain.stages import DealStage
    from domain.users import Actor

    from .activity_options import EMAIL, FINANCE, STORAGE
    from .ids import invoice_workflow_id
    from .invoice import Collection, CollectionUpdate, InvoiceWorkflow
    from .search_attributes import CUSTOMER_ID, DEAL_AMOUNT, DEAL_STAGE


class DealEnded(Exception):
    """Ends the deal early. Raised and caught inside `run`; it never leaves the workflow."""

    def __init__(self, stage: DealStage, reason: str, actor: str = "system") -> None:
        super().__init__(reason)
        self.stage, self.reason, self.actor = stage, reason, actor


@workflow.defn
class DealWorkflow:
    @workflow.init
    def __init__(self, deal: DealInput) -> None:
        self._deal = deal
        self._state = DealState(
            deal_id=deal.deal_id, stage=DealStage.QUALIFYING, owner=deal.owner,
            source=deal.lead.source,
            contact={"name": deal.lead.contact_name, "email": deal.lead.email,
                     "company": deal.lead.company},
        )
        self._stage_seq = 0
        self._idle = False  # the run loop waits for input, every effect so far recorded
        # Command slots, filled by update handlers, emptied by the run loop.
        self._qualification: QualifyCommand | None = None
        self._answer: QuoteAnswerCommand | None = None
        self._decision: ApprovalCommand | None = None
        self._signature: SignCommand | None = None
        self._deliveries: list[DeliveryCommand] = []
        self._delivery_refusals: dict[str, DomainError] = {}
        self._cancel: CancelCommand | None = None
        self._open_version: int | None = None
        self._quote_lock = asyncio.Lock()
        self._issued: list[InvoiceDraft] = []
        self._collections: list[workflow.ChildWorkflowHandle[Any, Invoice]] = []
        self._mail: list[asyncio.Future[str]] = []

    # ------------------------------------------------------------------ the process

    @workflow.run
    async def run(self, deal: DealInput) -> DealOutcome:
        await self.open_deal()
        try:
            await self.qualify_lead()
            quote = await self.agree_terms()
            await self.await_signature(quote)
            await self.fulfil(quote)
            await self.invoice(quote)
            await self.collect()
            await self.enter(DealStage.WON, "paid in full")
        except DealEnded as ended:
            await self.enter(ended.stage, ended.reason, ended.actor)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._mail_sent()
        return DealOutcome(deal_id=deal.deal_id, stage=self._state.stage,
                           reason=self._state.close_reason)

    async def open_deal(self) -> None:
        """Record the lead, match it to a customer, score it, tell the owner."""
        score = score_lead(self._deal.lead)
        opened = await workflow.execute_activity_method(
            StorageActivities.open_deal,
            OpenDeal(deal=self._deal, score=score, at=workflow.now(),
                     workflow_id=workflow.info().workflow_id),
            **STORAGE)
        self._state.customer, self._state.score = opened.customer, opened.score
        self._state.timeline.append(TimelineEntry(at=opened.created_at,
                                                  stage=DealStage.QUALIFYING))
        workflow.upsert_search_attributes([CUSTOMER_ID.value_set(opened.customer.customer_id)])
        self.notify("lead_assigned", "lead", to_user=self._deal.owner,
                    email=self._deal.lead.email, source=self._deal.lead.source,
                    score=score.score, reasons=[r.model_dump() for r in score.reasons])

    async def qualify_lead(self) -> None:
        await self.until(lambda: self._qualification is not None)
        cmd = self._qualification
        assert cmd is not None
        decision = cmd.body.decision
        action = "lead.qualified" if decision is QualifyDecision.QUALIFY else "lead.disqualified"
        await self.record(action, cmd.actor.username, {"reason": cmd.body.reason})
        if decision is QualifyDecision.DISQUALIFY:
            raise DealEnded(DealStage.DISQUALIFIED, cmd.body.reason or "disqualified",
                            cmd.actor.username)
        await self.enter(DealStage.QUOTING, actor=cmd.actor.username)

    async def agree_terms(self) -> Quote:
        """Quote until the customer accepts and every approver approves the contract."""
        while True:
            quote = await self.await_accepted_quote()
            if await self.await_approval(quote):
                return quote
            await self.enter(DealStage.QUOTING, "contract rejected: quote again")

    async def await_accepted_quote(self) -> Quote:
        await self.until(lambda: self._answer is not None)
        answer = self._answer
        assert answer is not None
        status = QuoteStatus.ACCEPTED if answer.accept else QuoteStatus.REJECTED
        quote = self._set_quote_status(answer.version, status)
        self._open_version = None
        await workflow.execute_activity_method(
            StorageActivities.set_quote_status,
            QuoteStatusChange(deal_id=self._deal.deal_id, version=answer.version, status=status,
                              at=workflow.now(), actor="customer", reason=answer.reason),
            **STORAGE)
        if not answer.accept:
            raise DealEnded(DealStage.LOST, f"quote rejected: {answer.reason or 'no reason'}",
                            "customer")
        return quote

    async def await_approval(self, quote: Quote) -> bool:
        """Draft the contract, then ask each approval step in turn; False on a rejection."""
        await self.enter(DealStage.AWAITING_APPROVAL)
        version = (self._state.contract.version + 1) if self._state.contract else 1
        contract = draft_contract(version, self._deal.deal_id, self._customer_name,
                                  self._deal.lead.contact_name, quote, workflow.now())
        steps = self._deal.policy.approval.steps_for(quote)
        await workflow.execute_activity_method(
            StorageActivities.save_contract,
            ContractRecord(deal_id=self._deal.deal_id, contract=contract, steps=steps),
            **STORAGE)
        self._state.contract, self._state.approvals = contract, steps
        for step in steps:
            if not await self.ask_approver(version, step, quote):
                return False
        return True

    async def ask_approver(self, version: int, step: ApprovalStep, quote: Quote) -> bool:
        step = step.model_copy(update={"status": StepStatus.PENDING,
                                       "requested_at": workflow.now()})
        await self._save_step(version, step, "system")
        self.notify("approval_requested", f"approval:{version}:{step.index}",
                    to_role=step.role, exclude_user=self._deal.owner, role=step.role,
                    total=str(quote.total), currency=quote.currency,
                    max_discount=str(quote.max_discount_pct))
        await self.until(lambda: self._decision is not None)
        cmd = self._decision
        assert cmd is not None
        approved = cmd.body.decision == "approve"
        step = step.model_copy(update={
            "status": StepStatus.APPROVED if approved else StepStatus.REJECTED,
            "decided_at": workflow.now(), "decided_by": cmd.actor.username,
            "comment": cmd.body.comment,
        })
        await self._save_step(version, step, cmd.actor.username)
        self._decision = None
        if not approved:
            self.notify("approval_rejected", f"approval:{version}:{step.index}:rejected",
                        to_user=self._deal.owner, role=step.role,
                        decided_by=cmd.actor.username, comment=cmd.body.comment or "")
        return approved

    async def await_signature(self, quote: Quote) -> None:
        await self.enter(DealStage.AWAITING_SIGNATURE)
        contract = self._state.contract
        assert contract is not None
        self.notify("signature_requested", f"signature:{contract.version}",
                    to=[self._deal.lead.email],
                    portal=PortalLink(action="contract", version=contract.version),
                    total=str(quote.total), currency=quote.currency, sha256=contract.sha256)
        await self.until(lambda: self._signature is not None)
        cmd = self._signature
        assert cmd is not None
        signature = Signature(name=cmd.name, signed_at=workflow.now(), ip=cmd.ip,
                              sha256=contract.sha256)
        await workflow.execute_activity_method(
            StorageActivities.record_signature,
            SignatureRecord(deal_id=self._deal.deal_id, version=contract.version,
                            signature=signature),
            **STORAGE)
        self._state.contract = contract.model_copy(update={"signature": signature})

    async def fulfil(self, quote: Quote) -> None:
        """Create the order, bill what signature triggers, then take deliveries until done."""
        await self.enter(DealStage.FULFILLING, actor=f"customer:{self._signer}")
        now = workflow.now()
        order = order_from_quote(f"ORD-{self._deal.deal_id}", quote, now,
                                 now + self._deal.policy.days(self._deal.policy.delivery_due_days))
        await workflow.execute_activity_method(
            StorageActivities.create_order, OrderRecord(deal_id=self._deal.deal_id, order=order),
            **STORAGE)
        self._state.order = order
        await self.bill(quote, BillingEvent(kind="signature"))
        await self.bill(quote, BillingEvent(kind="installment", index=0))
        while not order.is_fully_delivered:
            await self.until(lambda: bool(self._deliveries))
            order = await self.deliver(quote, order, self._deliveries.pop(0))

    async def deliver(self, quote: Quote, order: Order, cmd: DeliveryCommand) -> Order:
        try:
            check_delivery(order, cmd.request)  # an earlier queued delivery may have used it up
        except DomainError as refusal:
            self._delivery_refusals[cmd.request.reference] = refusal
            return order
        delivery = Delivery(reference=cmd.request.reference, lines=cmd.request.lines,
                            delivered_at=workflow.now(), delivered_before=order.delivered)
        order = apply_delivery(order, delivery)
        await workflow.execute_activity_method(
            StorageActivities.record_delivery,
            DeliveryRecord(deal_id=self._deal.deal_id, delivery=delivery, order=order,
                           actor=cmd.actor.username),
            **STORAGE)
        self._state.order = order
        self._state.deliveries.append(delivery)
        await self.bill(quote, BillingEvent(
            kind="delivery", reference=delivery.reference,
            delivered={line.sku: line.quantity for line in delivery.lines},
            delivered_before=delivery.delivered_before))
        return order

    async def invoice(self, quote: Quote) -> None:
        """Bill what completion triggers, and the installments as they fall due."""
        await self.enter(DealStage.INVOICING)
        await self.bill(quote, BillingEvent(kind="delivery_complete"))
        signed = self._state.contract.signature if self._state.contract else None
        assert signed is not None
        for index, days in enumerate(installment_days(quote)):
            if index == 0:
                continue
            due = signed.signed_at + self._deal.policy.days(days)
            if due > workflow.now():
                await self.until(lambda: False, timeout=due - workflow.now())
            await self.bill(quote, BillingEvent(kind="installment", index=index))

    async def collect(self) -> None:
        await self.enter(DealStage.COLLECTING)
        await self.until(lambda: all(i.status is not InvoiceStatus.OPEN
                                     for i in self._state.invoices))
        await asyncio.gather(*self._collections)

    # ------------------------------------------------------------------ steps

    async def bill(self, quote: Quote, event: BillingEvent) -> None:
        """Issue what the billing plan calls for on `event`; each invoice gets a collector."""
        for draft in invoices_for(quote, event, self._issued):
            invoice = await workflow.execute_activity_method(
                FinanceActivities.issue_invoice,
                IssueInvoice(deal_id=self._deal.deal_id, draft=draft, issued_at=workflow.now(),
                             day=self._deal.policy.day),
                **FINANCE)
            self._issued.append(draft)
            self._state.invoices.append(invoice)
            self.notify("invoice_issued", f"invoice:{invoice.number}",
                        to=[self._deal.lead.email], invoice=invoice.model_dump(mode="json"))
            self._collections.append(await workflow.start_child_workflow(
                InvoiceWorkflow.run,
                Collection(invoice=invoice, deal_workflow_id=workflow.info().workflow_id,
                           contact_email=self._deal.lead.email,
                           contact_name=self._deal.lead.contact_name,
                           company=self._customer_name, policy=self._deal.policy),
                id=invoice_workflow_id(invoice.number)))

    async def enter(self, stage: DealStage, note: str | None = None,
                    actor: str = "system") -> None:
        """Record the new stage, then show it: readers of Postgres are never behind us."""
        self._stage_seq += 1
        now = workflow.now()
        await workflow.execute_activity_method(
            StorageActivities.change_stage,
            StageChange(deal_id=self._deal.deal_id, seq=self._stage_seq, stage=stage, at=now,
                        actor=actor, note=note),
            **STORAGE)
        self._state.stage = stage
        self._state.timeline.append(TimelineEntry(at=now, stage=stage, note=note))
        if stage.is_closed:
            self._state.close_reason = note
        self._qualification = self._answer = self._signature = None
        workflow.upsert_search_attributes([DEAL_STAGE.value_set(stage)])

    async def until(self, condition: Callable[[], bool],
                    timeout: timedelta | None = None) -> bool:
        """Wait for `condition` (False on timeout); a cancellation ends the deal here."""
        self._idle = True
        try:
            await workflow.wait_condition(lambda: self._cancel is not None or condition(),
                                          timeout=timeout)
        except TimeoutError:
            return False
        finally:
            self._idle = False
        if self._cancel is not None:
            raise DealEnded(DealStage.CANCELLED, self._cancel.body.reason,
                            self._cancel.actor.username)
        return True

    async def record(self, action: str, actor: str, data: dict[str, Any]) -> None:
        await workflow.execute_activity_method(
            StorageActivities.record_deal_event,
            DealEvent(deal_id=self._deal.deal_id, key=f"{action}:{self._stage_seq}",
                      at=workflow.now(), actor=actor, action=action, data=data),
            **STORAGE)

    def notify(self, template: str, key: str, **context: Any) -> None:
        """Send an e-mail in the background; the deal does not wait for the mail server."""
        routing = {k: context.pop(k) for k in ("to", "to_user", "to_role", "exclude_user",
                                               "portal") if k in context}
        request = EmailRequest(
            key=f"{self._deal.deal_id}:{key}", deal_id=self._deal.deal_id, template=template,
            context={"deal_id": self._deal.deal_id, "company": self._customer_name,
                     "contact_name": self._deal.lead.contact_name, "owner": self._deal.owner,
                     **context},
            **routing)
        self._mail.append(
            workflow.start_activity_method(EmailActivities.send_email, request, **EMAIL))

    async def _mail_sent(self) -> None:
        # A message that could not be sent (no recipient) is in the outbox as pending;
        # it must not fail the deal.
        for outcome in await asyncio.gather(*self._mail, return_exceptions=True):
            if isinstance(outcome, BaseException):
                workflow.logger.warning("an e-mail of deal %s failed: %s",
                                        self._deal.deal_id, outcome)

    async def _save_step(self, version: int, step: ApprovalStep, actor: str) -> None:
        await workflow.execute_activity_method(
            StorageActivities.update_approval_step,
            ApprovalStepRecord(deal_id=self._deal.deal_id, contract_version=version, step=step,
                               at=workflow.now(), actor=actor),
            **STORAGE)
        self._state.approvals = [step if s.index == step.index else s
                                 for s in self._state.approvals]

    def _set_quote_status(self, version: int, status: QuoteStatus) -> Quote:
        quote = next(q for q in self._state.quotes if q.version == version)
        quote = quote.model_copy(update={"status": status})
        self._state.quotes = [quote if q.version == version else q for q in self._state.quotes]
        return quote

    @property
    def _customer_name(self) -> str:
        customer = self._state.customer
        return customer.name if customer else self._deal.lead.company

    @property
    def _signer(self) -> str:
        cmd = self._signature
        return cmd.name if cmd else "customer"

    # ------------------------------------------------------------------ commands

    @workflow.query
    def state(self) -> DealState:
        return self._state

    @workflow.update
    async def opened(self) -> DealState:
        """Answers once the lead is recorded (sent with the start, so POST /leads can wait)."""
        await workflow.wait_condition(lambda: self._state.customer is not None)
        return self._state

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
                quote = price_quote(cmd.request, cmd.price_book, version, workflow.now(),
                                    self._deal.policy.day)
            await workflow.execute_activity_method(
                StorageActivities.save_quote,
                QuoteRecord(deal_id=self._deal.deal_id, quote=quote, actor=cmd.actor.username),
                **STORAGE)
            self._state.quotes = [
                q.model_copy(update={"status": QuoteStatus.SUPERSEDED})
                if q.status is QuoteStatus.OPEN else q for q in self._state.quotes
            ] + [quote]
            self._open_version = version
            workflow.upsert_search_attributes([DEAL_AMOUNT.value_set(float(quote.net_total))])
            self.notify("quote_sent", f"quote:{version}", to=[self._deal.lead.email],
                        portal=PortalLink(action="quote", version=version),
                        quote=quote.model_dump(mode="json"))
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
        self._decision = cmd
        await self._settled(lambda: self._decision is not cmd)
        return self._state.approvals

    @decide_approval.validator
    def _check_decision(self, cmd: ApprovalCommand) -> None:
        with refusals_are_final():
            self._require_stage(DealStage.AWAITING_APPROVAL)
            self._free(self._decision, "another decision")
            check_approver(self._state.approvals, cmd.actor, self._deal.owner)

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
            await self._settled(lambda: self._delivered(reference)
                                or reference in self._delivery_refusals)
            refusal = self._delivery_refusals.get(reference)
            if refusal is not None:
                raise ApplicationError(refusal.message, refusal.details(),
                                       type=type(refusal).__name__, non_retryable=True)
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
            if self._state.invoices:
                raise WrongStage("invoices are issued: cancelling now needs credit notes, "
                                 "which l2c does not issue yet")

    @workflow.signal
    def invoice_updated(self, update: CollectionUpdate) -> None:
        """From a collection child: the invoice as it stands, and the payment that changed it."""
        self._state.invoices = [update.invoice if i.number == update.invoice.number else i
                                for i in self._state.invoices]
        if update.payment and all(p.reference != update.payment.reference
                                  for p in self._state.payments):
            self._state.payments.append(update.payment)

    # ------------------------------------------------------------------ checks

    async def _settled(self, applied: Callable[[], bool]) -> None:
        """Until the command is applied and the run loop waits again (or the deal ended)."""
        await workflow.wait_condition(
            lambda: (applied() and self._idle) or self._state.stage.is_closed)

    def _stage_answer(self) -> StageAnswer:
        return StageAnswer(deal_id=self._deal.deal_id, stage=self._state.stage)

    def _require(self, action: Action, actor: Actor, stage: DealStage) -> None:
        if not can(actor, action, self._deal.owner):
            raise NotAllowed(f"{actor.role} may not {action} this deal")
        self._require_stage(stage)

    def _require_stage(self, stage: DealStage) -> None:
        if self._state.stage is not stage:
            raise WrongStage(f"the deal is {self._state.stage}, not {stage}")

    @staticmethod
    def _free(slot: object, what: str) -> None:
        if slot is not None:
            raise Conflict(f"{what} is already being applied")

    def _delivered(self, reference: str) -> bool:
        return any(d.reference == reference for d in self._state.deliveries)

