"""COLLECTING until every invoice is settled (each by its own child workflow): WON when all
are paid or credited, WRITTEN_OFF otherwise; and what a cancellation must undo once money
is owed."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import effects as fx
    from domain.invoices import InvoiceStatus
    from domain.orders import OrderStatus
    from domain.stages import DealStage

    from ..invoice import CollectionUpdate, InvoiceWorkflow

from .billing import Billing
from .effects import DealEffects


class Collecting:
    def __init__(self, deal: DealEffects, billing: Billing) -> None:
        self.deal, self.billing = deal, billing

    async def collect(self) -> tuple[DealStage, str]:
        """Until every invoice is settled: won when paid (or credited), else written off."""
        d = self.deal
        if d.state.stage is not DealStage.COLLECTING:  # on schedule, it may collect already
            d.enter(DealStage.COLLECTING)
        await d.until(self.settled)
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
        """Undo what a cancelled deal set in motion: credit what is still owed, stop
        recognizing revenue, cancel the order, owe back what was paid for nothing."""
        d = self.deal
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

    def invoice_updated(self, update: CollectionUpdate) -> None:
        """From a collection child: the invoice as it stands, and the payment that changed it."""
        state = self.deal.state
        state.invoices = [
            update.invoice if i.number == update.invoice.number else i for i in state.invoices
        ]
        if update.payment and all(p.reference != update.payment.reference for p in state.payments):
            state.payments.append(update.payment)
