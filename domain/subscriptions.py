"""Subscriptions as they run: terms and renewals, and mid-term changes prorated by the day.

Pure rules, defined in docs/contracts.md ("Subscriptions: terms, renewals, proration, SaaS
KPIs"); the KPIs over a subscription's history are in domain/saas_kpis.py. Time is passed
in; a subscription month is DAYS_PER_MONTH policy days; money is exact Decimal, rounded half
away from zero to the currency's minor unit, on running totals. A subscription runs in
workflows/subscription_billing.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .billing_plans import PERIOD_MONTHS, BillingPeriod
from .catalogue import Percent, ProductKind, Sku
from .errors import InvalidInput
from .money import Currency, ExactDecimal, exact, has_minor_precision, round_money
from .policy import DealPolicy
from .quotes import Quantity, QuoteLine, line_amounts
from .revenue import DAYS_PER_MONTH
from .tax import TaxCategory

ZERO = Decimal(0)
UnitPrice = Annotated[ExactDecimal, Field(ge=0)]


class Subscription(BaseModel):
    """One subscription line as it stands from `effective_from`: one state of its history.

    `unit_price` is per unit for the whole term, as in the price book, so the term's price is
    the line's (domain/quotes.py): net = round(unit_price x quantity) - round(discount). A
    mid-term change, a cancellation at term end or a renewal is a new state of the same
    `subscription_id`, effective from its date.
    """

    model_config = ConfigDict(frozen=True)

    subscription_id: str = Field(min_length=1)
    customer_id: str = Field(min_length=1)
    sku: Sku
    currency: Currency
    quantity: Quantity
    unit_price: UnitPrice
    discount_pct: Percent = ZERO
    tax_rate: Percent = ZERO
    term_months: int = Field(ge=1, le=120)
    term_start: datetime
    term_end: datetime
    effective_from: datetime
    billing_period: BillingPeriod = "monthly"
    auto_renew: bool = True
    # The quote line's tax (domain/tax.py): None for lines priced before tax determination,
    # whose invoices take the category of their rate.
    tax_category: TaxCategory | None = None
    tax_note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Subscription:
        if not has_minor_precision(self.unit_price, self.currency):
            raise ValueError(f"unit_price has more decimals than {self.currency} allows")
        if not self.term_start < self.term_end:
            raise ValueError("a term ends after it starts")
        if not self.term_start <= self.effective_from < self.term_end:
            raise ValueError("a state takes effect within its term")
        if self.term_months % PERIOD_MONTHS[self.billing_period]:
            raise ValueError(
                f"a {self.term_months}-month term cannot be billed {self.billing_period}"
            )
        return self

    @property
    def term_days(self) -> int:
        return term_days(self.term_months)

    @property
    def net(self) -> Decimal:
        """The term's price, net of discount, before tax."""
        return self._amounts()[2]

    @property
    def tax(self) -> Decimal:
        return self._amounts()[3]

    def _amounts(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        return line_amounts(
            self.unit_price, self.quantity, self.discount_pct, self.tax_rate, self.currency
        )

    def _with(self, **changes: Any) -> Subscription:
        return Subscription.model_validate({**dict(self), **changes})


# --- terms and renewals ---


def term_days(term_months: int) -> int:
    """A term's length in policy days: DAYS_PER_MONTH per subscription month."""
    return term_months * DAYS_PER_MONTH


def term_end(service_start: datetime, term_months: int, day: timedelta) -> datetime:
    """When a term that starts at `service_start` ends (exclusive)."""
    return service_start + day * term_days(term_months)


def renewal_notice_at(subscription: Subscription, policy: DealPolicy) -> datetime:
    """When the customer is told the term is ending: `renewal_notice_days` before its end,
    or at its start when the term is shorter than the notice."""
    notice = subscription.term_end - policy.days(policy.renewal_notice_days)
    return max(subscription.term_start, notice)


def activate(
    line: QuoteLine,
    *,
    subscription_id: str,
    customer_id: str,
    currency: str,
    service_start: datetime,
    day: timedelta,
    auto_renew: bool = True,
) -> Subscription:
    """A quote's subscription line as it starts: its first term runs from the service start."""
    if line.kind is not ProductKind.SUBSCRIPTION or not line.term_months:
        raise InvalidInput(f"{line.sku} is not a subscription with a term")
    return Subscription(
        subscription_id=subscription_id,
        customer_id=customer_id,
        sku=line.sku,
        currency=currency,
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount_pct=line.discount_pct,
        tax_rate=line.tax_rate,
        term_months=line.term_months,
        term_start=service_start,
        term_end=term_end(service_start, line.term_months, day),
        effective_from=service_start,
        billing_period=line.billing_period or "monthly",
        auto_renew=auto_renew,
        tax_category=line.tax_category,
        tax_note=line.tax_note,
    )


def renewal_price(unit_price: Decimal, uplift_pct: Decimal, currency: str) -> Decimal:
    """The next term's unit price: raised by `uplift_pct` %, rounded to the minor unit."""
    with exact():
        return round_money(unit_price * (100 + uplift_pct) / 100, currency)


def renew(subscription: Subscription, policy: DealPolicy) -> Subscription | None:
    """The next term, from the end of this one, at the uplifted price (quantity, discount,
    tax rate and billing period carry over); None when it was cancelled at term end."""
    if not subscription.auto_renew:
        return None
    start = subscription.term_end
    return subscription._with(
        unit_price=renewal_price(
            subscription.unit_price, policy.renewal_uplift_pct, subscription.currency
        ),
        term_start=start,
        term_end=term_end(start, subscription.term_months, policy.day),
        effective_from=start,
    )


def cancel_at_term_end(subscription: Subscription, at: datetime) -> Subscription:
    """From `at` on, the subscription runs to the end of its term and does not renew: nothing
    is prorated or credited."""
    return subscription._with(auto_renew=False, effective_from=at)


# --- mid-term changes, prorated by the day ---


class SubscriptionChange(BaseModel):
    """An upgrade or downgrade from policy day `on_day` of the term (0: its first day): the
    new quantity, unit price, or both; what is not given stays."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    on_day: int = Field(ge=0)
    quantity: Quantity | None = None
    unit_price: UnitPrice | None = None


class Proration(BaseModel):
    """What a change bills at once: a charge (positive amounts) or a credit (negative)."""

    model_config = ConfigDict(frozen=True)

    on_day: int
    days_left: int
    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.tax

    @property
    def is_credit(self) -> bool:
        return self.net < 0


def day_of_term(subscription: Subscription, at: datetime, day: timedelta) -> int:
    """The policy day of the term `at` falls on (0: the first), counted whole."""
    if not subscription.term_start <= at < subscription.term_end:
        raise InvalidInput("a change takes effect within the term")
    return (at - subscription.term_start) // day


def apply_change(
    subscription: Subscription, change: SubscriptionChange, day: timedelta
) -> Subscription:
    """The subscription's state from the change on: its new quantity and unit price."""
    _within_term(subscription, change)
    return _changed(
        subscription, change, effective_from=subscription.term_start + day * change.on_day
    )


def prorate(term: Subscription, changes: Sequence[SubscriptionChange]) -> list[Proration]:
    """What each change of one term bills at once, in order; `term` is the term's first state.

    A day of the term costs 1/D of the term price (net) of what is in force that day (D the
    term's days). After change k the term is worth U_k: the days before it at what was in
    force then, the days left at the new state. The net billed for the term so far is
    round(U_k) (before any change: the term price), so change k bills
    round(U_k) - round(U_{k-1}), and its tax is the tax of the new running net less the tax
    already billed. Rounding errors never add up: whatever the changes, the term's price and
    prorations sum to round(U_n), the day-by-day cost rounded once.
    """
    days, currency = term.term_days, term.currency
    state, since = term, 0
    used = ZERO  # sum of (term net in force) x (days it was in force), before `since`
    billed_net, billed_tax = term.net, term.tax
    found = []
    with exact():
        for change in changes:
            if change.on_day < since:
                raise InvalidInput("changes of a term are prorated in the order they take effect")
            _within_term(term, change)
            used += state.net * (change.on_day - since)
            state, since = _changed(state, change), change.on_day
            net = round_money((used + state.net * (days - since)) / days, currency)
            tax = round_money(net * state.tax_rate / 100, currency)
            found.append(
                Proration(
                    on_day=since,
                    days_left=days - since,
                    net=net - billed_net,
                    tax=tax - billed_tax,
                )
            )
            billed_net, billed_tax = net, tax
    return found


def _changed(subscription: Subscription, change: SubscriptionChange, **extra: Any) -> Subscription:
    return subscription._with(
        quantity=subscription.quantity if change.quantity is None else change.quantity,
        unit_price=subscription.unit_price if change.unit_price is None else change.unit_price,
        **extra,
    )


def _within_term(subscription: Subscription, change: SubscriptionChange) -> None:
    if change.on_day >= subscription.term_days:
        raise InvalidInput(
            f"day {change.on_day} is past the term's {subscription.term_days} days",
            field=("on_day",),
        )


# --- a term billed period by period, changes and all ---


class TermBilled(BaseModel):
    """What one term has invoiced so far, in running totals (docs/contracts.md, "Billing a
    term by periods"): the days invoiced, their cost day by day, and the net and tax billed.

    `cost` is the exact sum over the invoiced days of the term net in force that day (a
    numerator: divided by the term's days it is money); what the term should have billed
    so far is round(cost / D), and its tax the tax of that, so rounding never adds up.
    """

    model_config = ConfigDict(frozen=True)

    through_day: int = 0
    cost: ExactDecimal = ZERO
    net: ExactDecimal = ZERO
    tax: ExactDecimal = ZERO


class Charge(BaseModel):
    """What one invoice of a term bills: negative amounts are a credit, carried forward."""

    model_config = ConfigDict(frozen=True)

    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


def period_days(subscription: Subscription) -> int:
    return PERIOD_MONTHS[subscription.billing_period] * DAYS_PER_MONTH


def period_count(subscription: Subscription) -> int:
    return subscription.term_months // PERIOD_MONTHS[subscription.billing_period]


def bill_period(
    subscription: Subscription, billed: TermBilled, index: int
) -> tuple[Charge, TermBilled]:
    """Period `index` (0-based), invoiced at its start: its days at the state in force now.

    A credit carried from a downgrade lowers the charge; a charge below zero is not
    invoiced (the credit carries on), so `billed` keeps the net and tax actually billed."""
    through = min((index + 1) * period_days(subscription), subscription.term_days)
    if through <= billed.through_day:
        raise InvalidInput(f"period {index + 1} is invoiced already")
    with exact():
        cost = billed.cost + subscription.net * (through - billed.through_day)
    return _settle(subscription, billed, through, cost)


def bill_change(
    before: Subscription, after: Subscription, billed: TermBilled, on_day: int
) -> tuple[Charge, TermBilled]:
    """A change on `on_day`: the days from it that are invoiced already, at the new state
    instead of the old. Positive: charged at once; negative: a credit, carried forward."""
    days = max(0, billed.through_day - on_day)
    with exact():
        cost = billed.cost + (after.net - before.net) * days
    return _settle(after, billed, billed.through_day, cost)


def leftover_credit(subscription: Subscription, billed: TermBilled) -> Charge:
    """At the term's end: what was billed beyond the term's cost (a credit still carried),
    to credit back; zero when none."""
    target = _target(subscription, billed.cost)
    return Charge(net=min(ZERO, target.net - billed.net), tax=min(ZERO, target.tax - billed.tax))


def _target(subscription: Subscription, cost: Decimal) -> Charge:
    with exact():
        net = round_money(cost / subscription.term_days, subscription.currency)
        tax = round_money(net * subscription.tax_rate / 100, subscription.currency)
    return Charge(net=net, tax=tax)


def _settle(
    subscription: Subscription, billed: TermBilled, through: int, cost: Decimal
) -> tuple[Charge, TermBilled]:
    target = _target(subscription, cost)
    charge = Charge(net=target.net - billed.net, tax=target.tax - billed.tax)
    if charge.net <= 0:  # nothing to invoice: a credit stays carried in `cost`
        return charge, billed.model_copy(update={"through_day": through, "cost": cost})
    return charge, TermBilled(through_day=through, cost=cost, net=target.net, tax=target.tax)


def renew_confirmed(subscription: Subscription, policy: DealPolicy) -> Subscription:
    """The next term of a subscription the owner renewed by hand (it does not auto-renew:
    the term after this one will ask again)."""
    renewed = renew(subscription._with(auto_renew=True), policy)
    assert renewed is not None
    return renewed._with(auto_renew=False)
