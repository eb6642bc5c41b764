"""InvoiceWorkflow: collects one invoice, a child of its deal. Payments and credit notes
as they come; dunning e-mails at the policy's steps after the due date; written off after
the last one (finance may write off sooner). A cancelled deal credits what is still owed."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.email import EmailActivities
    from activities.errors import refusals_are_final
    from activities.finance import (
        CreditUndelivered,
        FinanceActivities,
        IssueCreditNote,
        PaymentCommit,
        WriteOff,
    )
    from domain.access import Action, can
    from domain.errors import NotAllowed, PaymentRefused
    from domain.invoices import (
        CreditNote,
        CreditNoteIn,
        Invoice,
        InvoiceStatus,
        Payment,
        PaymentIn,
        check_credit,
        check_payment,
    )
    from domain.messages import Attachment, EmailRequest
    from domain.policy import DealPolicy
    from domain.users import Actor

    from .activity_options import COMMIT, EMAIL, FINANCE

# Since the outbox relay: receipts and dunning letters are written to the outbox in the
# transaction that causes them, and the collection no longer waits for mail to leave.
OUTBOX = "outbox-relay"


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


class CreditNoteCommand(BaseModel):
    body: CreditNoteIn
    actor: Actor
    request_key: str  # the same key issues one credit note, however often it is sent


class WriteOffCommand(BaseModel):
    reason: str
    actor: Actor


class UndeliveredCredit(BaseModel):
    """A cancelled deal asks for a credit of what this invoice billed and was not delivered."""

    reason: str
    key: str  # one credit note per key; the answer to the deal names it


class ChangeCredit(BaseModel):
    """A signed change order takes back part of what this invoice billed."""

    amount: Decimal
    reason: str
    key: str  # one credit note per key


class CollectionUpdate(BaseModel):
    """Sent to the deal whenever the invoice changes, and to answer its requests."""

    invoice: Invoice
    payment: Payment | None = None
    answered: str | None = None  # the key of the deal's request this answers


@workflow.defn
class InvoiceWorkflow:
    @workflow.init
    def __init__(self, collection: Collection) -> None:
        self._collection = collection
        self._invoice = collection.invoice
        self._payments: list[Payment] = []
        self._lock = asyncio.Lock()  # one money change at a time, each checked on the balance
        self._mail: list[asyncio.Future[str]] = []
        self._cancelled: str | None = None

    @workflow.run
    async def run(self, collection: Collection) -> Invoice:
        policy = collection.policy
        steps = [*collection.policy.collection.dunning_days, None]
        for level, days in enumerate(steps, start=1):
            after = days if days is not None else policy.collection.write_off_after_days
            if await self.settled_by(self._invoice.due_date + policy.days(after)):
                break
            if days is None:
                await self.write_off(Actor.system(), "unpaid after the last reminder")
            else:
                await self.dun(level)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self._mail, return_exceptions=True)
        return self._invoice

    async def settled_by(self, deadline: Any) -> bool:
        """Wait until the invoice is settled or `deadline`; credit it if the deal is cancelled."""
        timeout = deadline - workflow.now()
        if timeout > timedelta(0):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: not self._open or self._cancelled is not None, timeout=timeout
                )
        if self._cancelled is not None and self._open:
            async with self._lock:
                if self._open:
                    await self.credit(
                        self._invoice.balance,
                        self._cancelled,
                        Actor.system(),
                        f"{self._invoice.number}:cancellation",
                    )
        return not self._open

    @property
    def _open(self) -> bool:
        return self._invoice.status is InvoiceStatus.OPEN

    async def dun(self, level: int) -> None:
        c = self._collection
        await self._send(
            EmailRequest(
                key=f"{self._invoice.deal_id}:dunning:{self._invoice.number}:{level}",
                deal_id=self._invoice.deal_id,
                template="dunning",
                to=[c.contact_email],
                attachments=[Attachment(kind="invoice", number=self._invoice.number)],
                context={
                    "contact_name": c.contact_name,
                    "company": c.company,
                    "level": level,
                    "invoice": self._invoice.number,
                    "balance": str(self._invoice.balance),
                    "currency": self._invoice.currency,
                    "due_date": self._invoice.due_date.date().isoformat(),
                },
            )
        )

    async def write_off(self, actor: Actor, reason: str) -> None:
        self._invoice = await workflow.execute_activity_method(
            FinanceActivities.write_off_invoice,
            WriteOff(
                number=self._invoice.number, at=workflow.now(), actor=actor.username, reason=reason
            ),
            **FINANCE,
        )
        await self._tell_deal()

    async def credit(
        self, amount: Any, reason: str, actor: Actor, key: str, unearned: bool = False
    ) -> CreditNote:
        issued = await workflow.execute_activity_method(
            FinanceActivities.issue_credit_note,
            IssueCreditNote(
                number=self._invoice.number,
                amount=amount,
                reason=reason,
                at=workflow.now(),
                actor=actor.username,
                request_key=key,
                unearned=unearned,
            ),
            **FINANCE,
        )
        self._invoice = issued.invoice
        await self._tell_deal()
        return issued.note

    # ------------------------------------------------------------------ commands

    @workflow.query
    def invoice(self) -> Invoice:
        return self._invoice

    @workflow.signal
    def cancel_deal(self, reason: str) -> None:
        """Deals cancelled before `credit_undelivered`: credit everything still owed."""
        self._cancelled = reason

    @workflow.signal
    async def credit_undelivered(self, request: UndeliveredCredit) -> None:
        """Credit what the invoice billed and the cancelled deal never delivered (the
        deal's unearned revenue, with its tax); the rest is still collected. Always answered,
        so the deal knows it is done."""
        async with self._lock:
            if self._open:
                credited = await workflow.execute_activity_method(
                    FinanceActivities.credit_undelivered,
                    CreditUndelivered(
                        number=self._invoice.number,
                        reason=request.reason,
                        at=workflow.now(),
                        actor=Actor.system().username,
                        request_key=request.key,
                    ),
                    **FINANCE,
                )
                self._invoice = credited.invoice
        await self._tell_deal(answered=request.key)

    @workflow.signal
    async def credit_for_change(self, request: ChangeCredit) -> None:
        """Credit what a signed change order no longer owes, up to the open balance (the
        deal allotted it against this balance; a payment since may have lowered it)."""
        async with self._lock:
            amount = min(request.amount, self._invoice.balance)
            if self._open and amount > 0:
                await self.credit(
                    amount, request.reason, Actor.system(), request.key, unearned=True
                )

    @workflow.update
    async def record_payment(self, cmd: PaymentCommand) -> Invoice:
        async with self._lock:
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
            if workflow.patched(OUTBOX):
                self._invoice = await workflow.execute_local_activity_method(
                    FinanceActivities.commit_payment,
                    PaymentCommit(payment=payment, receipt=self._receipt(payment)),
                    **COMMIT,
                )
                self._payments.append(payment)
                await self._tell_deal(payment)
            else:
                self._invoice = await workflow.execute_activity_method(
                    FinanceActivities.record_payment, payment, **FINANCE
                )
                self._payments.append(payment)
                await self._tell_deal(payment)
                await self._send(self._receipt(payment))
            return self._invoice

    @record_payment.validator
    def _check_payment(self, cmd: PaymentCommand) -> None:
        with refusals_are_final():
            self._require_finance(cmd.actor)
            if not self._known(cmd.payment.reference):
                check_payment(self._invoice, cmd.payment)

    @workflow.update
    async def issue_credit_note(self, cmd: CreditNoteCommand) -> CreditNote:
        async with self._lock:
            with refusals_are_final():
                check_credit(self._invoice, cmd.body.amount)
            return await self.credit(cmd.body.amount, cmd.body.reason, cmd.actor, cmd.request_key)

    @issue_credit_note.validator
    def _check_credit(self, cmd: CreditNoteCommand) -> None:
        with refusals_are_final():
            self._require_finance(cmd.actor, Action.ISSUE_CREDIT_NOTE)
            check_credit(self._invoice, cmd.body.amount)

    @workflow.update
    async def write_off_now(self, cmd: WriteOffCommand) -> Invoice:
        async with self._lock:
            if self._open:
                await self.write_off(cmd.actor, cmd.reason)
            return self._invoice

    @write_off_now.validator
    def _check_write_off(self, cmd: WriteOffCommand) -> None:
        with refusals_are_final():
            self._require_finance(cmd.actor, Action.WRITE_OFF)
            if not self._open:
                raise PaymentRefused(
                    f"invoice {self._invoice.number} is {self._invoice.status}",
                    field=("invoice_number",),
                )

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _require_finance(actor: Actor, action: Action = Action.RECORD_PAYMENT) -> None:
        if not can(actor, action):
            raise NotAllowed("only finance records payments, credit notes and write-offs")

    def _known(self, reference: str) -> bool:
        return any(p.reference == reference for p in self._payments)

    async def _tell_deal(self, payment: Payment | None = None, answered: str | None = None) -> None:
        await workflow.get_external_workflow_handle(self._collection.deal_workflow_id).signal(
            "invoice_updated",
            CollectionUpdate(invoice=self._invoice, payment=payment, answered=answered),
        )

    def _receipt(self, payment: Payment) -> EmailRequest:
        c = self._collection
        return EmailRequest(
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

    async def _send(self, request: EmailRequest) -> None:
        """Into the outbox; before the relay, sent in the background by an activity."""
        if workflow.patched(OUTBOX):
            await workflow.execute_local_activity_method(
                FinanceActivities.queue_email, request, **COMMIT
            )
        else:
            self._mail.append(
                workflow.start_activity_method(EmailActivities.send_email, request, **EMAIL)
            )
