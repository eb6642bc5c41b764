"""Invoices a billing plan calls for, computed from the accepted quote.

Each invoice bills a share of every quote line. A share is rounded once per line; the
invoice that completes a line takes exactly what is left of it, so the invoices of a deal
always add up to the quote to the cent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .billing_plans import Installments, Milestones, OnDelivery, Upfront
from .money import exact, round_money
from .quotes import Quote, QuoteLine, with_default_category
from .tax import TaxCategory


class InvoiceLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    net: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    tax_category: TaxCategory = TaxCategory.STANDARD  # its quote line's; by rate if not given
    tax_note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _category_by_rate(cls, data: object) -> object:
        return with_default_category(data)


class InvoiceDraft(BaseModel):
    """An invoice to issue: its billing key makes it issued once per deal."""

    model_config = ConfigDict(frozen=True)

    billing_key: str
    currency: str
    lines: list[InvoiceLine]
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    payment_terms_days: int


class BillingEvent(BaseModel):
    """Something that may call for an invoice."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["signature", "delivery", "delivery_complete", "installment"]
    reference: str = ""
    delivered: dict[str, Decimal] = Field(default_factory=dict)
    delivered_before: dict[str, Decimal] = Field(default_factory=dict)
    index: int = 0


def _billed(issued: list[InvoiceDraft]) -> dict[str, tuple[Decimal, Decimal]]:
    billed: dict[str, tuple[Decimal, Decimal]] = {}
    for draft in issued:
        for line in draft.lines:
            net, tax = billed.get(line.sku, (Decimal(0), Decimal(0)))
            billed[line.sku] = (net + line.net, tax + line.tax)
    return billed


def _share_line(
    line: QuoteLine,
    done_after: tuple[Decimal, Decimal],
    billed: tuple[Decimal, Decimal],
    currency: str,
    description: str,
    quantity: Decimal,
) -> InvoiceLine:
    """Bill up to `done_after` (numerator, denominator) of the line, minus what earlier
    invoices billed.

    Rounding the running total rather than each share keeps every share non-negative and
    makes the share that completes the line take exactly what is left.
    """
    done, of = min(done_after[0], done_after[1]), done_after[1]
    with exact():  # multiply first: 5/6 as a Decimal would already be rounded
        net = round_money(line.net * done / of, currency) - billed[0]
        tax = round_money(line.tax * done / of, currency) - billed[1]
    return InvoiceLine(
        sku=line.sku,
        description=description,
        quantity=quantity,
        unit_price=line.unit_price,
        net=net,
        tax_rate=line.tax_rate,
        tax=tax,
        total=net + tax,
        tax_category=line.tax_category,
        tax_note=line.tax_note,
    )


def _draft(quote: Quote, key: str, lines: list[InvoiceLine]) -> InvoiceDraft:
    net = sum((line.net for line in lines), Decimal(0))
    tax = sum((line.tax for line in lines), Decimal(0))
    return InvoiceDraft(
        billing_key=key,
        currency=quote.currency,
        lines=lines,
        net_total=net,
        tax_total=tax,
        total=net + tax,
        payment_terms_days=quote.payment_terms_days,
    )


def bill_share(
    quote: Quote,
    key: str,
    done_pct: Decimal,
    issued: list[InvoiceDraft],
    label: str,
    of: Decimal = Decimal(100),
) -> InvoiceDraft:
    """Every line billed up to `done_pct` out of `of` in all (this invoice and the earlier)."""
    billed = _billed(issued)
    zero = (Decimal(0), Decimal(0))
    lines = [
        _share_line(
            line,
            (done_pct, of),
            billed.get(line.sku, zero),
            quote.currency,
            f"{line.name} ({label})",
            line.quantity,
        )
        for line in quote.lines
    ]
    return _draft(quote, key, lines)


def bill_delivery(quote: Quote, event: BillingEvent, issued: list[InvoiceDraft]) -> InvoiceDraft:
    """What one delivery delivered, line by line; a line delivered in full takes its rest."""
    billed = _billed(issued)
    zero = (Decimal(0), Decimal(0))
    lines = []
    for line in quote.lines:
        quantity = event.delivered.get(line.sku, Decimal(0))
        if quantity <= 0:
            continue
        before = event.delivered_before.get(line.sku, Decimal(0))
        lines.append(
            _share_line(
                line,
                (before + quantity, line.quantity),
                billed.get(line.sku, zero),
                quote.currency,
                f"{line.name}, delivery {event.reference}",
                quantity,
            )
        )
    return _draft(quote, f"delivery:{event.reference}", lines)


def invoices_for(
    quote: Quote, event: BillingEvent, issued: list[InvoiceDraft]
) -> list[InvoiceDraft]:
    """The invoices the quote's billing plan calls for on `event` (often none)."""
    plan = quote.billing_plan
    if isinstance(plan, OnDelivery) and event.kind == "delivery":
        return [bill_delivery(quote, event, issued)]
    if isinstance(plan, Upfront) and event.kind == "signature":
        return [bill_share(quote, "upfront", Decimal(100), issued, "upfront")]
    if isinstance(plan, Milestones) and event.kind in ("signature", "delivery_complete"):
        return _milestones(quote, plan, event, issued)
    if isinstance(plan, Installments) and event.kind == "installment":
        label = f"installment {event.index + 1} of {plan.count}"
        return [
            bill_share(
                quote,
                f"installment:{event.index}",
                Decimal(event.index + 1),
                issued,
                label,
                of=Decimal(plan.count),
            )
        ]
    return []


def _milestones(
    quote: Quote, plan: Milestones, event: BillingEvent, issued: list[InvoiceDraft]
) -> list[InvoiceDraft]:
    # Signature milestones are billed before delivery ones; each bills up to the running
    # percentage in that order.
    order = ("signature", "delivery_complete")
    ranked = sorted(enumerate(plan.milestones), key=lambda pair: order.index(pair[1].trigger))
    drafts: list[InvoiceDraft] = []
    done = Decimal(0)
    for index, milestone in ranked:
        done += milestone.percent
        if milestone.trigger != event.kind:
            continue
        label = f"{milestone.percent} % at {milestone.trigger.replace('_', ' ')}"
        drafts.append(bill_share(quote, f"milestone:{index}", done, [*issued, *drafts], label))
    return drafts


def installment_days(quote: Quote) -> list[int]:
    """When each installment falls due, in policy days after signature (0 = at signature)."""
    plan = quote.billing_plan
    if not isinstance(plan, Installments):
        return []
    return [plan.every_days * i for i in range(plan.count)]
