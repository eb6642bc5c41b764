"""Change orders: a signed deal's whole new set of lines (shared/API.md v2, docs/contracts.md).

A change is checked against what was delivered and invoiced, priced like a quote on the
deal's terms, approved on its delta and the discount it leaves, and signed as a new contract
version. Once signed it changes the deal from then on:
- billing is brought to where the deal's plan stands under the new lines: what the plan has
  already called for and is now worth more is invoiced at once; what was billed and is now
  worth less (removed or re-priced, not delivered) is credited;
- revenue follows the ASC 606 prospective method (contract modification, 606-10-25-13a):
  what was recognized stays; what the contract is still worth is spread over what is still
  to deliver by standalone price; with nothing left to deliver the difference is recognized
  at once (a price concession on delivered goods).
All functions are pure; amounts are split on running totals, so they add up to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .billing import InvoiceDraft, InvoiceLine
from .billing_plans import Installments, Milestones, OnDelivery, Upfront
from .catalogue import ProductKind
from .contract import Contract
from .errors import QuoteInvalid
from .money import exact, round_money
from .quotes import Quote, QuoteLine, QuoteLineRequest, QuoteRequest
from .revenue import Obligation

ChangeReason = Annotated[str, Field(min_length=1, max_length=2000)]
ZERO = Decimal(0)


class ChangeOrderRequest(BaseModel):
    """The whole new set of lines, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lines: list[QuoteLineRequest] = Field(min_length=1, max_length=200)
    reason: ChangeReason


class ChangeOrderStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_SIGNATURE = "awaiting_signature"
    SIGNED = "signed"
    REJECTED = "rejected"


class ChangeOrder(BaseModel):
    """One change of a signed deal, from request to signature or rejection."""

    model_config = ConfigDict(frozen=True)

    number: int
    status: ChangeOrderStatus
    reason: str
    quote_version: int
    contract_version: int
    contract: Contract  # the new version the customer signs
    lines: list[QuoteLine]
    currency: str
    delta_total: Decimal  # the change of the contract's total, tax included
    delta_net: Decimal
    requested_by: str
    requested_at: datetime
    decided_at: datetime | None = None
    note: str | None = None  # why it was rejected

    @property
    def net_total(self) -> Decimal:
        """The contract's net value under the change: the deal's amount once signed."""
        return sum((line.net for line in self.lines), ZERO)


def as_quote_request(current: Quote, change: ChangeOrderRequest) -> QuoteRequest:
    """The change priced like a quote, on the deal's terms: currency, plan, payment terms."""
    return QuoteRequest(
        currency=current.currency,
        lines=change.lines,
        billing_plan=current.billing_plan,
        payment_terms_days=current.payment_terms_days,
        valid_days=current.valid_days,
    )


def _billed(issued: Iterable[InvoiceDraft]) -> dict[str, tuple[Decimal, Decimal]]:
    billed: dict[str, tuple[Decimal, Decimal]] = {}
    for draft in issued:
        for line in draft.lines:
            net, tax = billed.get(line.sku, (ZERO, ZERO))
            billed[line.sku] = (net + line.net, tax + line.tax)
    return billed


def invoiced_quantities(
    quote: Quote, issued: Iterable[InvoiceDraft], delivered: dict[str, Decimal]
) -> dict[str, Decimal]:
    """How many units of each line the plan has billed so far, exactly (a 30 % milestone of
    ten units is three; on delivery, what was delivered)."""
    found: dict[str, Decimal] = {}
    for sku, (done, of) in billed_share(quote, issued, delivered).items():
        line = next(ln for ln in quote.lines if ln.sku == sku)
        if of and done:
            with exact():
                found[sku] = line.quantity * done / of
    return found


