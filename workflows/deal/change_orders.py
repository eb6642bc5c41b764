"""Change orders of a signed deal (shared/API.md v2, domain/change_orders.py): the whole new
set of lines, approved on its delta, signed by the customer as a new contract version, then
applied from then on: the order, billing (a rise invoiced, a fall credited) and revenue
(prospectively). Driven by its updates, each one transaction; the deal's stage goes on."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.exceptions import TemporalError

with workflow.unsafe.imports_passed_through():
    from domain import effects as fx
    from domain.access import Action
    from domain.approval import ApprovalStep, StepStatus, check_approver
    from domain.change_orders import (
        ChangeOrder,
        ChangeOrderStatus,
        allocate_credit,
        as_quote_request,
        check_floor,
        check_subscriptions,
        invoiced_quantities,
        reallocate,
        rebill,
    )
    from domain.contract import Signature, draft_contract
    from domain.deal import ApprovalCommand, ChangeOrderCommand, SignCommand, StageAnswer
    from domain.errors import Conflict, WrongStage
    from domain.invoices import InvoiceStatus
    from domain.messages import PortalLink
    from domain.orders import reorder
    from domain.quotes import Quote, QuoteStatus, price_quote
    from domain.stages import DealStage

    from ..ids import invoice_workflow_id
    from ..invoice import ChangeCredit, InvoiceWorkflow
    from ..search_attributes import DEAL_AMOUNT

from .asking import Asking
from .billing import Billing
from .effects import DealEffects

# Deals started since: a change may add units after delivery (INVOICING, COLLECTING), which
# re-opens the order and takes the deal back to FULFILLING; its approvers are reminded and
# escalated as a quote's are; the deal's amount changes once it is signed. Earlier deals
# keep to additions while FULFILLING, with no follow-ups of their change approvals.
AFTER_DELIVERY = "change-orders-after-delivery"

CHANGING = (DealStage.FULFILLING, DealStage.INVOICING, DealStage.COLLECTING)
OPEN = (ChangeOrderStatus.AWAITING_APPROVAL, ChangeOrderStatus.AWAITING_SIGNATURE)


class ChangeOrders:
    def __init__(self, deal: DealEffects, billing: Billing) -> None:
        self.deal, self.billing = deal, billing
        self.quote: Quote | None = None  # the open change, priced
        self.steps: list[ApprovalStep] = []  # its approval steps
        self.after_delivery = False  # set once, by `run`, for the deal's life
        self.follow_ups: asyncio.Task[None] | None = None  # reminders of its approvers

    def open(self) -> ChangeOrder | None:
        changes = self.deal.state.change_orders
        return changes[-1] if changes and changes[-1].status in OPEN else None

    def awaiting(self, status: ChangeOrderStatus) -> bool:
        change = self.open()
        return change is not None and change.status is status

    # --- request ---

    def check(self, cmd: ChangeOrderCommand) -> Quote:
        """Refuse a change the deal cannot take; the change priced."""
        d = self.deal
        d.require(Action.QUOTE, cmd.actor, *CHANGING)
        if d.cancel is not None or d.written_off is not None:
            raise WrongStage("the deal is being cancelled or was written off")
        if (change := self.open()) is not None:
            raise Conflict(f"change order {change.number} is still {change.status}")
        current, order = d.terms, d.state.order
        assert current is not None and order is not None
        changed = price_quote(
            as_quote_request(current, cmd.request),
            cmd.price_book,
            len(d.state.quotes) + 1,
            workflow.now(),
            d.policy.day,
            cmd.tax,
        )
        delivered = order.delivered
        invoiced = invoiced_quantities(current, self.billing.issued, delivered)
        check_floor(cmd.request, delivered, invoiced)
        check_subscriptions(current, changed, delivered)
        if d.state.stage is not DealStage.FULFILLING and not self.after_delivery:
            added = [ln.sku for ln in changed.lines if ln.quantity > delivered.get(ln.sku, 0)]
            if added:
                raise WrongStage(
                    f"the deal is {d.state.stage}: everything was delivered, so a change may "
                    f"re-price its lines but not add to them ({', '.join(added)})"
                )
        if [ln.model_dump() for ln in changed.lines] == [ln.model_dump() for ln in current.lines]:
            raise Conflict("the change order changes nothing")
        return changed

    async def request(self, cmd: ChangeOrderCommand) -> ChangeOrder:
        d = self.deal
        changed = self.check(cmd)  # again: the deal may have moved since the validator ran
        current = d.terms
        assert current is not None
        contract = draft_contract(
            self._next_contract_version(),
            d.deal.deal_id,
            d.customer_name,
            d.deal.lead.contact_name,
            changed,
            workflow.now(),
        )
        steps = [
            s.model_copy(update={"subject": "change_order"})
            for s in d.policy.approval.steps_for_change(current, changed)
        ]
        number = len(d.state.change_orders) + 1
        change = ChangeOrder(
            number=number,
            status=ChangeOrderStatus.AWAITING_APPROVAL
            if steps
            else ChangeOrderStatus.AWAITING_SIGNATURE,
            reason=cmd.request.reason,
            quote_version=changed.version,
            contract_version=contract.version,
            contract=contract,
            lines=changed.lines,
            currency=changed.currency,
            delta_total=changed.total - current.total,
            delta_net=changed.net_total - current.net_total,
            requested_by=cmd.actor.username,
            requested_at=workflow.now(),
        )
        d.involved.add(cmd.actor.username)
        d.state.quotes.append(changed)
        d.state.change_orders.append(change)
        self.quote, self.steps = changed, steps
        d.add(
            fx.SaveQuote(quote=changed, actor=cmd.actor.username, pipeline=False),
            fx.DraftContract(contract=contract, steps=steps),
            fx.SaveChangeOrder(
                change_order=change, action="change_order.requested", actor=cmd.actor.username
            ),
        )
        if steps:
            self._ask(change, min(s.group for s in steps))
        else:
            self._send_for_signature(change)
        await d.commit()
        return change

    def _next_contract_version(self) -> int:
        d = self.deal
        versions = [c.contract_version for c in d.state.change_orders]
        return max([d.state.contract.version if d.state.contract else 0, *versions]) + 1

    # --- approval ---

    def _ask(self, change: ChangeOrder, group: int) -> None:
        """Ask the group's approvers as a quote's are asked; since `AFTER_DELIVERY`, remind
        and escalate them too, until the group is decided."""
        asking = self._asking(change)
        max_discount = max(ln.discount_pct for ln in change.lines)
        follow_ups = asking.ask(group, change.delta_total, change.currency, max_discount)
        if not self.after_delivery:
            return
        d = self.deal

        def decided() -> bool:
            asked = self.awaiting(ChangeOrderStatus.AWAITING_APPROVAL) and bool(
                asking.of(group, StepStatus.PENDING)
            )
            return not asked or d.ended or d.cancel is not None

        self.follow_ups = asyncio.create_task(asking.follow_up_until(group, follow_ups, decided))

    def _asking(self, change: ChangeOrder) -> Asking:
        return Asking(
            self.deal,
            f"change:{change.number}:approval",
            lambda: self.steps,
            lambda step, action: self._save(change, step, action),
        )

    def _save(
        self, change: ChangeOrder, step: ApprovalStep, action: str, actor: str = "system"
    ) -> None:
        self.steps = [step if s.index == step.index else s for s in self.steps]
        self.deal.add(
            fx.SaveApprovalStep(
                contract_version=change.contract_version, step=step, action=action, actor=actor
            )
        )

    def check_decision(self, cmd: ApprovalCommand) -> ApprovalStep:
        d = self.deal
        return check_approver(self.steps, cmd.actor, d.deal.owner, d.involved)

    async def decide(self, cmd: ApprovalCommand) -> list[ApprovalStep]:
        d = self.deal
        change = self.open()
        if change is None or change.status is not ChangeOrderStatus.AWAITING_APPROVAL:
            raise Conflict("the change order was already decided")
        step = self.check_decision(cmd)  # again, synchronously: one decision per step
        approved = cmd.body.decision == "approve"
        status = StepStatus.APPROVED if approved else StepStatus.REJECTED
        decided = {
            "status": status,
            "decided_at": workflow.now(),
            "decided_by": cmd.actor.username,
            "comment": cmd.body.comment,
        }
        self._save(
            change, step.model_copy(update=decided), f"approval.{status}", cmd.actor.username
        )
        if not approved:
            self._reject(change, cmd.actor.username, cmd.body.comment or "no reason given")
        elif all(s.status is StepStatus.APPROVED for s in self.steps):
            self._send_for_signature(change)
        elif not any(s.status is StepStatus.PENDING for s in self.steps):
            self._ask(change, min(s.group for s in self.steps if s.status is StepStatus.WAITING))
        await d.commit()
        return self.steps

    def _reject(self, change: ChangeOrder, by: str, why: str) -> None:
        d = self.deal
        for step in self.steps:
            if step.status in (StepStatus.PENDING, StepStatus.WAITING):
                self._save(
                    change,
                    step.model_copy(update={"status": StepStatus.WITHDRAWN}),
                    "approval.withdrawn",
                )
        self._update(change, ChangeOrderStatus.REJECTED, "change_order.rejected", by, note=why)
        d.add(
            fx.SetQuoteStatus(
                version=change.quote_version, status=QuoteStatus.REJECTED, reason=why, actor=by
            )
        )
        self._set_quote(change.quote_version, QuoteStatus.REJECTED)
        d.notify(
            "change_order_rejected",
            f"change:{change.number}:rejected",
            to_user=d.deal.owner,
            number=change.number,
            decided_by=by,
            reason=why,
        )

    def _send_for_signature(self, change: ChangeOrder) -> None:
        change = self._update(
            change, ChangeOrderStatus.AWAITING_SIGNATURE, "change_order.approved", "system"
        )
        self.deal.send(self.email(change, f"change:{change.number}:signature"))

    def email(self, change: ChangeOrder, key: str) -> Any:
        """The new contract version to the contact, with the link to sign it."""
        d = self.deal
        return d.email(
            "signature_requested",
            key,
            to=[d.deal.lead.email],
            portal=PortalLink(action="contract", version=change.contract_version),
            total=str(self.quote.total) if self.quote else "",
            currency=change.currency,
            sha256=change.contract.sha256,
        )

    # --- signature, and the change applied ---

    def check_signature(self, cmd: SignCommand) -> None:
        change = self.open()
        assert change is not None
        if cmd.version != change.contract_version:
            raise Conflict(f"contract version {cmd.version} is not the one to sign")

    async def sign(self, cmd: SignCommand) -> StageAnswer:
        d = self.deal
        change, changed, current = self.open(), self.quote, d.terms
        if change is None or change.status is not ChangeOrderStatus.AWAITING_SIGNATURE:
            raise Conflict("the change order is not waiting for a signature")
        assert changed is not None and current is not None and d.state.order is not None
        self.check_signature(cmd)
        signature = Signature(
            name=cmd.name, signed_at=workflow.now(), ip=cmd.ip, sha256=change.contract.sha256
        )
        d.add(
            fx.RecordSignature(
                version=change.contract_version, signature=signature, link_sent_to=cmd.link_sent_to
            ),
            fx.SetQuoteStatus(
                version=current.version, status=QuoteStatus.SUPERSEDED, actor="customer"
            ),
            fx.SetQuoteStatus(
                version=changed.version,
                status=QuoteStatus.ACCEPTED,
                actor="customer",
                link_sent_to=cmd.link_sent_to,
            ),
        )
        self._set_quote(current.version, QuoteStatus.SUPERSEDED)
        changed = self._set_quote(changed.version, QuoteStatus.ACCEPTED)
        self._update(
            change, ChangeOrderStatus.SIGNED, "change_order.signed", f"customer:{cmd.name}"
        )
        d.state.contract = change.contract.model_copy(update={"signature": signature})
        d.state.approvals = self.steps
        await self.apply(change, changed, f"customer:{cmd.name}")
        return d.answer()

    async def apply(self, change: ChangeOrder, changed: Quote, signer: str) -> None:
        """From now on: the order, billing and revenue under the changed lines."""
        d, billing = self.deal, self.billing
        assert d.state.order is not None
        delivered = d.state.order.delivered
        self.reorder(change, changed, signer)
        key, label = f"change:{change.number}", f"change order {change.number}"
        rebilled = rebill(changed, billing.issued, delivered, key, label)
        if rebilled.invoice is not None:
            billing.issue([rebilled.invoice])
        terms = changed.payment_terms_days
        credited = rebilled.credited(f"{key}:credited", changed.currency, terms)
        if credited is not None:
            billing.issued.append(credited)
        revenue = reallocate(changed, billing.recognized, delivered)
        billing.basis = (revenue.remaining, delivered)
        if revenue.catch_up != 0:
            d.add(
                fx.RecognizeRevenue(
                    key=f"change:{change.number}:catch-up",
                    memo=f"Revenue adjusted by change order {change.number}",
                    amount=revenue.catch_up,
                    currency=changed.currency,
                )
            )
            billing.recognized["change"] = (
                billing.recognized.get("change", Decimal(0)) + revenue.catch_up
            )
        d.terms = changed
        if self.after_delivery:
            billing.quote = changed  # what the schedules bill from now on
            d.search(DEAL_AMOUNT.value_set(float(changed.net_total)))
        await d.commit()
        await self.credit(change, rebilled.credit_total)

    def reorder(self, change: ChangeOrder, changed: Quote, signer: str) -> None:
        """The order takes the new quantities. Units added to an order delivered in full
        re-open it: the deal goes back to FULFILLING for them (its run delivers, invoices
        and collects again: workflow.py)."""
        d = self.deal
        assert d.state.order is not None
        was_delivered = d.state.order.is_fully_delivered
        order = reorder(d.state.order, changed, workflow.now())
        d.add(fx.UpdateOrder(order=order, change_order=change.number))
        d.state.order = order
        if was_delivered and not order.is_fully_delivered:
            note = f"change order {change.number} re-opened the order: {change.reason}"
            d.enter(DealStage.FULFILLING, note, signer)

    async def credit(self, change: ChangeOrder, amount: Decimal) -> None:
        """Take back what the change no longer owes, newest open invoice first."""
        if amount <= 0:
            return
        balances = [
            (i.number, i.balance)
            for i in self.deal.state.invoices
            if i.status is InvoiceStatus.OPEN
        ]
        for number, part in allocate_credit(amount, balances):
            handle = next(
                (h for h in self.billing.collections if h.id == invoice_workflow_id(number)), None
            )
            if handle is None or handle.done():
                continue
            try:
                await handle.signal(
                    InvoiceWorkflow.credit_for_change,
                    ChangeCredit(
                        amount=part,
                        reason=f"change order {change.number}: {change.reason}",
                        key=f"change:{change.number}:{number}",
                    ),
                )
            except TemporalError:  # its collection ended meanwhile: paid or written off
                continue

    # --- state ---

    def _update(
        self,
        change: ChangeOrder,
        status: ChangeOrderStatus,
        action: str,
        actor: str,
        note: str | None = None,
    ) -> ChangeOrder:
        d = self.deal
        updated = change.model_copy(
            update={"status": status, "decided_at": workflow.now(), "note": note or change.note}
        )
        d.state.change_orders = [
            updated if c.number == change.number else c for c in d.state.change_orders
        ]
        d.add(fx.SaveChangeOrder(change_order=updated, action=action, actor=actor))
        return updated

    def _set_quote(self, version: int, status: QuoteStatus) -> Quote:
        d = self.deal
        quote = next(q for q in d.state.quotes if q.version == version).model_copy(
            update={"status": status}
        )
        d.state.quotes = [quote if q.version == version else q for q in d.state.quotes]
        return quote
