"""Invoices by the billing plan (each posted and e-mailed in its command's transaction, then
collected by a child workflow of its own) and revenue as it is earned; INVOICING bills what
completion triggers and the installments as they fall due."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain import effects as fx
    from domain.billing import BillingEvent, InvoiceDraft, installment_days, invoices_for
    from domain.invoices import Invoice
    from domain.orders import Delivery
    from domain.quotes import Quote
    from domain.revenue import Obligation, recognitions_for, recognitions_for_delivery
    from domain.stages import DealStage

    from ..ids import invoice_workflow_id, revenue_workflow_id
    from ..invoice import Collection, InvoiceWorkflow
    from ..revenue import RevenueSchedule, RevenueWorkflow

from .effects import DealEffects


class Billing:
    def __init__(self, deal: DealEffects) -> None:
        self.deal = deal
        self.issued: list[InvoiceDraft] = []
        self.collections: list[workflow.ChildWorkflowHandle[Any, Invoice]] = []
        self.schedules: list[workflow.ChildWorkflowHandle[Any, int]] = []
        self.recognized: dict[str, Decimal] = {}  # per SKU, earned or scheduled to be
        # After a signed change order: what is left to deliver and will earn, and what had
        # been delivered when it was signed (revenue, prospectively: change_orders.py).
        self.basis: tuple[list[Obligation], dict[str, Decimal]] | None = None

    def bill(self, quote: Quote, event: BillingEvent) -> None:
        """Issue what the billing plan calls for on `event`, with the command's effects;
        nothing once an invoice is written off."""
        if self.deal.written_off is not None:
            return
        self.issue(invoices_for(quote, event, self.issued))

    def issue(self, drafts: list[InvoiceDraft]) -> None:
        """Issue these invoices with the command's effects; each gets a collector."""
        d = self.deal
        for draft in drafts:
            d.add(
                fx.IssueInvoice(
                    draft=draft,
                    day=d.policy.day,
                    email=d.email("invoice_issued", "invoice", to=[d.deal.lead.email]),
                )
            )
        self.issued.extend(drafts)
        if drafts:
            d.after_commit(self.collect)

    async def collect(self, done: fx.Committed) -> None:
        """Each new invoice gets a collector."""
        d = self.deal
        known = {i.number for i in d.state.invoices}
        for invoice in (i for i in done.invoices if i.number not in known):
            d.state.invoices.append(invoice)
            self.collections.append(
                await workflow.start_child_workflow(
                    InvoiceWorkflow.run,
                    Collection(
                        invoice=invoice,
                        deal_workflow_id=workflow.info().workflow_id,
                        contact_email=d.deal.lead.email,
                        contact_name=d.deal.lead.contact_name,
                        company=d.customer_name,
                        policy=d.policy,
                    ),
                    id=invoice_workflow_id(invoice.number),
                )
            )

    def recognize(self, quote: Quote, delivery: Delivery) -> None:
        """Earn what a delivery delivered: goods and services now, subscriptions monthly."""
        delivered = {line.sku: line.quantity for line in delivery.lines}
        if self.basis is None:
            earned = recognitions_for_delivery(
                quote, delivery.reference, delivered, delivery.delivered_before
            )
        else:
            remaining, at_change = self.basis
            since = {
                sku: qty - at_change.get(sku, Decimal(0))
                for sku, qty in delivery.delivered_before.items()
            }
            earned = recognitions_for(
                remaining, quote.currency, delivery.reference, delivered, since
            )
        for item in earned:
            self.recognized[item.sku] = self.recognized.get(item.sku, Decimal(0)) + item.amount
        for item in (r for r in earned if r.month is None):
            self.deal.add(
                fx.RecognizeRevenue(
                    key=item.key,
                    memo=f"Revenue {item.sku}, delivery {delivery.reference}",
                    amount=item.amount,
                    currency=quote.currency,
                )
            )
        monthly = [r for r in earned if r.month is not None]
        if not monthly:
            return
        schedule = RevenueSchedule(
            deal_id=self.deal.deal.deal_id,
            currency=quote.currency,
            activated_at=delivery.delivered_at,
            day=self.deal.policy.day,
            items=monthly,
        )

        async def start(_: fx.Committed) -> None:
            if self.deal.written_off is not None:
                return  # written off while this delivery was being written: nothing to earn
            self.schedules.append(
                await workflow.start_child_workflow(
                    RevenueWorkflow.run,
                    schedule,
                    id=revenue_workflow_id(schedule.deal_id, delivery.reference),
                    parent_close_policy=ParentClosePolicy.ABANDON,  # it outlives a won deal
                )
            )

        self.deal.after_commit(start)

    async def invoice(self, quote: Quote) -> None:
        """INVOICING: bill what completion triggers, and the installments as they fall due."""
        d = self.deal
        d.enter(DealStage.INVOICING)
        self.bill(quote, BillingEvent(kind="delivery_complete"))
        signed = d.state.contract.signature if d.state.contract else None
        assert signed is not None
        for index, days in enumerate(installment_days(quote)[1:], start=1):
            due = signed.signed_at + d.policy.days(days)
            await d.until(lambda: False, due - workflow.now())
            self.bill(quote, BillingEvent(kind="installment", index=index))
