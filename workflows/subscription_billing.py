"""SubscriptionBillingWorkflow: one subscription line of a deal, from its activation on.

It invoices each billing period at its start, each invoice written with its ledger entry and
e-mail in one transaction. A child of its deal with a schedule of its own: a five-year line
billed monthly is sixty timers here, not in the deal's history, and the run continues as new
every `PERIODS_PER_RUN` periods so its own history stays bounded however long it lives.

Since `LIFECYCLE` (docs/contracts.md, "Subscriptions"), the line lives as a subscription: its
states are recorded (activated, changed, cancelled at term end, renewed), an upgrade or
downgrade is prorated by the day (a charge at once, a credit carried to the next invoices),
the renewal notice goes out `renewal_notice_days` before the term ends (to the customer when
the line auto-renews, else a renewal quote to the owner), and at the term's end it renews at
the policy's uplift or ends. The first term's invoices are collected by the deal; once the
first term is invoiced the deal may close, and the subscription collects its own.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import ApplicationError, TemporalError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.deal_commits import DealCommitActivities
    from domain import effects as fx
    from domain.billing import InvoiceDraft, InvoiceLine
    from domain.billing_periods import period_invoices, period_key
    from domain.errors import Conflict, DomainError, WrongStage
    from domain.invoices import Invoice, InvoiceStatus
    from domain.messages import EmailRequest
    from domain.policy import DealPolicy
    from domain.quotes import Quantity, QuoteLine
    from domain.subscriptions import (
        Charge,
        Subscription,
        SubscriptionChange,
        TermBilled,
        activate,
        apply_change,
        bill_change,
        bill_period,
        cancel_at_term_end,
        day_of_term,
        leftover_credit,
        period_count,
        period_days,
        renew,
        renew_confirmed,
        renewal_notice_at,
    )
    from domain.users import Actor

    from .activity_options import FINANCE
    from .ids import invoice_workflow_id
    from .invoice import ChangeCredit, Collection, CollectionUpdate, InvoiceWorkflow

PERIODS_PER_RUN = 12
# The deal's signals: each period's invoice to collect, and the first term invoiced in full
# (workflows/deal/workflow.py).
INVOICED = "subscription_invoiced"
TERM_BILLED = "subscription_term_billed"


class Contact(BaseModel):
    """Who the subscription's invoices and notices go to."""

    email: str
    name: str
    company: str
    owner: str


class SubscriptionRun(BaseModel):
    """Where a subscription stands: carried from one run to the next."""

    subscription: Subscription
    seq: int = 1  # the last recorded state's place in the history
    term: int = 1
    billed: TermBilled = Field(default_factory=TermBilled)
    next_period: int = 0  # 0-based, in the term
    noticed: bool = False
    renewal_confirmed: bool = False
    changes: int = 0  # over the subscription's life: each change's invoice key
    deal_collects: bool = True  # the first term's invoices go to the deal
    last_invoice: str | None = None  # of the term: where a leftover credit goes
    open_invoices: list[str] = Field(default_factory=list)  # collected here, not yet settled
    periods_invoiced: int = 0
    activated: bool = False  # its first state recorded
    ended: bool = False


class SubscriptionBilling(BaseModel):
    """What the deal hands to a subscription line's billing, and where a run resumes."""

    deal_id: str
    deal_workflow_id: str
    currency: str
    payment_terms_days: int
    line: QuoteLine
    service_start: datetime
    day: timedelta
    email: EmailRequest  # the invoice e-mail, completed with each invoice's number
    next_period: int = 0  # 0-based: the first period this run invoices (before LIFECYCLE)
    # Since LIFECYCLE:
    lifecycle: bool = False
    subscription_id: str = ""
    customer_id: str = ""
    auto_renew: bool = False
    policy: DealPolicy | None = None
    contact: Contact | None = None
    run: SubscriptionRun | None = None


class QuantityChange(BaseModel):
    """An upgrade or downgrade, from now: the new quantity."""

    quantity: Quantity
    actor: Actor


class SubscriptionCommand(BaseModel):
    actor: Actor
    reason: str = ""


