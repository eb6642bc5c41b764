"""Revenue recognition (ASC 606 / IFRS 15, simplified): each quote line is a performance
obligation; the transaction price (the quote's net total) is allocated to the lines by their
standalone (list) price, so discounts spread across lines; goods and one-off services are
recognized when delivered, subscriptions ratably, month by month, over their term.

Amounts are allocated on running totals, so the parts of a line always add up to it.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from .catalogue import ProductKind
from .money import exact, round_money
from .quotes import Quote

DAYS_PER_MONTH = 30  # a subscription month, in policy days


class Obligation(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    kind: ProductKind
    quantity: Decimal
    allocated: Decimal  # net revenue this line earns in all
    term_months: int | None = None

    @property
    def ratable(self) -> bool:
        return self.kind is ProductKind.SUBSCRIPTION and bool(self.term_months)


class Recognition(BaseModel):
    """Revenue to recognize: now (`month` None) or `month` months after activation."""

    model_config = ConfigDict(frozen=True)

    key: str
    sku: str
    amount: Decimal
    month: int | None = None


def _part(total: Decimal, done: Decimal, of: Decimal, currency: str) -> Decimal:
    with exact():
        return round_money(total * done / of, currency) if of else Decimal(0)


def allocate(quote: Quote) -> list[Obligation]:
    """The quote's net total spread over its lines by standalone selling price."""
    obligations, standalone_before, allocated_before = [], Decimal(0), Decimal(0)
    for line in quote.lines:
        standalone_before += line.gross
        running = _part(quote.net_total, standalone_before, quote.subtotal, quote.currency)
        obligations.append(
            Obligation(
                sku=line.sku,
                kind=line.kind,
                quantity=line.quantity,
                allocated=running - allocated_before,
                term_months=line.term_months,
            )
        )
        allocated_before = running
    return obligations


def recognitions_for_delivery(
    quote: Quote,
    reference: str,
    delivered: dict[str, Decimal],
    delivered_before: dict[str, Decimal],
) -> list[Recognition]:
    """What a delivery (or activation) earns: goods and services now, subscriptions by month."""
    return recognitions_for(allocate(quote), quote.currency, reference, delivered, delivered_before)


def recognitions_for(
    obligations: list[Obligation],
    currency: str,
    reference: str,
    delivered: dict[str, Decimal],
    delivered_before: dict[str, Decimal],
) -> list[Recognition]:
    """What a delivery earns of these obligations (a quote's, or what a change order left to
    deliver), `delivered_before` counted against the same obligations."""
    found: list[Recognition] = []
    for ob in obligations:
        quantity = delivered.get(ob.sku, Decimal(0))
        if quantity <= 0:
            continue
        before = delivered_before.get(ob.sku, Decimal(0))
        earned = _part(ob.allocated, before + quantity, ob.quantity, currency) - _part(
            ob.allocated, before, ob.quantity, currency
        )
        key = f"{reference}:{ob.sku}"
        if not ob.ratable:
            found.append(Recognition(key=key, sku=ob.sku, amount=earned))
            continue
        term = Decimal(ob.term_months or 1)
        for month in range(ob.term_months or 1):
            amount = _part(earned, Decimal(month + 1), term, currency) - _part(
                earned, Decimal(month), term, currency
            )
            found.append(
                Recognition(key=f"{key}:m{month + 1}", sku=ob.sku, amount=amount, month=month)
            )
    return [r for r in found if r.amount != 0]
