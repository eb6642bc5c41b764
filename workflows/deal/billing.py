"""Invoices by the billing plan (each posted and e-mailed in its command's transaction, then
collected by a child workflow of its own) and revenue as it is earned; INVOICING bills what
completion triggers and the installments as they fall due.

Billing on schedule (`ON_SCHEDULE`, docs/design.md): installments fall due on their dates from
signature whatever the deliveries, and each subscription line is invoiced per billing period
from its activation by a child of its own (workflows/subscription_billing.py); the plan bills
the rest. Everything invoiced before delivery is complete: the deal shows COLLECTING and still
takes deliveries; it is WON once delivered in full and paid.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain import effects as fx
    from domain.billing import BillingEvent, InvoiceDraft, installment_days, invoices_for
    from domain.billing_periods import (
        billed_by_period,
        billed_by_plan,
        everything_invoiced,
        period_count,
        period_key,
    )
    from domain.invoices import Invoice
    from domain.orders import Delivery
    from domain.quotes import Quote, QuoteLine
    from domain.revenue import Obligation, recognitions_for, recognitions_for_delivery
    from domain.stages import DealStage

    from ..ids import invoice_workflow_id, revenue_workflow_id, subscription_billing_workflow_id
    from ..invoice import Collection, InvoiceWorkflow
    from ..revenue import RevenueSchedule, RevenueWorkflow
    from ..subscription_billing import Contact, SubscriptionBilling, SubscriptionBillingWorkflow

from .effects import DealEffects

# Installments on their dates, subscriptions per period by a child (issue 14): deals started
# since. Earlier deals bill everything by their plan, installments once delivered.
ON_SCHEDULE = "billing-on-schedule"
# A subscription line lives on as a subscription (changes, renewal, cancellation at term end:
# workflows/subscription_billing.py) and outlives its won deal; before, it billed one term.
SUBSCRIPTION_LIFECYCLE = "subscription-lifecycle"


class Billing:
    def __init__(self, deal: DealEffects) -> None:
        self.deal = deal
        self.issued: list[InvoiceDraft] = []
        self.collections: list[workflow.ChildWorkflowHandle[Any, Invoice]] = []
        # Children that run on a schedule: revenue recognition, subscription billing.
        self.schedules: list[workflow.ChildWorkflowHandle[Any, int]] = []
        self.on_schedule = False  # set once, by `run`, for the deal's life
        self.periods: set[str] = set()  # billing keys of the subscription periods invoiced
        self.installments: asyncio.Task[None] | None = None
        self.quote: Quote | None = None  # the signed quote, once billing on schedule starts
        self.recognized: dict[str, Decimal] = {}  # per SKU, earned or scheduled to be
        # After a signed change order: what is left to deliver and will earn, and what had
        # been delivered when it was signed (revenue, prospectively: change_orders.py).
        self.basis: tuple[list[Obligation], dict[str, Decimal]] | None = None

    def bill(self, quote: Quote, event: BillingEvent) -> None:
        """Issue what the billing plan calls for on `event`, with the command's effects; on
        schedule, the plan bills all but the subscriptions, which start billing per period
        when a delivery activates them, and signature starts the installments' timers."""
        if self.deal.written_off is not None:
            return  # nothing is billed once an invoice is written off
        if self.on_schedule:
            self.schedule(quote, event)
            quote = billed_by_plan(quote)
            if not quote.lines:
                return
        keys = {draft.billing_key for draft in self.issued}  # billed once, even if re-opened
        drafts = invoices_for(quote, event, self.issued)
        self.issue([draft for draft in drafts if draft.lines and draft.billing_key not in keys])

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
        known = {i.number for i in self.deal.state.invoices}
        for invoice in (i for i in done.invoices if i.number not in known):
            await self.start_collector(invoice)

    async def start_collector(self, invoice: Invoice) -> None:
        d = self.deal
        d.state.invoices.append(invoice)
        handle = await workflow.start_child_workflow(
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
        self.collections.append(handle)
        if self.on_schedule and d.cancel is not None:  # issued on schedule as it was cancelled
            await handle.signal(
                InvoiceWorkflow.cancel_deal, f"deal cancelled: {d.cancel.body.reason}"
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

    async def invoice(self, quote: Quote) -> bool:
        """INVOICING: bill what completion triggers, and the installments as they fall due;
        False if a signed change order re-opened the order meanwhile."""
        if self.on_schedule:
            return await self.invoice_on_schedule(quote)
        d = self.deal
        d.enter(DealStage.INVOICING)
        self.bill(quote, BillingEvent(kind="delivery_complete"))
        signed = d.state.contract.signature if d.state.contract else None
        assert signed is not None
        for index, days in enumerate(installment_days(quote)[1:], start=1):
            due = signed.signed_at + d.policy.days(days)
            await d.until(lambda: False, due - workflow.now())
            self.bill(quote, BillingEvent(kind="installment", index=index))
        return True

    # --- billing on schedule ---

    async def invoice_on_schedule(self, quote: Quote) -> bool:
        """Delivered in full: bill what completion triggers, then wait until the schedules
        have invoiced the rest (INVOICING), unless they have already (COLLECTING)."""
        d = self.deal
        if d.state.stage is DealStage.FULFILLING:
            d.enter(DealStage.INVOICING)
        self.bill(quote, BillingEvent(kind="delivery_complete"))
        await d.until(lambda: self.invoiced(self.quote or quote) or self.reopened())
        return not self.reopened()

    def invoiced(self, quote: Quote) -> bool:
        return everything_invoiced(quote, self.issued, self.periods)

    def reopened(self) -> bool:
        """A signed change order added units to the order delivered in full."""
        order = self.deal.state.order
        return order is not None and not order.is_fully_delivered

    def schedule(self, quote: Quote, event: BillingEvent) -> None:
        """What starts a schedule: signature the installments, a delivery the subscriptions
        it activates."""
        self.quote = quote
        if event.kind == "signature" and installment_days(billed_by_plan(quote)):
            self.installments = asyncio.create_task(self.bill_installments(quote))
        if event.kind == "delivery":
            for line in quote.lines:
                activated = event.delivered.get(line.sku, 0) > 0
                if (
                    billed_by_period(line)
                    and activated
                    and not event.delivered_before.get(line.sku)
                ):
                    self.bill_periods(quote, line.sku)

    async def bill_installments(self, quote: Quote) -> None:
        """Installment k at k * every_days after signature (a durable timer each), whatever
        the deliveries; stops when the deal is cancelled."""
        d = self.deal
        contract = d.state.contract
        assert contract is not None and contract.signature is not None
        signed = contract.signature.signed_at
        for index, days in enumerate(installment_days(billed_by_plan(quote))[1:], start=1):
            if not await self.reached(signed + d.policy.days(days)):
                return
            terms = self.quote or quote  # the terms as they stand (a signed change order)
            self.bill(terms, BillingEvent(kind="installment", index=index))
            self.collect_if_invoiced(terms)
            await d.commit()

    async def reached(self, due: datetime) -> bool:
        """Wait for `due`; False if the deal is cancelled or over first."""
        d = self.deal
        try:
            await workflow.wait_condition(
                lambda: d.cancel is not None or d.ended, timeout=due - workflow.now()
            )
        except TimeoutError:
            return True
        return False

    def bill_periods(self, quote: Quote, sku: str) -> None:
        """The subscription line's own billing, from this delivery (its service start)."""
        d = self.deal
        line = next(line for line in quote.lines if line.sku == sku)
        billing = SubscriptionBilling(
            deal_id=d.deal.deal_id,
            deal_workflow_id=workflow.info().workflow_id,
            currency=quote.currency,
            payment_terms_days=quote.payment_terms_days,
            line=line,
            service_start=workflow.now(),
            day=d.policy.day,
            email=d.email("invoice_issued", "invoice", to=[d.deal.lead.email]),
        )

        close = ParentClosePolicy.REQUEST_CANCEL
        if workflow.patched(SUBSCRIPTION_LIFECYCLE):
            billing = self.lives_on(billing, line)
            close = ParentClosePolicy.ABANDON  # cancelled with the deal, outlives it won

        async def start(_: fx.Committed) -> None:
            self.schedules.append(
                await workflow.start_child_workflow(
                    SubscriptionBillingWorkflow.run,
                    billing,
                    id=subscription_billing_workflow_id(billing.deal_id, sku),
                    parent_close_policy=close,
                )
            )

        d.add(
            fx.RecordEvent(
                key=f"billing.subscription_started:{sku}",
                action="billing.subscription_started",
                data={"sku": sku, "period": line.billing_period, "periods": period_count(line)},
            )
        )
        d.after_commit(start)

    def lives_on(self, billing: SubscriptionBilling, line: QuoteLine) -> SubscriptionBilling:
        """The line as a subscription: who it bills and tells, and the deal's policy."""
        d = self.deal
        customer = d.state.customer
        return billing.model_copy(
            update={
                "lifecycle": True,
                "subscription_id": subscription_billing_workflow_id(billing.deal_id, line.sku),
                "customer_id": customer.customer_id if customer else d.deal.deal_id,
                "auto_renew": line.auto_renew,
                "policy": d.policy,
                "contact": Contact(
                    email=d.deal.lead.email,
                    name=d.deal.lead.contact_name,
                    company=d.customer_name,
                    owner=d.state.owner,
                ),
            }
        )

    async def term_billed(self, sku: str) -> None:
        """A subscription has invoiced its first term (some periods may have carried a
        credit instead): the deal has nothing more of it to wait for."""
        quote = self.quote
        if quote is None:
            return
        line = next((line for line in quote.lines if line.sku == sku), None)
        if line is None:
            return
        self.periods |= {period_key(sku, index) for index in range(1, period_count(line) + 1)}
        if self.collect_if_invoiced(quote):
            await self.deal.commit()

    async def period_invoiced(self, invoice: Invoice) -> None:
        """A subscription period's invoice, issued by its billing child: collect it."""
        if any(i.number == invoice.number for i in self.deal.state.invoices):
            return  # told twice
        self.periods.add(invoice.billing_key)
        await self.start_collector(invoice)
        if self.quote is not None and self.collect_if_invoiced(self.quote):
            await self.deal.commit()

    def collect_if_invoiced(self, quote: Quote) -> bool:
        """Everything invoiced by the schedules while deliveries are still to come: the deal
        collects meanwhile (deliveries are still taken); WON needs both."""
        d, order = self.deal, self.deal.state.order
        if (
            d.state.stage is DealStage.FULFILLING
            and d.cancel is None
            and order is not None
            and not order.is_fully_delivered
            and self.invoiced(quote)
        ):
            d.enter(DealStage.COLLECTING, "everything invoiced; deliveries still to come")
            return True
        return False

    def takes_deliveries(self) -> bool:
        """Deliveries are taken while FULFILLING, and while COLLECTING before they are done."""
        order, stage = self.deal.state.order, self.deal.state.stage
        if stage is DealStage.FULFILLING:
            return True
        return (
            self.on_schedule
            and stage is DealStage.COLLECTING
            and order is not None
            and not order.is_fully_delivered
        )
