"""FULFILLING: the order from the signed quote, then deliveries (partial ones too) until
everything is delivered; each delivery is billed and earned as the plan says."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import effects as fx
    from domain.access import Action, can
    from domain.billing import BillingEvent
    from domain.credit import check_not_on_hold
    from domain.deal import DeliveryCommand
    from domain.errors import DomainError, NotAllowed, WrongStage
    from domain.orders import Delivery, Order, apply_delivery, check_delivery, order_from_quote
    from domain.quotes import Quote
    from domain.stages import DealStage

from .billing import Billing
from .credit import has_credit_standing, read_credit_standing
from .effects import DealEffects


class Fulfilment:
    def __init__(self, deal: DealEffects, billing: Billing) -> None:
        self.deal, self.billing = deal, billing
        self.queue: list[DeliveryCommand] = []  # accepted, not yet applied
        self.refusals: dict[str, DomainError] = {}  # reference -> why it was not applied

    async def fulfil(self, quote: Quote, signer: str) -> None:
        """Create the order, bill what signature triggers, then take deliveries until done."""
        d = self.deal
        d.enter(DealStage.FULFILLING, actor=f"customer:{signer}")
        now = workflow.now()
        order = order_from_quote(
            f"ORD-{d.deal.deal_id}", quote, now, now + d.policy.days(d.policy.delivery_due_days)
        )
        d.add(fx.CreateOrder(order=order))
        d.state.order = order
        self.billing.bill(quote, BillingEvent(kind="signature"))
        self.billing.bill(quote, BillingEvent(kind="installment", index=0))
        await self.deliveries()

    async def deliveries(self) -> None:
        """Take deliveries until the order is delivered in full. A signed change order may
        change the order and the terms meanwhile, or re-open an order delivered in full
        (change_orders.py): then the deal takes deliveries here again."""
        d = self.deal
        assert d.state.order is not None and d.terms is not None
        while not d.state.order.is_fully_delivered:
            await d.until(lambda: bool(self.queue) or self._delivered_in_full())
            if self.queue:
                self.deliver(d.terms, d.state.order, self.queue.pop(0))

    def _delivered_in_full(self) -> bool:
        return self.deal.state.order is not None and self.deal.state.order.is_fully_delivered

    def deliver(self, quote: Quote, order: Order, cmd: DeliveryCommand) -> Order:
        d = self.deal
        try:
            d.require_not_written_off()  # written off while the delivery waited its turn
            check_delivery(order, cmd.request)  # an earlier queued delivery may have used it up
        except DomainError as refusal:
            self.refusals[cmd.request.reference] = refusal
            return order
        delivery = Delivery(
            reference=cmd.request.reference,
            lines=cmd.request.lines,
            delivered_at=workflow.now(),
            delivered_before=order.delivered,
        )
        order = apply_delivery(order, delivery)
        d.add(fx.RecordDelivery(delivery=delivery, order=order, actor=cmd.actor.username))
        d.state.order = order
        d.state.deliveries.append(delivery)
        self.billing.recognize(quote, delivery)
        self.billing.bill(
            quote,
            BillingEvent(
                kind="delivery",
                reference=delivery.reference,
                delivered={line.sku: line.quantity for line in delivery.lines},
                delivered_before=delivery.delivered_before,
            ),
        )
        return order

    def delivered(self, reference: str) -> bool:
        return any(d.reference == reference for d in self.deal.state.deliveries)

    def queued(self, reference: str) -> bool:
        return any(c.request.reference == reference for c in self.queue)

    async def refuse_on_credit_hold(self) -> None:
        """Nothing is delivered to a customer on credit hold (409, saying why); the hold
        ends with its cause, so the same delivery sent again later may go through."""
        order = self.deal.state.order
        if order is not None and has_credit_standing():
            check_not_on_hold(await read_credit_standing(self.deal, order.currency))

    # --- the update ---

    async def record(self, cmd: DeliveryCommand) -> Order:
        reference = cmd.request.reference
        if not self.delivered(reference):
            if not self.queued(reference):
                await self.refuse_on_credit_hold()
            if not self.queued(reference) and not self.delivered(reference):
                self.queue.append(cmd)
            await self.deal.settled(lambda: self.delivered(reference) or reference in self.refusals)
            refusal = self.refusals.get(reference)
            if refusal is not None:
                raise refusal
            if not self.delivered(reference):
                self.deal.require_not_written_off()  # it ended the deal before this turn
        assert self.deal.state.order is not None
        return self.deal.state.order

    def check(self, cmd: DeliveryCommand) -> None:
        d = self.deal
        if not can(cmd.actor, Action.DELIVER, d.deal.owner):
            raise NotAllowed("ops or the deal owner record deliveries")
        if self.delivered(cmd.request.reference):
            return  # a repeated reference is a no-op
        d.require_not_written_off()
        if not self.billing.takes_deliveries():
            d.require_stage(DealStage.FULFILLING)
        if d.state.order is None:
            raise WrongStage("the order is not created yet")
        check_delivery(d.state.order, cmd.request)
