"""The deal's money steps: invoices by the billing plan, revenue as it is earned, and the
compensation a cancellation needs once money is owed."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.finance import (
        CloseCancelled,
        FinanceActivities,
        IssueInvoice,
        RecognizeRevenue,
    )
    from activities.storage import OrderCancellation, StorageActivities
    from domain.billing import BillingEvent, invoices_for
    from domain.invoices import InvoiceStatus
    from domain.messages import Attachment
    from domain.orders import Delivery, OrderStatus
    from domain.quotes import Quote
    from domain.revenue import recognitions_for_delivery

    from ..activity_options import FINANCE, STORAGE
    from ..ids import invoice_workflow_id, revenue_workflow_id
    from ..invoice import Collection, InvoiceWorkflow
    from ..revenue import RevenueSchedule, RevenueWorkflow

from .deal_steps import DealSteps


class DealMoney(DealSteps):
    async def bill(self, quote: Quote, event: BillingEvent) -> None:
        """Issue what the billing plan calls for on `event`; each invoice gets a collector."""
        for draft in invoices_for(quote, event, self._issued):
            invoice = await self.effect(
                FinanceActivities.issue_invoice,
                IssueInvoice(
                    deal_id=self._deal.deal_id,
                    draft=draft,
                    issued_at=workflow.now(),
                    day=self._deal.policy.day,
                ),
                **FINANCE,
            )
            self._issued.append(draft)
            self._state.invoices.append(invoice)
            self.notify(
                "invoice_issued",
                f"invoice:{invoice.number}",
                to=[self._deal.lead.email],
                attachments=[Attachment(kind="invoice", number=invoice.number)],
                invoice=invoice.model_dump(mode="json"),
            )
            self._collections.append(
                await workflow.start_child_workflow(
                    InvoiceWorkflow.run,
                    Collection(
                        invoice=invoice,
                        deal_workflow_id=workflow.info().workflow_id,
                        contact_email=self._deal.lead.email,
                        contact_name=self._deal.lead.contact_name,
                        company=self._customer_name,
                        policy=self._deal.policy,
                    ),
                    id=invoice_workflow_id(invoice.number),
                )
            )

    async def recognize(self, quote: Quote, delivery: Delivery) -> None:
        """Earn what a delivery delivered: goods and services now, subscriptions monthly."""
        earned = recognitions_for_delivery(
            quote,
            delivery.reference,
            {line.sku: line.quantity for line in delivery.lines},
            delivery.delivered_before,
        )
        for item in (r for r in earned if r.month is None):
            await self.effect(
                FinanceActivities.recognize_revenue,
                RecognizeRevenue(
                    deal_id=self._deal.deal_id,
                    key=item.key,
                    memo=f"Revenue {item.sku}, delivery {delivery.reference}",
                    amount=item.amount,
                    currency=quote.currency,
                    at=workflow.now(),
                ),
                **FINANCE,
            )
        monthly = [r for r in earned if r.month is not None]
        if monthly:
            self._schedules.append(
                await workflow.start_child_workflow(
                    RevenueWorkflow.run,
                    RevenueSchedule(
                        deal_id=self._deal.deal_id,
                        currency=quote.currency,
                        activated_at=delivery.delivered_at,
                        day=self._deal.policy.day,
                        items=monthly,
                    ),
                    id=revenue_workflow_id(self._deal.deal_id, delivery.reference),
                    parent_close_policy=ParentClosePolicy.ABANDON,  # it outlives a won deal
                )
            )

    async def compensate(self, reason: str, actor: str) -> None:
        """Undo what a cancelled deal set in motion: credit what is still owed, stop
        recognizing revenue, cancel the order, owe back what was paid for nothing."""
        now: datetime = workflow.now()
        for handle in self._collections:
            await handle.signal(InvoiceWorkflow.cancel_deal, f"deal cancelled: {reason}")
        await workflow.wait_condition(
            lambda: all(i.status is not InvoiceStatus.OPEN for i in self._state.invoices)
        )
        for schedule in self._schedules:
            schedule.cancel()
        order = self._state.order
        if order is not None and order.status is not OrderStatus.FULFILLED:
            await self.effect(
                StorageActivities.cancel_order,
                OrderCancellation(deal_id=self._deal.deal_id, at=now, actor=actor),
                **STORAGE,
            )
            self._state.order = order.model_copy(update={"status": OrderStatus.CANCELLED})
        if self._state.invoices:
            await self.effect(
                FinanceActivities.close_cancelled_deal,
                CloseCancelled(deal_id=self._deal.deal_id, at=now),
                **FINANCE,
            )
