"""SaaS KPIs over subscription histories: MRR, ARR, net revenue retention and gross churn.

A history is the states of each subscription (domain/subscriptions.py), each in force from
its `effective_from` until the next state of the same subscription or its term's end.
Every KPI is per currency (amounts in different currencies are never added); docs/contracts.md
gives the formulas. Rates are ratios (1.05 is 105 %) to four places, None when nothing was
recurring at the start: there is nothing to divide.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from .errors import InvalidInput
from .money import exact, round_money
from .subscriptions import Subscription

ZERO = Fraction(0)
RATE_PLACES = Decimal("0.0001")

# Each subscription's customer and monthly value at a date, by currency and subscription id.
MonthlyValues = dict[str, dict[str, tuple[str, Fraction]]]


def monthly_value(subscription: Subscription) -> Fraction:
    """The net price of one subscription month, exactly: the term's net over its months
    (a Fraction: 100.01 over 12 months has no exact Decimal, and sums must not drift).

    The price is for the whole term whatever the billing period, so a term billed annually
    or quarterly comes to the same month as one billed monthly (its period invoice over the
    period's months)."""
    return Fraction(subscription.net) / subscription.term_months


def in_force(history: Iterable[Subscription], at: datetime) -> list[Subscription]:
    """The state of each subscription at `at`, for those whose term is running then."""
    latest: dict[str, Subscription] = {}
    for state in history:
        if state.effective_from > at:
            continue
        known = latest.get(state.subscription_id)
        if known is None or state.effective_from >= known.effective_from:
            latest[state.subscription_id] = state
    return [s for s in latest.values() if s.term_start <= at < s.term_end]


def mrr(history: Iterable[Subscription], at: datetime) -> dict[str, Decimal]:
    """Monthly recurring revenue at `at`, per currency: the monthly values of the
    subscriptions in force, summed exactly and rounded once to the minor unit."""
    return {
        currency: round_money(_decimal(_total(values)), currency)
        for currency, values in _monthly_values(history, at).items()
    }


def arr(history: Iterable[Subscription], at: datetime) -> dict[str, Decimal]:
    """Annual recurring revenue: 12 x the MRR, per currency."""
    return {currency: 12 * amount for currency, amount in mrr(history, at).items()}


def net_revenue_retention(
    history: Iterable[Subscription], start: datetime, end: datetime
) -> dict[str, Decimal | None]:
    """The MRR at `end` of the customers who had MRR at `start` (with their expansion,
    contraction and churn; customers new since are left out), over their MRR at `start`."""
    states = list(history)
    before, after = _period(states, start, end)
    rates: dict[str, Decimal | None] = {}
    for currency in before.keys() | after.keys():
        opening = before.get(currency, {})
        customers = {customer for customer, value in opening.values() if value > 0}
        kept = sum(
            (v for customer, v in after.get(currency, {}).values() if customer in customers),
            ZERO,
        )
        rates[currency] = _ratio(kept, _total(opening))
    return rates


def gross_churn_rate(
    history: Iterable[Subscription], start: datetime, end: datetime
) -> dict[str, Decimal | None]:
    """The MRR lost from `start` to `end` by subscriptions in force at `start` (cancelled, or
    worth less a month), over the MRR at `start`. Expansion is left out: a subscription that
    grew loses nothing, and one started since is not counted."""
    states = list(history)
    before, after = _period(states, start, end)
    rates: dict[str, Decimal | None] = {}
    for currency in before.keys() | after.keys():
        opening, closing = before.get(currency, {}), after.get(currency, {})
        lost = sum(
            (
                max(ZERO, value - closing.get(sid, ("", ZERO))[1])
                for sid, (_, value) in opening.items()
            ),
            ZERO,
        )
        rates[currency] = _ratio(lost, _total(opening))
    return rates


def _monthly_values(history: Iterable[Subscription], at: datetime) -> MonthlyValues:
    found: MonthlyValues = {}
    for state in in_force(history, at):
        by_id = found.setdefault(state.currency, {})
        by_id[state.subscription_id] = (state.customer_id, monthly_value(state))
    return found


def _period(
    states: list[Subscription], start: datetime, end: datetime
) -> tuple[MonthlyValues, MonthlyValues]:
    if not start < end:
        raise InvalidInput("a period ends after it starts")
    return _monthly_values(states, start), _monthly_values(states, end)


def _total(values: dict[str, tuple[str, Fraction]]) -> Fraction:
    return sum((v for _, v in values.values()), ZERO)


def _ratio(part: Fraction, whole: Fraction) -> Decimal | None:
    if whole <= 0:
        return None
    return _decimal(part / whole).quantize(RATE_PLACES, ROUND_HALF_UP)


def _decimal(value: Fraction) -> Decimal:
    # One division, wide enough that rounding it to a cent or a rate's four places is
    # rounding the exact value.
    with exact():
        return Decimal(value.numerator) / Decimal(value.denominator)
