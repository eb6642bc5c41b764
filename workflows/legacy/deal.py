"""DealWorkflow: one deal from lead to cash, stage by stage (see shared/ARCHITECTURE.md)."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.storage import (
        DeliveryRecord,
        OpenDeal,
        OrderRecord,
        QuoteStatusChange,
        SignatureRecord,
        StorageActivities,
    )
    from domain.billing import BillingEvent, installment_days
    from domain.contract import Signature
    from domain.deal import (
        DealInput,
        DealOutcome,
        DeliveryCommand,
        QualifyCommand,
        TimelineEntry,
    )
    from domain.errors import DomainError
    from domain.invoices import InvoiceStatus
    from domain.leads import score_lead
    from domain.messages import PortalLink
    from domain.orders import Delivery, Order, apply_delivery, check_delivery, order_from_quote
    from domain.qualification import (
        FollowUpStep,
        QualifyDecision,
        auto_decision,
        follow_up_plan,
    )
    from domain.quotes import Quote, QuoteStatus
    from domain.stages import DealStage
    from domain.users import Role

    from ..activity_options import STORAGE
    from ..search_attributes import CUSTOMER_ID, LEAD_SCORE, LEAD_SOURCE


from .deal_commands import DealCommands
from .deal_steps import DealEnded


@workflow.defn
class DealWorkflow(DealCommands):
    @workflow.init
    def __init__(self, deal: DealInput) -> None:
        super().__init__(deal)

    @workflow.run
    async def run(self, deal: DealInput) -> DealOutcome:
        if not await self.open_deal():
            await workflow.wait_condition(workflow.all_handlers_finished)
            return DealOutcome(
                deal_id=deal.deal_id,
                stage=None,
                reason=f"duplicate of open deal {self._duplicate_of}",
                duplicate_of=self._duplicate_of,
            )
        try:
            await self.qualify_lead()
            quote = await self.agree_terms()
            await self.await_signature(quote)
            await self.fulfil(quote)
            await self.invoice(quote)
            outcome, reason = await self.collect()
            await self.enter(outcome, reason)
        except DealEnded as ended:
            if ended.stage is DealStage.CANCELLED:
                await self.compensate(ended.reason, ended.actor)
            await self.enter(ended.stage, ended.reason, ended.actor)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._mail_sent()
        return DealOutcome(
            deal_id=deal.deal_id, stage=self._state.stage, reason=self._state.close_reason
        )

    async def open_deal(self) -> bool:
        """Record the lead, match it to a customer, score it, tell the owner.

        False when the contact already has an open deal: then this lead is not a deal.
        """
        score = score_lead(self._deal.lead)
        opened = await self.effect(
            StorageActivities.open_deal,
            OpenDeal(
                deal=self._deal,
                score=score,
                at=workflow.now(),
                workflow_id=workflow.info().workflow_id,
            ),
            **STORAGE,
        )
        if opened.duplicate_of is not None:
            self._duplicate_of = opened.duplicate_of
            return False
        assert opened.customer is not None and opened.created_at is not None
        self._state.customer, self._state.score = opened.customer, opened.score
        self._state.timeline.append(TimelineEntry(at=opened.created_at, stage=DealStage.QUALIFYING))
        workflow.upsert_search_attributes(
            [
                CUSTOMER_ID.value_set(opened.customer.customer_id),
                LEAD_SOURCE.value_set(self._deal.lead.source),
                LEAD_SCORE.value_set(score.score),
            ]
        )
        if self._deal.notify_owner:
            self.notify(
                "lead_assigned",
                "lead",
                to_user=self._deal.owner,
                email=self._deal.lead.email,
                source=self._deal.lead.source,
                score=score.score,
                reasons=[r.model_dump() for r in score.reasons],
            )
        return True

    async def qualify_lead(self) -> None:
        """Decide by score where the policy says so; else follow up until a human decides."""
        assert self._state.score is not None
        auto = auto_decision(self._state.score, self._deal.policy.qualification)
        reason: str | None
        if auto is not None:
            decision, reason, actor = auto.decision, auto.reason, "system"
        else:
            cmd = await self.follow_up_until_decided()
            decision, reason, actor = cmd.body.decision, cmd.body.reason, cmd.actor.username
        qualified = decision is QualifyDecision.QUALIFY
        await self.record(
            "lead.qualified" if qualified else "lead.disqualified",
            actor,
            {"reason": reason, "automatic": auto is not None},
        )
        if not qualified:
            raise DealEnded(DealStage.DISQUALIFIED, reason or "disqualified", actor)
        await self.enter(DealStage.QUOTING, reason, actor)

    async def follow_up_until_decided(self) -> QualifyCommand:
        """Remind the owner, then escalate to managers, then close the lead as lost."""
        created = self._state.timeline[0].at
        for after_days, step in follow_up_plan(self._deal.policy.qualification):
            due = created + self._deal.policy.days(after_days)
            if await self.until(lambda: self._qualification is not None, due - workflow.now()):
                break
            await self.follow_up(step)
        assert self._qualification is not None
        return self._qualification

    async def follow_up(self, step: FollowUpStep) -> None:
        if step is FollowUpStep.CLOSE:
            raise DealEnded(DealStage.LOST, "no follow-up: the lead was never qualified")
        escalate = step is FollowUpStep.ESCALATE
        self.notify(
            "lead_escalated" if escalate else "lead_reminder",
            f"follow-up:{step}",
            **({"to_role": Role.SALES_MANAGER} if escalate else {"to_user": self._deal.owner}),
            since=self._state.timeline[0].at.isoformat(),
        )
        await self.record(
            "lead.escalated" if escalate else "lead.reminder_sent",
            "system",
            {"owner": self._deal.owner},
        )

    async def agree_terms(self) -> Quote:
        """Quote until the customer accepts and every approver approves the contract."""
        while True:
            quote = await self.await_accepted_quote()
            if await self.await_approval(quote):
                return quote
            await self.enter(DealStage.QUOTING, "contract rejected: quote again")

    async def await_accepted_quote(self) -> Quote:
        """Wait for the customer's answer to the open quote. A quote that lapses tells the
        owner, who may send a new version; too many lapses lose the deal."""
        while True:
            seen = self._open_version
            lapses_in = self._quote(seen).valid_until - workflow.now() if seen else None
            if await self.until(
                lambda seen=seen: self._answer is not None or self._open_version != seen,  # type: ignore[misc]
                lapses_in,
            ):
                if self._answer is not None:
                    break
                continue  # a new version replaced it: wait on the new one's validity
            assert seen is not None
            await self.lapse(seen)
        answer = self._answer
        assert answer is not None
        status = QuoteStatus.ACCEPTED if answer.accept else QuoteStatus.REJECTED
        quote = self._set_quote_status(answer.version, status)
        self._open_version = None
        await self.effect(
            StorageActivities.set_quote_status,
            QuoteStatusChange(
                deal_id=self._deal.deal_id,
                version=answer.version,
                status=status,
                at=workflow.now(),
                actor="customer",
                reason=answer.reason,
            ),
            **STORAGE,
        )
        if not answer.accept:
            raise DealEnded(
                DealStage.LOST, f"quote rejected: {answer.reason or 'no reason'}", "customer"
            )
        return quote

    async def lapse(self, version: int) -> None:
        self._set_quote_status(version, QuoteStatus.EXPIRED)
        self._open_version = None
        self._lapses += 1
        await self.effect(
            StorageActivities.set_quote_status,
            QuoteStatusChange(
                deal_id=self._deal.deal_id,
                version=version,
                status=QuoteStatus.EXPIRED,
                at=workflow.now(),
                actor="system",
            ),
            **STORAGE,
        )
        limit = self._deal.policy.quote_lapses_before_lost
        if self._lapses >= limit:
            raise DealEnded(DealStage.LOST, f"{self._lapses} quotes lapsed without an answer")
        self.notify(
            "quote_expired",
            f"quote:{version}:expired",
            to_user=self._deal.owner,
            version=version,
            lapses=self._lapses,
            limit=limit,
        )

    async def await_signature(self, quote: Quote) -> None:
        await self.enter(DealStage.AWAITING_SIGNATURE)
        contract = self._state.contract
        assert contract is not None
        self.notify(
            "signature_requested",
            f"signature:{contract.version}",
            to=[self._deal.lead.email],
            portal=PortalLink(action="contract", version=contract.version),
            total=str(quote.total),
            currency=quote.currency,
            sha256=contract.sha256,
        )
        await self.until(lambda: self._signature is not None)
        cmd = self._signature
        assert cmd is not None
        signature = Signature(
            name=cmd.name, signed_at=workflow.now(), ip=cmd.ip, sha256=contract.sha256
        )
        await self.effect(
            StorageActivities.record_signature,
            SignatureRecord(
                deal_id=self._deal.deal_id, version=contract.version, signature=signature
            ),
            **STORAGE,
        )
        self._state.contract = contract.model_copy(update={"signature": signature})

    async def fulfil(self, quote: Quote) -> None:
        """Create the order, bill what signature triggers, then take deliveries until done."""
        await self.enter(DealStage.FULFILLING, actor=f"customer:{self._signer}")
        now = workflow.now()
        order = order_from_quote(
            f"ORD-{self._deal.deal_id}",
            quote,
            now,
            now + self._deal.policy.days(self._deal.policy.delivery_due_days),
        )
        await self.effect(
            StorageActivities.create_order,
            OrderRecord(deal_id=self._deal.deal_id, order=order),
            **STORAGE,
        )
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
        delivery = Delivery(
            reference=cmd.request.reference,
            lines=cmd.request.lines,
            delivered_at=workflow.now(),
            delivered_before=order.delivered,
        )
        order = apply_delivery(order, delivery)
        await self.effect(
            StorageActivities.record_delivery,
            DeliveryRecord(
                deal_id=self._deal.deal_id, delivery=delivery, order=order, actor=cmd.actor.username
            ),
            **STORAGE,
        )
        self._state.order = order
        self._state.deliveries.append(delivery)
        await self.recognize(quote, delivery)
        await self.bill(
            quote,
            BillingEvent(
                kind="delivery",
                reference=delivery.reference,
                delivered={line.sku: line.quantity for line in delivery.lines},
                delivered_before=delivery.delivered_before,
            ),
        )
        return order

    async def invoice(self, quote: Quote) -> None:
        """Bill what completion triggers, and the installments as they fall due."""
        await self.enter(DealStage.INVOICING)
        await self.bill(quote, BillingEvent(kind="delivery_complete"))
        signed = self._state.contract.signature if self._state.contract else None
        assert signed is not None
        for index, days in enumerate(installment_days(quote)[1:], start=1):
            due = signed.signed_at + self._deal.policy.days(days)
            await self.until(lambda: False, due - workflow.now())
            await self.bill(quote, BillingEvent(kind="installment", index=index))

    async def collect(self) -> tuple[DealStage, str]:
        """Until every invoice is settled: won when paid (or credited), else written off."""
        await self.enter(DealStage.COLLECTING)
        await self.until(
            lambda: all(i.status is not InvoiceStatus.OPEN for i in self._state.invoices)
        )
        await asyncio.gather(*self._collections)
        lost = [i.number for i in self._state.invoices if i.status is InvoiceStatus.WRITTEN_OFF]
        if lost:
            return DealStage.WRITTEN_OFF, f"written off: {', '.join(lost)}"
        return DealStage.WON, "paid in full"