class SubscriptionView(BaseModel):
    """A subscription as it stands, and what its last command billed (net, tax)."""

    subscription: Subscription
    term: int
    ended: bool
    renewal_confirmed: bool
    next_renewal_price: Decimal | None
    charged: Charge | None = None


def _refusal(err: DomainError) -> ApplicationError:
    """A refusal that ends the update only (a handler checks again once it holds the lock),
    typed as the API maps it."""
    return ApplicationError(err.message, err.details(), type=type(err).__name__, non_retryable=True)


@workflow.defn
class SubscriptionBillingWorkflow:
    @workflow.init
    def __init__(self, billing: SubscriptionBilling) -> None:
        self.billing = billing
        self.lock = asyncio.Lock()  # one money change at a time, each on the term's totals
        self.r: SubscriptionRun | None = billing.run
        if billing.lifecycle and self.r is None:
            self.r = SubscriptionRun(subscription=self.first_state(billing))

    @workflow.run
    async def run(self, billing: SubscriptionBilling) -> int:
        """Invoice each period at its start; the number of periods invoiced."""
        if not billing.lifecycle:
            return await self.bill_term_once(billing)
        return await self.live()

    # --- before LIFECYCLE: the term's periods, once ---

    async def bill_term_once(self, billing: SubscriptionBilling) -> int:
        periods = period_invoices(billing.line, billing.currency, billing.payment_terms_days)
        upto = min(billing.next_period + PERIODS_PER_RUN, len(periods))
        for period in periods[billing.next_period : upto]:
            due = billing.service_start + billing.day * period.starts_after_days
            if due > workflow.now():
                await workflow.sleep(due - workflow.now())
            invoice = (await self.commit([self.issue(period.draft)])).invoices[0]
            await workflow.get_external_workflow_handle(billing.deal_workflow_id).signal(
                INVOICED, invoice
            )
        if upto < len(periods):
            workflow.continue_as_new(billing.model_copy(update={"next_period": upto}))
        return len(periods)

    # --- the subscription's life ---

    async def live(self) -> int:
        r = self.state
        if not r.activated:
            await self.record(r.subscription, "subscription.activated", {"term": 1})
            r.activated = True
        invoiced_here = 0
        while True:
            sub = r.subscription
            while r.next_period < period_count(sub):
                due = sub.term_start + self.day * (period_days(sub) * r.next_period)
                await self.notice_if_due(due)
                await self.until(due)
                async with self.lock:
                    await self.bill_next_period()
                invoiced_here += 1
                if invoiced_here >= PERIODS_PER_RUN and r.next_period < period_count(sub):
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    workflow.continue_as_new(self.billing.model_copy(update={"run": r}))
                sub = r.subscription
            await self.notice_if_due(sub.term_end)
            await self.until(r.subscription.term_end)
            async with self.lock:
                await self.give_back_leftover()
                if not await self.renew():
                    r.ended = True
                    await self.record_end()
                    break
        await workflow.wait_condition(lambda: not r.open_invoices)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return r.periods_invoiced

    async def bill_next_period(self) -> None:
        r = self.state
        sub, index = r.subscription, r.next_period
        charge, r.billed = bill_period(sub, r.billed, index)
        r.next_period += 1
        if charge.net > 0:
            count = period_count(sub)
            what = f"{sub.billing_period}, period {index + 1} of {count}"
            if r.term > 1:
                what += f", term {r.term}"
            key = period_key(sub.sku, index + 1)
            if r.term > 1:
                key = f"subscription:{sub.sku}:term{r.term}:{index + 1}"
            invoice = await self.invoice(key, what, charge)
            r.periods_invoiced += 1
            await self.hand_over(invoice)
        if r.term == 1 and r.next_period == period_count(sub) and r.deal_collects:
            await self.first_term_billed()

    async def first_term_billed(self) -> None:
        """The deal may close once this is told: what follows, this collects itself."""
        r = self.state
        r.deal_collects = False
        try:
            await workflow.get_external_workflow_handle(self.billing.deal_workflow_id).signal(
                TERM_BILLED, r.subscription.sku
            )
        except TemporalError:
            workflow.logger.info("the deal has closed: nothing to tell it")

    async def notice_if_due(self, before: datetime) -> None:
        """The renewal notice, if it falls before `before` and has not gone out."""
        r, policy = self.state, self.policy
        at = renewal_notice_at(r.subscription, policy)
        if r.noticed or at > before:
            return
        await self.until(at)
        async with self.lock:
            if r.noticed:
                return
            r.noticed = True
            await self.send_notice()

    async def send_notice(self) -> None:
        r, contact = self.state, self.contact
        sub = r.subscription
        following = renew(sub._with(auto_renew=True), self.policy)
        assert following is not None
        context = {
            "deal_id": self.billing.deal_id,
            "company": contact.company,
            "contact_name": contact.name,
            "owner": contact.owner,
            "sku": sub.sku,
            "quantity": str(sub.quantity),
            "term_end": sub.term_end.date().isoformat(),
            "unit_price": str(following.unit_price),
            "net": str(following.net),
            "tax": str(following.tax),
            "total": str(following.net + following.tax),
            "currency": sub.currency,
            "term_months": sub.term_months,
            "subscription_id": sub.subscription_id,
            "uplift_pct": str(self.policy.renewal_uplift_pct),
        }
        key = f"{self.billing.deal_id}:renewal:{sub.subscription_id}:{r.term}"
        if sub.auto_renew:
            template, action = "subscription_renewal_notice", "subscription.renewal_notice"
            mail = EmailRequest(
                key=key,
                deal_id=self.billing.deal_id,
                template=template,
                to=[contact.email],
                context=context,
            )
        else:
            template, action = "subscription_renewal_quote", "subscription.renewal_quoted"
            mail = EmailRequest(
                key=key,
                deal_id=self.billing.deal_id,
                template=template,
                to_user=contact.owner,
                context=context,
            )
        event = fx.RecordEvent(
            key=f"subscription:{sub.subscription_id}:notice:{r.term}",
            action=action,
            data={"subscription_id": sub.subscription_id, "term": r.term, **context},
        )
        await self.commit([event], emails=[mail])

    async def renew(self) -> bool:
        """At the term's end: the next term, at the uplifted price, or nothing."""
        r = self.state
        sub = r.subscription
        if sub.auto_renew:
            following = renew(sub, self.policy)
        elif r.renewal_confirmed:
            following = renew_confirmed(sub, self.policy)
        else:
            return False
        assert following is not None
        r.term += 1
        r.subscription, r.billed, r.next_period = following, TermBilled(), 0
        r.noticed = r.renewal_confirmed = False
        r.last_invoice = None
        data = {
            "term": r.term,
            "unit_price": str(following.unit_price),
            "from": str(sub.unit_price),
        }
        await self.record(following, "subscription.renewed", data)
        return True

    async def record_end(self) -> None:
        sub = self.state.subscription
        await self.commit(
            [
                fx.RecordEvent(
                    key=f"subscription:{sub.subscription_id}:ended",
                    action="subscription.ended",
                    data={
                        "subscription_id": sub.subscription_id,
                        "sku": sub.sku,
                        "term_end": sub.term_end.isoformat(),
                    },
                )
            ]
        )

    async def give_back_leftover(self) -> None:
        """A credit still carried at the term's end is credited on the term's last invoice."""
        r = self.state
        credit = leftover_credit(r.subscription, r.billed)
        if credit.total >= 0 or r.last_invoice is None:
            return
        handle = workflow.get_external_workflow_handle(invoice_workflow_id(r.last_invoice))
        reason = f"{r.subscription.sku}: unused days of term {r.term}"
        key = f"subscription:{r.subscription.subscription_id}:leftover:{r.term}"
        try:
            await handle.signal(
                InvoiceWorkflow.credit_for_change,
                ChangeCredit(amount=-credit.total, reason=reason, key=key),
            )
        except TemporalError:
            workflow.logger.info("invoice %s is settled: the credit is not given", r.last_invoice)

    # --- upgrades, downgrades, cancellation and renewal by hand ---

    @workflow.update
    async def change_quantity(self, change: QuantityChange) -> SubscriptionView:
        """From today: the days of the term invoiced already are charged (more) or credited
        (less, carried to the next invoices) at the new quantity; what follows is billed at it."""
        async with self.lock:
            self._check_live()
            r = self.state
            before = r.subscription
            on_day = day_of_term(before, workflow.now(), self.day)
            after = apply_change(
                before, SubscriptionChange(on_day=on_day, quantity=change.quantity), self.day
            )
            charge, r.billed = bill_change(before, after, r.billed, on_day)
            r.subscription = after
            r.changes += 1
            data = {
                "from": str(before.quantity),
                "to": str(after.quantity),
                "on_day": on_day,
                "net": str(charge.net),
                "tax": str(charge.tax),
            }
            await self.record(after, "subscription.changed", data, actor=change.actor.username)
            if charge.net > 0:
                what = f"{before.quantity} -> {after.quantity} from day {on_day + 1} of the term"
                key = f"subscription:{after.sku}:change:{r.changes}"
                await self.hand_over(await self.invoice(key, what, charge, after))
            return self.view(charge)

    @change_quantity.validator
    def _check_change(self, change: QuantityChange) -> None:
        self._check_live()
        if change.quantity == self.state.subscription.quantity:
            raise Conflict(f"the subscription has {change.quantity} already")

    @workflow.update
    async def cancel_at_term_end(self, cmd: SubscriptionCommand) -> SubscriptionView:
        """It runs to its term's end and does not renew: nothing is prorated or credited."""
        async with self.lock:
            self._check_live()
            r = self.state
            r.subscription = cancel_at_term_end(r.subscription, workflow.now())
            r.renewal_confirmed = False
            await self.record(
                r.subscription,
                "subscription.cancelled_at_term_end",
                {"reason": cmd.reason, "term_end": r.subscription.term_end.isoformat()},
                actor=cmd.actor.username,
            )
            return self.view()

    @cancel_at_term_end.validator
    def _check_cancel(self, cmd: SubscriptionCommand) -> None:
        self._check_live()
        r = self.state
        if not r.subscription.auto_renew and not r.renewal_confirmed:
            raise Conflict("the subscription already ends at its term's end")

    @workflow.update
    async def confirm_renewal(self, cmd: SubscriptionCommand) -> SubscriptionView:
        """The owner renews a subscription that does not auto-renew, at the renewal quote."""
        async with self.lock:
            self._check_live()
            r = self.state
            r.renewal_confirmed = True
            sub = r.subscription
            await self.commit(
                [
                    fx.RecordEvent(
                        key=f"subscription:{sub.subscription_id}:renewal_confirmed:{r.term}",
                        action="subscription.renewal_confirmed",
                        actor=cmd.actor.username,
                        data={
                            "subscription_id": sub.subscription_id,
                            "term": r.term,
                            "reason": cmd.reason,
                        },
                    )
                ]
            )
            return self.view()

    @confirm_renewal.validator
    def _check_renewal(self, cmd: SubscriptionCommand) -> None:
        self._check_live()
        r = self.state
        if r.subscription.auto_renew or r.renewal_confirmed:
            raise Conflict("the subscription renews already")

    @workflow.query
    def subscription(self) -> SubscriptionView:
        return self.view()

    @workflow.signal
    def invoice_updated(self, update: CollectionUpdate) -> None:
        """From the collection of an invoice this subscription collects itself."""
        r = self.r
        if r is not None and update.invoice.status is not InvoiceStatus.OPEN:
            r.open_invoices = [n for n in r.open_invoices if n != update.invoice.number]

    def _check_live(self) -> None:
        r = self.r
        if r is None:
            raise _refusal(WrongStage("this subscription was started before it could change"))
        if r.ended or workflow.now() >= r.subscription.term_end:
            raise _refusal(WrongStage("the subscription's term is over"))

    def view(self, charge: Charge | None = None) -> SubscriptionView:
        r = self.state
        sub = r.subscription
        following = renew(sub._with(auto_renew=True), self.policy) if self.billing.policy else None
        return SubscriptionView(
            subscription=sub,
            term=r.term,
            ended=r.ended,
            renewal_confirmed=r.renewal_confirmed,
            next_renewal_price=(
                following.unit_price
                if following and (sub.auto_renew or r.renewal_confirmed)
                else None
            ),
            charged=charge,
        )

    # --- writing and handing over ---

    async def invoice(
        self, key: str, what: str, charge: Charge, sub: Subscription | None = None
    ) -> Invoice:
        sub = sub or self.state.subscription
        item = InvoiceLine(
            sku=sub.sku,
            description=f"{self.billing.line.name} ({what})",
            quantity=sub.quantity,
            unit_price=sub.unit_price,
            net=charge.net,
            tax_rate=sub.tax_rate,
            tax=charge.tax,
            total=charge.total,
            tax_category=sub.tax_category,  # None: by its rate
            tax_note=sub.tax_note,
        )
        draft = InvoiceDraft(
            billing_key=key,
            currency=sub.currency,
            lines=[item],
            net_total=charge.net,
            tax_total=charge.tax,
            total=charge.total,
            payment_terms_days=self.billing.payment_terms_days,
        )
        invoice = (await self.commit([self.issue(draft)])).invoices[0]
        self.state.last_invoice = invoice.number
        return invoice

    async def hand_over(self, invoice: Invoice) -> None:
        """To the deal to collect while it collects the first term; else to a collector of
        this subscription's own (which outlives the run: ABANDON)."""
        r = self.state
        if r.deal_collects:
            try:
                await workflow.get_external_workflow_handle(self.billing.deal_workflow_id).signal(
                    INVOICED, invoice
                )
                return
            except TemporalError:
                r.deal_collects = False
        contact = self.contact
        r.open_invoices.append(invoice.number)
        await workflow.start_child_workflow(
            InvoiceWorkflow.run,
            Collection(
                invoice=invoice,
                deal_workflow_id=workflow.info().workflow_id,
                contact_email=contact.email,
                contact_name=contact.name,
                company=contact.company,
                policy=self.policy,
            ),
            id=invoice_workflow_id(invoice.number),
            parent_close_policy=ParentClosePolicy.ABANDON,
        )

    async def record(
        self, state: Subscription, action: str, data: dict[str, object], actor: str = "system"
    ) -> None:
        r = self.state
        seq = r.seq if action == "subscription.activated" else r.seq + 1
        await self.commit(
            [
                fx.RecordSubscription(
                    state=state, seq=seq, action=action, data=dict(data), actor=actor
                )
            ]
        )
        r.seq = seq

    def issue(self, draft: InvoiceDraft) -> fx.IssueInvoice:
        return fx.IssueInvoice(draft=draft, day=self.billing.day, email=self.billing.email)

    async def commit(
        self, effects: list[fx.Effect], emails: list[EmailRequest] | None = None
    ) -> fx.Committed:
        """The effects, their ledger entries and e-mails in one transaction, keyed (a retry
        finds what it wrote)."""
        commit = fx.DealCommit(
            deal_id=self.billing.deal_id, at=workflow.now(), effects=effects, emails=emails or []
        )
        return await workflow.execute_activity_method(
            DealCommitActivities.commit_deal, commit, **FINANCE
        )

    async def until(self, at: datetime) -> None:
        if at > workflow.now():
            await workflow.sleep(at - workflow.now())

    @staticmethod
    def first_state(billing: SubscriptionBilling) -> Subscription:
        return activate(
            billing.line,
            subscription_id=billing.subscription_id,
            customer_id=billing.customer_id,
            currency=billing.currency,
            service_start=billing.service_start,
            day=billing.day,
            auto_renew=billing.auto_renew,
        )

    @property
    def state(self) -> SubscriptionRun:
        assert self.r is not None
        return self.r

    @property
    def policy(self) -> DealPolicy:
        assert self.billing.policy is not None
        return self.billing.policy

    @property
    def contact(self) -> Contact:
        assert self.billing.contact is not None
        return self.billing.contact

    @property
    def day(self) -> timedelta:
        return self.billing.day