def check_floor(
    change: ChangeOrderRequest, delivered: dict[str, Decimal], invoiced: dict[str, Decimal]
) -> None:
    """No line below what was delivered or invoiced; a line left out counts as none."""
    given = {line.sku: (index, line.quantity) for index, line in enumerate(change.lines)}
    for sku in sorted(set(delivered) | set(invoiced)):
        least = max(delivered.get(sku, ZERO), invoiced.get(sku, ZERO))
        if least <= 0:
            continue
        if sku not in given:
            raise QuoteInvalid(
                f"{sku} was delivered or invoiced ({least.normalize():f}): keep its line",
                field=("lines",),
            )
        index, quantity = given[sku]
        if quantity < least:
            raise QuoteInvalid(
                f"{sku}: {quantity.normalize():f} is below the {least.normalize():f} "
                "already delivered or invoiced",
                field=("lines", index, "quantity"),
            )


def check_subscriptions(current: Quote, changed: Quote, delivered: dict[str, Decimal]) -> None:
    """An active subscription line (delivered: its service started) keeps its quantity and
    discount: it changes at renewal or by an upgrade, prorated by the day, not by a change."""
    before = {line.sku: line for line in current.lines}
    for index, line in enumerate(changed.lines):
        was = before.get(line.sku)
        active = was is not None and delivered.get(line.sku, ZERO) > 0
        same = was is not None and (was.quantity, was.discount_pct) == (
            line.quantity,
            line.discount_pct,
        )
        if active and line.kind is ProductKind.SUBSCRIPTION and not same:
            raise QuoteInvalid(
                f"{line.sku} is an active subscription: it changes at renewal or by "
                "an upgrade, not by a change order",
                field=("lines", index),
            )


# --- billing ---


class LineCredit(BaseModel):
    """What was billed of a line and is no longer owed."""

    model_config = ConfigDict(frozen=True)

    sku: str
    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


class Rebilling(BaseModel):
    """What a signed change bills at once, and credits."""

    model_config = ConfigDict(frozen=True)

    invoice: InvoiceDraft | None
    credits: list[LineCredit]

    @property
    def credit_total(self) -> Decimal:
        return sum((c.total for c in self.credits), ZERO)

    def credited(self, key: str, currency: str, payment_terms_days: int) -> InvoiceDraft | None:
        """The credits as negative lines: kept with the deal's invoices (never issued), so
        what the plan bills later counts them as taken back."""
        if not self.credits:
            return None
        lines = [
            InvoiceLine(
                sku=c.sku,
                description=f"{c.sku} credited",
                quantity=ZERO,
                unit_price=ZERO,
                net=-c.net,
                tax_rate=ZERO,
                tax=-c.tax,
                total=-c.total,
            )
            for c in self.credits
        ]
        net = -sum((c.net for c in self.credits), ZERO)
        tax = -sum((c.tax for c in self.credits), ZERO)
        return InvoiceDraft(
            billing_key=key,
            currency=currency,
            lines=lines,
            net_total=net,
            tax_total=tax,
            total=net + tax,
            payment_terms_days=payment_terms_days,
        )


def billed_share(
    quote: Quote, issued: Iterable[InvoiceDraft], delivered: dict[str, Decimal]
) -> dict[str, tuple[Decimal, Decimal]]:
    """How far the deal's plan has billed each line, as (done, of)."""
    issued = list(issued)
    keys = {draft.billing_key for draft in issued}
    plan = quote.billing_plan
    if isinstance(plan, OnDelivery):
        return {line.sku: (delivered.get(line.sku, ZERO), line.quantity) for line in quote.lines}
    if isinstance(plan, Upfront):
        done, of = (Decimal(1) if "upfront" in keys else ZERO), Decimal(1)
    elif isinstance(plan, Milestones):
        done = sum(
            (m.percent for i, m in enumerate(plan.milestones) if f"milestone:{i}" in keys), ZERO
        )
        of = Decimal(100)
    elif isinstance(plan, Installments):
        done = Decimal(sum(1 for i in range(plan.count) if f"installment:{i}" in keys))
        of = Decimal(plan.count)
    else:  # pragma: no cover - every plan kind is above
        raise TypeError(plan)
    return {line.sku: (done, of) for line in quote.lines}


