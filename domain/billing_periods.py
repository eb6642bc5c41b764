"""Billing on schedule: subscriptions invoiced once per billing period from their service
start, and what a deal's plan bills once they are taken out of it.

A subscription line is split over the periods of its term on running totals (as every other
share in l2c), so its period invoices add up to the line to the cent.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from .billing import InvoiceDraft, InvoiceLine
from .billing_plans import PERIOD_MONTHS
from .catalogue import ProductKind
from .money import exact, round_money
from .quotes import Quote, QuoteLine
from .revenue import DAYS_PER_MONTH


def split_evenly(total: Decimal, parts: int, currency: str) -> list[Decimal]:
    """`total` in `parts` shares as equal as the currency's minor unit allows, adding up to
    `total` exactly: share k is round(total * (k+1) / parts) - round(total * k / parts)."""
    if parts < 1:
        raise ValueError("split into at least one part")
    with exact():
        running = [round_money(total * k / parts, currency) for k in range(parts + 1)]
    return [high - low for low, high in zip(running, running[1:], strict=False)]


def billed_by_period(line: QuoteLine) -> bool:
    """A subscription with a term is invoiced per period, not by the deal's plan."""
    return line.kind is ProductKind.SUBSCRIPTION and bool(line.term_months)


def billed_by_plan(quote: Quote) -> Quote:
    """The part of `quote` the deal's billing plan bills: every line but the subscriptions."""
    lines = [line for line in quote.lines if not billed_by_period(line)]
    subtotal = sum((line.gross for line in lines), Decimal(0))
    discount = sum((line.discount for line in lines), Decimal(0))
    tax = sum((line.tax for line in lines), Decimal(0))
    return quote.model_copy(
        update={
            "lines": lines,
            "subtotal": subtotal,
            "discount_total": discount,
            "tax_total": tax,
            "total": subtotal - discount + tax,
        }
    )


class PeriodInvoice(BaseModel):
    """One billing period of a subscription line: when it starts and what it invoices."""

    model_config = ConfigDict(frozen=True)

    index: int  # 1-based
    of: int
    starts_after_days: int  # policy days after the service start
    draft: InvoiceDraft


def period_key(sku: str, index: int) -> str:
    """The billing key of a period's invoice: issued once per deal, line and period."""
    return f"subscription:{sku}:{index}"


def period_count(line: QuoteLine) -> int:
    return (line.term_months or 1) // PERIOD_MONTHS[line.billing_period or "monthly"]


def period_invoices(line: QuoteLine, currency: str, payment_terms_days: int) -> list[PeriodInvoice]:
    """A subscription line's invoices, one at the start of each period of its term."""
    period = line.billing_period or "monthly"
    count = period_count(line)
    nets = split_evenly(line.net, count, currency)
    taxes = split_evenly(line.tax, count, currency)
    found = []
    for index, (net, tax) in enumerate(zip(nets, taxes, strict=True), start=1):
        item = InvoiceLine(
            sku=line.sku,
            description=f"{line.name} ({period}, period {index} of {count})",
            quantity=line.quantity,
            unit_price=line.unit_price,
            net=net,
            tax_rate=line.tax_rate,
            tax=tax,
            total=net + tax,
            tax_category=line.tax_category,
            tax_note=line.tax_note,
        )
        found.append(
            PeriodInvoice(
                index=index,
                of=count,
                starts_after_days=(index - 1) * PERIOD_MONTHS[period] * DAYS_PER_MONTH,
                draft=InvoiceDraft(
                    billing_key=period_key(line.sku, index),
                    currency=currency,
                    lines=[item],
                    net_total=net,
                    tax_total=tax,
                    total=net + tax,
                    payment_terms_days=payment_terms_days,
                ),
            )
        )
    return found


def invoiced_by_plan(quote: Quote, issued: list[InvoiceDraft]) -> bool:
    """Whether the plan's invoices so far bill every line of `quote` in full."""
    billed: dict[str, tuple[Decimal, Decimal]] = {}
    for draft in issued:
        for item in draft.lines:
            net, tax = billed.get(item.sku, (Decimal(0), Decimal(0)))
            billed[item.sku] = (net + item.net, tax + item.tax)
    zero = (Decimal(0), Decimal(0))
    return all(billed.get(line.sku, zero) == (line.net, line.tax) for line in quote.lines)


def everything_invoiced(quote: Quote, issued: list[InvoiceDraft], periods: set[str]) -> bool:
    """The plan has billed its lines in full and every subscription line all its periods."""
    return invoiced_by_plan(billed_by_plan(quote), issued) and all(
        period_key(line.sku, index) in periods
        for line in quote.lines
        if billed_by_period(line)
        for index in range(1, period_count(line) + 1)
    )
