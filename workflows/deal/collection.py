"""COLLECTING until every invoice is settled (each by its own child workflow): WON when all
are paid or credited, WRITTEN_OFF otherwise; what a write-off stops at once, whatever the
stage; and what a cancellation must undo once money is owed."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import TemporalError

with workflow.unsafe.imports_passed_through():
    from domain import effects as fx
    from domain.invoices import InvoiceStatus
    from domain.orders import OrderStatus
    from domain.stages import DealStage

    from ..ids import invoice_workflow_id
    from ..invoice import CollectionUpdate, InvoiceWorkflow, UndeliveredCredit

from .billing import Billing
from .effects import DealEffects

# A written-off invoice stops the deal's deliveries, billing and revenue, and ends it WRITTEN_OFF
# once nothing is left to collect (before, it went on until all invoices were settled).
WRITE_OFF_STOPS_DEAL = "write-off-stops-deal"
# A cancellation credits only what was billed and not delivered (before: everything owed).
CANCEL_CREDITS_UNDELIVERED = "cancel-credits-undelivered"


class Collecting:
    def __init__(self, deal: DealEffects, billing: Billing) -> None:
        self.deal, self.billing = deal, billing
        self.answered: set[str] = set()  # the keys of requests the invoices have answered

    async def collect(self) -> tuple[DealStage, str] | None:
        """Until every invoice is settled: won when paid (or credited), else written off;
        None if a signed change order re-opened the order meanwhile (more to deliver)."""
        d = self.deal
        if d.state.stage is not DealStage.COLLECTING:  # on schedule, it may collect already
            d.enter(DealStage.COLLECTING)
        await d.until(lambda: self.settled() or self.billing.reopened())
        if self.billing.reopened():
            return None
        lost = [i.number for i in d.state.invoices if i.status is InvoiceStatus.WRITTEN_OFF]
        if lost:
            return DealStage.WRITTEN_OFF, f"written off: {', '.join(lost)}"
        return DealStage.WON, "paid in full"

    def settled(self) -> bool:
        return all(i.status is not InvoiceStatus.OPEN for i in self.deal.state.invoices)

    async def collectors_done(self) -> None:
        """The invoice children end once their invoice is settled; the deal outlives them."""
        await asyncio.gather(*self.billing.collections, return_exceptions=True)

    async def compensate(self, reason: str, actor: str) -> None:
        """Undo what a cancelled deal set in motion: stop recognizing revenue, credit what
        was billed and not delivered, cancel the order, owe back what was paid for nothing.
        What was delivered is still owed, and still collected."""
        d = self.deal
        if workflow.patched(CANCEL_CREDITS_UNDELIVERED):
            await self.stop_earning()
            await self.credit_undelivered(reason)
        else:
            for handle in self.billing.collections:
                await handle.signal(InvoiceWorkflow.cancel_deal, f"deal cancelled: {reason}")
            await workflow.wait_condition(self.settled)
            for schedule in self.billing.schedules:
                schedule.cancel()
        order = d.state.order
        if order is not None and order.status is not OrderStatus.FULFILLED:
            d.add(fx.CancelOrder(actor=actor))
            d.state.order = order.model_copy(update={"status": OrderStatus.CANCELLED})
        if d.state.invoices:
            d.add(fx.CloseCancelled())

    async def stop_earning(self) -> None:
        """Cancel the subscriptions' recognizers, and wait until they have stopped."""
        for schedule in self.billing.schedules:
            schedule.cancel()
        await asyncio.gather(*self.billing.schedules, return_exceptions=True)

    async def credit_undelivered(self, reason: str) -> None:
        """Newest invoice first, each open one credits what the deal billed and never
        earned, until nothing unearned is left (the invoice works that out in the ledger)."""
        request = f"deal cancelled: {reason}"
        for invoice in reversed(self.deal.state.invoices):
            if invoice.status is InvoiceStatus.OPEN:
                await self.ask_credit(invoice.number, request)

    async def ask_credit(self, number: str, reason: str) -> None:
        handle = next(h for h in self.billing.collections if h.id == invoice_workflow_id(number))
        if handle.done():
            return
        key = f"cancel:{number}"
        try:
            await handle.signal(
                InvoiceWorkflow.credit_undelivered, UndeliveredCredit(reason=reason, key=key)
            )
        except TemporalError:  # its collection ended meanwhile: paid or written off
            return
        await workflow.wait_condition(lambda: key in self.answered)

    def invoice_updated(self, update: CollectionUpdate) -> None:
        """From a collection child: the invoice as it stands, and the payment that changed it."""
        state = self.deal.state
        state.invoices = [
            update.invoice if i.number == update.invoice.number else i for i in state.invoices
        ]
        if update.payment and all(p.reference != update.payment.reference for p in state.payments):
            state.payments.append(update.payment)
        if update.answered is not None:
            self.answered.add(update.answered)
        if update.invoice.status is InvoiceStatus.WRITTEN_OFF:
            self.written_off(update.invoice.number)

    def written_off(self, number: str) -> None:
        """The first write-off stops deliveries, billing and revenue recognition at once;
        `DealEffects.until` ends the deal once nothing is left to collect."""
        d = self.deal
        if d.written_off is not None or d.state.stage.is_closed:
            return
        if not workflow.patched(WRITE_OFF_STOPS_DEAL):
            return
        d.written_off = number
        for schedule in self.billing.schedules:
            schedule.cancel()
