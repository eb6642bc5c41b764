"""Orders and deliveries: what was sold, what has been delivered, and by when."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from .catalogue import ProductKind, Sku
from .errors import InvalidInput
from .quotes import Quantity, Quote


class OrderStatus(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    name: str
    kind: ProductKind
    quantity: Decimal
    delivered: Decimal = Decimal(0)


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    currency: str
    lines: list[OrderLine]
    created_at: datetime
    due_date: datetime
    status: OrderStatus = OrderStatus.OPEN
    fulfilled_at: datetime | None = None

    @property
    def delivered(self) -> dict[str, Decimal]:
        return {line.sku: line.delivered for line in self.lines}

    @property
    def is_fully_delivered(self) -> bool:
        return all(line.delivered >= line.quantity for line in self.lines)

    @property
    def on_time(self) -> bool | None:
        if self.fulfilled_at is None:
            return None
        return self.fulfilled_at <= self.due_date


class DeliveryLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Sku
    quantity: Quantity


class DeliveryRequest(BaseModel):
    """A delivery (or activation, for services) reported by ops; `reference` makes it once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lines: list[DeliveryLine] = Field(min_length=1, max_length=200)
    reference: str = Field(min_length=1, max_length=100)


class Delivery(BaseModel):
    model_config = ConfigDict(frozen=True)

    reference: str
    lines: list[DeliveryLine]
    delivered_at: datetime
    delivered_before: dict[str, Decimal] = Field(default_factory=dict)


def order_from_quote(
    order_id: str, quote: Quote, created_at: datetime, due_date: datetime
) -> Order:
    lines = [
        OrderLine(sku=line.sku, name=line.name, kind=line.kind, quantity=line.quantity)
        for line in quote.lines
    ]
    return Order(
        order_id=order_id,
        currency=quote.currency,
        lines=lines,
        created_at=created_at,
        due_date=due_date,
    )


def reorder(order: Order, quote: Quote, at: datetime) -> Order:
    """The order under a signed change: the changed quote's quantities, what was delivered
    kept (never above them: the change was checked against it); fulfilled when nothing is
    left to deliver."""
    delivered = order.delivered
    lines = [
        OrderLine(
            sku=line.sku,
            name=line.name,
            kind=line.kind,
            quantity=line.quantity,
            delivered=delivered.get(line.sku, Decimal(0)),
        )
        for line in quote.lines
    ]
    changed = order.model_copy(update={"lines": lines})
    if changed.is_fully_delivered:
        return changed.model_copy(
            update={"status": OrderStatus.FULFILLED, "fulfilled_at": order.fulfilled_at or at}
        )
    return changed.model_copy(update={"status": OrderStatus.OPEN, "fulfilled_at": None})


def check_delivery(order: Order, request: DeliveryRequest) -> None:
    """Refuse unknown SKUs, repeated SKUs and more than what is still to deliver."""
    remaining = {line.sku: line.quantity - line.delivered for line in order.lines}
    seen: set[str] = set()
    for index, line in enumerate(request.lines):
        if line.sku not in remaining:
            raise InvalidInput(f"{line.sku} is not on this order", field=("lines", index, "sku"))
        if line.sku in seen:
            raise InvalidInput(f"{line.sku} appears twice", field=("lines", index, "sku"))
        seen.add(line.sku)
        if line.quantity > remaining[line.sku]:
            raise InvalidInput(
                f"only {remaining[line.sku]} of {line.sku} left to deliver",
                field=("lines", index, "quantity"),
            )


def apply_delivery(order: Order, delivery: Delivery) -> Order:
    """The order after `delivery` (already checked)."""
    added = {line.sku: line.quantity for line in delivery.lines}
    lines = [
        line.model_copy(update={"delivered": line.delivered + added.get(line.sku, 0)})
        for line in order.lines
    ]
    updated = order.model_copy(update={"lines": lines})
    if updated.is_fully_delivered:
        updated = updated.model_copy(
            update={"status": OrderStatus.FULFILLED, "fulfilled_at": delivery.delivered_at}
        )
    return updated
