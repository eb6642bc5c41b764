"""Subscriptions as they run: terms, renewals, and mid-term changes prorated by the day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing_periods import split_evenly
from domain.catalogue import PriceBookEntry, ProductKind
from domain.errors import InvalidInput
from domain.money import MINOR_UNITS, minor_unit, round_money
from domain.policy import CompanyPolicy, DealPolicy
from domain.quotes import QuoteLineRequest
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
    prorate,
    renew,
    renewal_notice_at,
    renewal_price,
    term_end,
)
from tests.unit.examples import CURRENCIES, half_away_from_zero, percents, quote, scaled

START = datetime(2030, 2, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def policy(**fields: object) -> DealPolicy:
    return CompanyPolicy.model_validate(fields).for_deal(1, DAY, timedelta(minutes=2))


def subscription(
    quantity: str = "10",
    unit_price: str = "360.00",
    *,
    currency: str = "EUR",
    term_months: int = 12,
    discount_pct: str = "0",
    tax_rate: str = "20",
    auto_renew: bool = True,
) -> Subscription:
    return Subscription(
        subscription_id="deal-1:SEAT",
        customer_id="acme",
        sku="SEAT",
        currency=currency,
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        discount_pct=Decimal(discount_pct),
        tax_rate=Decimal(tax_rate),
        term_months=term_months,
        term_start=START,
        term_end=term_end(START, term_months, DAY),
        effective_from=START,
        auto_renew=auto_renew,
    )


# --- terms and renewal dates ---


def test_a_twelve_month_term_ends_360_policy_days_after_its_service_start():
    assert term_end(START, 12, DAY) == START + timedelta(days=360)
    assert term_end(START, 1, timedelta(seconds=2)) == START + timedelta(seconds=60)


def test_the_renewal_notice_falls_the_policys_notice_days_before_the_term_ends():
    sub = subscription()
    assert renewal_notice_at(sub, policy()) == sub.term_end - timedelta(days=30)
    assert renewal_notice_at(sub, policy(renewal_notice_days=60)) == START + timedelta(days=300)


def test_a_term_shorter_than_the_notice_is_noticed_at_its_start():
    sub = subscription(term_months=1)  # 30 days, notice 45
    assert renewal_notice_at(sub, policy(renewal_notice_days=45)) == START


def test_a_quote_line_activates_with_its_term_from_the_service_start():
    seat = PriceBookEntry(
        sku="SEAT",
        name="Seat",
        kind=ProductKind.SUBSCRIPTION,
        unit_price=Decimal("480.00"),
        currency="EUR",
        tax_rate=Decimal("20"),
        term_months=12,
    )
    request = QuoteLineRequest.model_validate(
        {"sku": "SEAT", "quantity": "5", "discount_pct": "10", "billing_period": "quarterly"}
    )
    line = quote([seat], [request]).lines[0]
    sub = activate(
        line,
        subscription_id="deal-1:SEAT",
        customer_id="acme",
        currency="EUR",
        service_start=START,
        day=DAY,
        auto_renew=False,
    )
    assert (sub.term_start, sub.term_end) == (START, START + timedelta(days=360))
    assert (sub.net, sub.tax) == (line.net, line.tax)  # the term's price is the line's
    assert (sub.billing_period, sub.auto_renew) == ("quarterly", False)


def test_only_a_subscription_line_activates():
    line = quote([_good()], [QuoteLineRequest(sku="GOOD", quantity=Decimal(1))]).lines[0]
    with pytest.raises(InvalidInput):
        activate(
            line,
            subscription_id="s",
            customer_id="c",
            currency="EUR",
            service_start=START,
            day=DAY,
        )


def _good() -> PriceBookEntry:
    return PriceBookEntry(
        sku="GOOD",
        name="Good",
        kind=ProductKind.GOOD,
        unit_price=Decimal("1.00"),
        currency="EUR",
        tax_rate=Decimal("20"),
    )


def test_a_state_takes_effect_within_its_term():
    with pytest.raises(ValueError, match="within its term"):
        Subscription.model_validate(
            {**dict(subscription()), "effective_from": START + timedelta(days=360)}
        )


# --- renewal pricing ---


@pytest.mark.parametrize(
    ("price", "uplift", "currency", "renewed"),
    [
        ("480.00", "3", "EUR", "494.40"),  # 480 x 1.03
        ("0.50", "3", "EUR", "0.52"),  # 0.515: half away from zero
        ("999", "3", "JPY", "1029"),  # 1028.97, to the yen
        ("1.005", "3", "KWD", "1.035"),  # 1.03515, to the fils
        ("100.00", "0", "USD", "100.00"),
    ],
)
def test_the_next_term_is_priced_up_by_the_uplift_to_the_minor_unit(
    price, uplift, currency, renewed
):
    assert renewal_price(Decimal(price), Decimal(uplift), currency) == Decimal(renewed)


def test_a_subscription_renews_from_its_term_end_at_the_uplifted_price():
    sub = subscription(quantity="10", unit_price="480.00", discount_pct="10")
    renewed = renew(sub, policy(renewal_uplift_pct="3"))
    assert renewed is not None
    assert renewed.unit_price == Decimal("494.40")
    assert (renewed.term_start, renewed.effective_from) == (sub.term_end, sub.term_end)
    assert renewed.term_end == sub.term_end + timedelta(days=360)
    assert (renewed.quantity, renewed.discount_pct) == (sub.quantity, sub.discount_pct)
    # 10 x 494.40 = 4944.00, less 10 % = 4449.60
    assert renewed.net == Decimal("4449.60")


def test_a_subscription_cancelled_at_term_end_does_not_renew_and_is_not_prorated():
    sub = subscription()
    cancelled = cancel_at_term_end(sub, START + timedelta(days=100))
    assert renew(cancelled, policy()) is None
    assert (cancelled.term_end, cancelled.net) == (sub.term_end, sub.net)
    assert cancelled.effective_from == START + timedelta(days=100)


def test_a_subscription_that_does_not_auto_renew_ends_with_its_term():
    assert renew(subscription(auto_renew=False), policy()) is None


# --- proration ---


def test_seats_added_are_charged_for_the_days_left_and_seats_removed_credited():
    sub = subscription(quantity="10", unit_price="360.00")  # 3600.00 for 360 days
    charge, credit = prorate(
        sub,
        [
            SubscriptionChange(on_day=120, quantity=Decimal(15)),
            SubscriptionChange(on_day=240, quantity=Decimal(12)),
        ],
    )
    # +5 seats x 360.00 x 240/360 days left = 1200.00, tax 20 % = 240.00
    assert (charge.net, charge.tax, charge.days_left) == (
        Decimal("1200.00"),
        Decimal("240.00"),
        240,
    )
    # -3 seats x 360.00 x 120/360 = -360.00, tax -72.00
    assert (credit.net, credit.tax, credit.is_credit) == (
        Decimal("-360.00"),
        Decimal("-72.00"),
        True,
    )
    # Day by day, a seat-day is 1.00: 10 x 120 + 15 x 120 + 12 x 120 = 4440.00
    assert sub.net + charge.net + credit.net == Decimal("4440.00")


def test_a_price_change_is_prorated_like_a_seat_change():
    sub = subscription(quantity="2", unit_price="360.00")  # 720.00
    (change,) = prorate(sub, [SubscriptionChange(on_day=270, unit_price=Decimal("720.00"))])
    # 2 x (720 - 360) x 90/360 = 180.00
    assert change.net == Decimal("180.00")


def test_prorations_are_billed_on_running_totals_so_rounding_does_not_add_up():
    sub = subscription(quantity="1", unit_price="100.00", tax_rate="0")  # 360 days
    first, second = prorate(
        sub,
        [
            SubscriptionChange(on_day=1, quantity=Decimal(2)),
            SubscriptionChange(on_day=2, quantity=Decimal(3)),
        ],
    )
    # alone, each is 100 x 359/360 = 99.7222 -> 99.72, then 100 x 358/360 = 99.4444 -> 99.44;
    # on running totals: (100 x 1 + 200 x 1 + 300 x 358) / 360 = 299.1666 -> 299.17 in all,
    # 299.17 - 100.00 - 99.72 = 99.45 for the second.
    assert (first.net, second.net) == (Decimal("99.72"), Decimal("99.45"))


def test_a_discounted_subscription_is_prorated_on_its_net():
    sub = subscription(quantity="10", unit_price="360.00", discount_pct="25")  # 2700.00
    (change,) = prorate(sub, [SubscriptionChange(on_day=180, quantity=Decimal(20))])
    # net of 20 seats: 7200 - 1800 = 5400; (2700 x 180 + 5400 x 180) / 360 = 4050.00
    assert change.net == Decimal("1350.00")


def test_a_change_on_the_first_day_reprices_the_whole_term():
    sub = subscription(quantity="10", unit_price="360.00")
    (change,) = prorate(sub, [SubscriptionChange(on_day=0, quantity=Decimal(4))])
    assert change.net == Decimal("-2160.00")  # 4 seats: 1440.00 instead of 3600.00


def test_changes_are_prorated_in_the_order_they_take_effect():
    with pytest.raises(InvalidInput, match="order"):
        prorate(
            subscription(),
            [
                SubscriptionChange(on_day=200, quantity=Decimal(11)),
                SubscriptionChange(on_day=100, quantity=Decimal(12)),
            ],
        )


def test_a_change_takes_effect_within_the_term():
    with pytest.raises(InvalidInput, match="past the term"):
        prorate(subscription(), [SubscriptionChange(on_day=360, quantity=Decimal(11))])


def test_a_changed_subscription_has_a_new_state_from_the_day_of_the_change():
    sub = subscription(quantity="10")
    at = START + timedelta(days=45, hours=7)
    change = SubscriptionChange(on_day=day_of_term(sub, at, DAY), quantity=Decimal(12))
    changed = apply_change(sub, change, DAY)
    assert (change.on_day, changed.quantity) == (45, Decimal(12))
    assert changed.effective_from == START + timedelta(days=45)
    assert (changed.term_start, changed.term_end) == (sub.term_start, sub.term_end)


@st.composite
def terms_and_changes(draw: st.DrawFn) -> tuple[Subscription, list[SubscriptionChange]]:
    currency = draw(st.sampled_from(CURRENCIES))
    places = MINOR_UNITS[currency]
    term_months = draw(st.sampled_from([1, 3, 12, 36]))
    sub = subscription(
        quantity=str(draw(st.integers(1, 500))),
        unit_price=str(scaled(draw(st.integers(0, 10**8)), places)),
        currency=currency,
        term_months=term_months,
        discount_pct=str(draw(percents)),
        tax_rate=str(draw(percents)),
    )
    days = sorted(draw(st.lists(st.integers(0, term_months * 30 - 1), max_size=8)))
    changes = [
        SubscriptionChange(
            on_day=day,
            quantity=draw(st.none() | st.integers(1, 500).map(Decimal)),
            unit_price=draw(st.none() | st.integers(0, 10**8).map(lambda u: scaled(u, places))),
        )
        for day in days
    ]
    return sub, changes


def _day_by_day(sub: Subscription, changes: list[SubscriptionChange]) -> Fraction:
    """The oracle: each day of the term costs 1/D of the term net of what is in force."""
    total, state, net = Fraction(0), sub, Fraction(sub.net)
    for day in range(sub.term_days):
        for change in changes:
            if change.on_day == day:
                state = apply_change(state, change, DAY)
                net = Fraction(state.net)
        total += net / sub.term_days
    return total


@given(terms_and_changes())
def test_the_term_price_and_its_prorations_add_up_to_the_day_by_day_cost_rounded_once(case):
    sub, changes = case
    prorations = prorate(sub, changes)
    billed = sub.net + sum(p.net for p in prorations)
    cost = _day_by_day(sub, changes)
    unit = Fraction(minor_unit(sub.currency))
    # exactly the day-by-day cost rounded once, half away from zero; so within half a cent
    assert Fraction(billed) == half_away_from_zero(cost / unit) * unit
    assert abs(Fraction(billed) - cost) <= unit / 2


@given(terms_and_changes())
def test_each_proration_is_within_one_minor_unit_of_its_exact_share(case):
    sub, changes = case
    state = sub
    for change, proration in zip(changes, prorate(sub, changes), strict=True):
        new = apply_change(state, change, DAY)
        exact = Fraction(new.net - state.net) * proration.days_left / sub.term_days
        assert abs(Fraction(proration.net) - exact) <= Fraction(minor_unit(sub.currency))
        assert proration.net == 0 or (proration.net > 0) == (exact > 0)
        state = new


@given(terms_and_changes())
def test_the_tax_billed_for_a_term_is_the_tax_of_its_net(case):
    sub, changes = case
    prorations = prorate(sub, changes)
    net = sub.net + sum(p.net for p in prorations)
    tax = sub.tax + sum(p.tax for p in prorations)
    assert tax == round_money(net * sub.tax_rate / 100, sub.currency)
    assert all(p.tax == 0 or (p.tax > 0) == (p.net > 0) for p in prorations)


# --- a term billed period by period, changes and all ---


def bill_term(
    sub: Subscription, changes: dict[int, str]
) -> tuple[list[Decimal], list[Decimal], TermBilled]:
    """Each period at its start, each change (on day: new quantity) when it falls: the nets
    invoiced by periods and by changes, and what the term billed in the end."""
    billed, periods, charges = TermBilled(), [], []
    for index in range(period_count(sub)):
        start = index * period_days(sub)
        for on_day in sorted(d for d in changes if start <= d < start + period_days(sub)):
            if on_day == start:  # a change on a period's first day is in force for it
                sub = apply_change(
                    sub, SubscriptionChange(on_day=on_day, quantity=Decimal(changes[on_day])), DAY
                )
        charge, billed = bill_period(sub, billed, index)
        periods.append(max(charge.net, Decimal(0)))  # a credit is carried, not invoiced
        for on_day in sorted(d for d in changes if start < d < start + period_days(sub)):
            after = apply_change(
                sub, SubscriptionChange(on_day=on_day, quantity=Decimal(changes[on_day])), DAY
            )
            charge, billed = bill_change(sub, after, billed, on_day)
            charges.append(charge.net)
            sub = after
    return periods, charges, billed


def test_a_term_without_changes_bills_its_periods_as_equal_shares():
    periods, charges, billed = bill_term(subscription(unit_price="100.00", quantity="1"), {})
    assert periods == split_evenly(Decimal("100.00"), 12, "EUR")
    assert charges == [] and billed.net == Decimal("100.00") and billed.tax == Decimal("20.00")


def test_an_upgrade_in_month_four_charges_the_added_seats_for_the_days_invoiced_already():
    # 10 seats at 360.00 for 360 days: a seat-day is 1.00; +5 seats on day 100 (month 4).
    periods, charges, billed = bill_term(subscription(), {100: "15"})
    assert periods == [Decimal("300.00")] * 4 + [Decimal("450.00")] * 8
    assert charges == [Decimal("100.00")]  # 5 seats x days 100-119, invoiced already
    assert billed.net == Decimal(10 * 100 + 15 * 260)  # the term's seat-days at 1.00
    assert billed.tax == Decimal("980.00")


def test_a_downgrade_credits_unused_days_against_the_next_invoices():
    # 10 seats, down to 1 on day 10: the 9 seats' 20 days invoiced already are 180.00 of
    # credit, more than the next month at 1 seat (30.00): carried over six months.
    periods, charges, billed = bill_term(subscription(), {10: "1"})
    assert charges == [Decimal("-180.00")]
    assert periods == [Decimal("300.00")] + [Decimal(0)] * 6 + [Decimal("30.00")] * 5
    assert billed.net == Decimal(10 * 10 + 1 * 350)
    assert leftover_credit(subscription(quantity="1"), billed) == Charge(
        net=Decimal(0), tax=Decimal(0)
    )


def test_a_credit_left_at_the_term_end_is_given_back():
    sub = subscription()
    billed = TermBilled()
    for index in range(12):
        _, billed = bill_period(sub, billed, index)
    after = apply_change(sub, SubscriptionChange(on_day=359, quantity=Decimal(1)), DAY)
    charge, billed = bill_change(sub, after, billed, 359)
    assert charge.net == Decimal("-9.00")
    assert leftover_credit(after, billed) == Charge(net=Decimal("-9.00"), tax=Decimal("-1.80"))


@given(
    unit_price=st.decimals(min_value=1, max_value=100000, places=2),
    changes=st.dictionaries(st.integers(1, 359), st.integers(1, 50), max_size=5),
)
def test_a_term_bills_what_its_days_cost_rounded_once(unit_price, changes):
    sub = subscription(unit_price=str(unit_price), quantity="3")
    _, _, billed = bill_term(sub, {day: str(q) for day, q in changes.items()})
    final = sub
    cost = Fraction(0)
    for day in range(360):
        if day in changes:
            final = final._with(quantity=Decimal(changes[day]))
        cost += Fraction(final.net) / 360
    carried = leftover_credit(final, billed)
    assert billed.net + carried.net == round_money(
        Decimal(cost.numerator) / Decimal(cost.denominator), "EUR"
    )
