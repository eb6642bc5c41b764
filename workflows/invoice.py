"""InvoiceWorkflow: collects one invoice (a child of the deal), payment by payment."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.email import EmailActivities
    from activities.errors import refusals_are_final
    from activities.finance import FinanceActivities
    from domain.access import Action, can
    from domain.errors import NotAllowed
    from domain.invoices import Invoice, InvoiceStatus, Payment, PaymentIn, check_payment
    from domain.messages import EmailRequest
    from domain.policy import DealPolicy
    from domain.users import Actor

    from .activity_options import EMAIL, FINANCE


class Collection(BaseModel):
    """What the deal hands to the invoice's collection."""

    invoice: Invoice
    deal_workflow_id: str
    contact_email: str
    contact_name: str
    company: str
    policy: DealPolicy


class PaymentCommand(BaseModel):
    payment: PaymentIn
    actor: Actor


class CollectionUpdate(BaseModel):
    """Sent to the deal whenever the invoice changes."""

    invoice: Invoice
    payment: Payment | None = None


@workflow.defn
class InvoiceWorkflow:
    @workflow.init
    def __init__(self, collection: Collection) -> None:
        self._collection = collection
        self._invoice = collection.invoice
        self._payments: list[Payment] = []
        self._lock = asyncio.Lock()
        self._mail: list[asyncio.Future[str]] = []

    @workflow.run
    async def run(self, collection: Collection) -> Invoice:
        await workflow.wait_condition(lambda: self._invoice.status is not InvoiceStatus.OPEN)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self._mail)
        return self._invoice

    @workflow.query
    def invoice(self) -> Invoice:
        return self._invoice

    @workflow.update
    async def record_payment(self, cmd: PaymentCommand) -> Invoice:
        async with self._lock:  # one payment at a time: each is checked against the balance
            if self._known(cmd.payment.reference):
                return self._invoice
            with refusals_are_final():
                check_payment(self._invoice, cmd.payment)
            now = workflow.now()
            payment = Payment(
                reference=cmd.payment.reference,
                invoice_number=self._invoice.number,
                deal_id=self._invoice.deal_id,
                amount=cmd.payment.amount,
                currency=cmd.payment.currency,
                received_at=cmd.payment.received_at or now,
                recorded_at=now,
                recorded_by=cmd.actor.username,
            )
            self._invoice = await workflow.execute_activity_method(
                FinanceActivities.record_payment, payment, **FINANCE
            )
            self._payments.append(payment)
            await workflow.get_external_workflow_handle(self._collection.deal_workflow_id).signal(
                "invoice_updated", CollectionUpdate(invoice=self._invoice, payment=payment)
            )
            self._receipt(payment)
            return self._invoice

    @record_payment.validator
    def _check_payment(self, cmd: PaymentCommand) -> None:
        with refusals_are_final():
            if not can(cmd.actor, Action.RECORD_PAYMENT):
                raise NotAllowed("only finance records payments")
            if not self._known(cmd.payment.reference):
                check_payment(self._invoice, cmd.payment)

    def _known(self, reference: str) -> bool:
        return any(p.reference == reference for p in self._payments)

    def _receipt(self, payment: Payment) -> None:
        """Send the receipt in the background: a slow mail server must not hold the payment."""
        c = self._collection
        request = EmailRequest(
            key=f"{self._invoice.deal_id}:payment:{payment.reference}",
            deal_id=self._invoice.deal_id,
            template="payment_received",
            to=[c.contact_email],
            context={
                "contact_name": c.contact_name,
                "invoice": self._invoice.number,
                "amount": str(payment.amount),
                "currency": payment.currency,
                "reference": payment.reference,
                "balance": str(self._invoice.balance),
            },
        )
        self._mail.append(
            workflow.start_activity_method(EmailActivities.send_email, request, **EMAIL)
        )