def rebill(
    changed: Quote,
    issued: Iterable[InvoiceDraft],
    delivered: dict[str, Decimal],
    key: str,
    label: str,
) -> Rebilling:
    """Bring billing to where the plan stands under the changed lines: the rise invoiced now
    (one invoice keyed `key`), the fall credited, line by line, to the cent."""
    issued = list(issued)
    billed = _billed(issued)
    share = billed_share(changed, issued, delivered)
    lines: list[InvoiceLine] = []
    credits: list[LineCredit] = []
    for line in changed.lines:
        done, of = share[line.sku]
        with exact():
            net = round_money(line.net * done / of, changed.currency) if of else ZERO
            tax = round_money(line.tax * done / of, changed.currency) if of else ZERO
        was_net, was_tax = billed.pop(line.sku, (ZERO, ZERO))
        up_net, up_tax = max(net - was_net, ZERO), max(tax - was_tax, ZERO)
        if up_net + up_tax > 0:
            lines.append(
                InvoiceLine(
                    sku=line.sku,
                    description=f"{line.name} ({label})",
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    net=up_net,
                    tax_rate=line.tax_rate,
                    tax=up_tax,
                    total=up_net + up_tax,
                    tax_category=line.tax_category,
                    tax_note=line.tax_note,
                )
            )
        down_net, down_tax = max(was_net - net, ZERO), max(was_tax - tax, ZERO)
        if down_net + down_tax > 0:
            credits.append(LineCredit(sku=line.sku, net=down_net, tax=down_tax))
    for sku, (net, tax) in sorted(billed.items()):  # lines the change removed
        if net + tax > 0:
            credits.append(LineCredit(sku=sku, net=net, tax=tax))
    invoice = None
    if lines:
        net_total = sum((line.net for line in lines), ZERO)
        tax_total = sum((line.tax for line in lines), ZERO)
        invoice = InvoiceDraft(
            billing_key=key,
            currency=changed.currency,
            lines=lines,
            net_total=net_total,
            tax_total=tax_total,
            total=net_total + tax_total,
            payment_terms_days=changed.payment_terms_days,
        )
    return Rebilling(invoice=invoice, credits=credits)


def allocate_credit(
    amount: Decimal, open_balances: list[tuple[str, Decimal]]
) -> list[tuple[str, Decimal]]:
    """Credit `amount` against the invoices' open balances, the newest invoice first;
    what no balance takes is left over (it becomes the customer's credit)."""
    taken: list[tuple[str, Decimal]] = []
    left = amount
    for number, balance in reversed(open_balances):
        if left <= 0:
            break
        part = min(left, balance)
        if part > 0:
            taken.append((number, part))
            left -= part
    return taken


# --- revenue, prospectively ---


class Reallocation(BaseModel):
    model_config = ConfigDict(frozen=True)

    remaining: list[Obligation]  # what is still to deliver (or activate), and will earn
    catch_up: Decimal  # recognized at once: nothing is left to deliver to carry it


def reallocate(
    changed: Quote, recognized: dict[str, Decimal], delivered: dict[str, Decimal]
) -> Reallocation:
    """What the changed contract is still worth (its net total less all revenue recognized),
    spread over what is still to deliver by standalone price (ASC 606-10-25-13a)."""
    remaining_value = changed.net_total - sum(recognized.values(), ZERO)
    still = [
        (line, line.quantity - delivered.get(line.sku, ZERO))
        for line in changed.lines
        if line.quantity > delivered.get(line.sku, ZERO)
    ]
    with exact():
        standalone = [line.unit_price * quantity for line, quantity in still]
    whole = sum(standalone, ZERO)
    if not still or whole == 0:
        return Reallocation(remaining=[], catch_up=remaining_value)
    remaining, before, allocated_before = [], ZERO, ZERO
    for (line, quantity), price in zip(still, standalone, strict=True):
        before += price
        with exact():
            running = round_money(remaining_value * before / whole, changed.currency)
        remaining.append(
            Obligation(
                sku=line.sku,
                kind=line.kind,
                quantity=quantity,
                allocated=running - allocated_before,
                term_months=line.term_months,
            )
        )
        allocated_before = running
    return Reallocation(remaining=remaining, catch_up=ZERO)
