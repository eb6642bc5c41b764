"""SaaS KPIs over subscription histories: MRR, ARR, net revenue retention, gross churn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.policy import CompanyPolicy
from domain.saas_kpis import arr, gross_churn_rate, in_force, mrr, net_revenue_retention
from domain.subscriptions import (
    Subscription,
    SubscriptionChange,
    apply_change,
    cancel_at_term_end,
    renew,
    term_end,
)

DAY = timedelta(days=1)
POLICY = CompanyPolicy().for_deal(1, DAY, timedelta(minutes=2))  # 3 % renewal uplift
Q1 = (datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 4, 1, tzinfo=UTC))


def started(
    subscription_id: str,
    customer_id: str,
    quantity: int,
    unit_price: str,
    on: datetime,
    *,
    currency: str = "EUR",
    term_months: int = 12,
    billing_period: str = "monthly",
    discount_pct: str = "0",
    auto_renew: bool = True,
) -> Subscription:
    return Subscription.model_validate(
        {
            "subscription_id": subscription_id,
            "customer_id": customer_id,
            "sku": "SEAT",
            "currency": currency,
            "quantity": Decimal(quantity),
            "unit_price": Decimal(unit_price),
            "discount_pct": Decimal(discount_pct),
            "term_months": term_months,
            "term_start": on,
            "term_end": term_end(on, term_months, DAY),
            "effective_from": on,
            "billing_period": billing_period,
            "auto_renew": auto_renew,
        }
    )


def changed(sub: Subscription, on: datetime, quantity: int) -> Subscription:
    day = (on - sub.term_start) // DAY
    return apply_change(sub, SubscriptionChange(on_day=day, quantity=Decimal(quantity)), DAY)


def renewed(sub: Subscription) -> Subscription:
    after = renew(sub, POLICY)
    assert after is not None
    return after


def d(month: int, day: int, year: int = 2030) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def quarter() -> list[Subscription]:
    """A first quarter of 2030 in EUR and USD, worked by hand in the tests below."""
    a = started("A", "acme", 10, "120.00", d(12, 1, 2029))  # 1200.00 / 12 = 100.00 a month
    b = started("B", "globex", 1, "600.00", d(1, 15, 2029), billing_period="annual")  # 50.00
    c = started("C", "initech", 5, "144.00", d(12, 15, 2029), billing_period="quarterly")  # 60.00
    f = started("F", "acme", 1, "1200.00", d(1, 20, 2029), currency="USD")  # 100.00
    return [
        a,
        changed(a, d(2, 10), 15),  # expansion: 1800.00 / 12 = 150.00
        b,
        cancel_at_term_end(b, d(1, 5)),  # its term ends 2030-01-10: churned
        c,
        changed(c, d(3, 1), 3),  # contraction: 432.00 / 12 = 36.00
        started("D", "acme", 1, "240.00", d(2, 1)),  # cross-sell to acme: 20.00
        started("E", "hooli", 1, "1200.00", d(3, 1)),  # a new customer: 100.00
        f,
        renewed(f),  # from 2030-01-15 at 1236.00: 103.00
    ]


def test_mrr_is_the_monthly_net_of_what_is_in_force_per_currency():
    start, end = Q1
    # EUR at start: A 100.00 + B 50.00 + C 60.00 = 210.00 (D and E not started yet)
    # EUR at end:   A 150.00 + C 36.00 + D 20.00 + E 100.00 = 306.00 (B's term ended)
    assert mrr(quarter(), start) == {"EUR": Decimal("210.00"), "USD": Decimal("100.00")}
    assert mrr(quarter(), end) == {"EUR": Decimal("306.00"), "USD": Decimal("103.00")}


def test_a_term_billed_annually_or_quarterly_counts_a_month_of_its_price():
    on = d(1, 1)
    monthly = started("M", "x", 1, "1200.00", on)
    quarterly = started("Q", "x", 1, "1200.00", on, billing_period="quarterly")
    annual = started("Y", "x", 1, "1200.00", on, billing_period="annual")
    assert [mrr([s], on)["EUR"] for s in (monthly, quarterly, annual)] == [Decimal("100.00")] * 3
    # a 3-month term of 300.00 is 100.00 a month too
    assert mrr([started("T", "x", 1, "300.00", on, term_months=3)], on)["EUR"] == Decimal("100")


def test_mrr_is_net_of_discount():
    on = d(1, 1)
    # 10 x 120.00 = 1200.00 less 25 % = 900.00 over 12 months = 75.00
    assert mrr([started("A", "x", 10, "120.00", on, discount_pct="25")], on) == {
        "EUR": Decimal("75.00")
    }


def test_mrr_is_summed_exactly_and_rounded_once():
    on = d(1, 1)
    two = [started(sid, "x", 1, "10000", on, currency="JPY") for sid in ("J1", "J2")]
    # each 10000 / 12 = 833.33 yen; rounded apiece 833 + 833 = 1666, summed first 1666.67
    assert mrr(two, on) == {"JPY": Decimal("1667")}


def test_arr_is_twelve_times_mrr():
    start, end = Q1
    assert arr(quarter(), start) == {"EUR": Decimal("2520.00"), "USD": Decimal("1200.00")}
    assert arr(quarter(), end) == {"EUR": Decimal("3672.00"), "USD": Decimal("1236.00")}


def test_net_revenue_retention_follows_the_customers_who_had_mrr_at_the_start():
    # EUR cohort: acme, globex, initech (210.00 at start); hooli is new and left out.
    # At end: acme A 150.00 + D 20.00 = 170.00, globex 0, initech 36.00: 206.00.
    # 206.00 / 210.00 = 0.980952... -> 0.9810
    # USD: acme renewed 1200.00 -> 1236.00: 103.00 / 100.00 = 1.0300
    assert net_revenue_retention(quarter(), *Q1) == {
        "EUR": Decimal("0.9810"),
        "USD": Decimal("1.0300"),
    }


def test_gross_churn_counts_cancellations_and_downgrades_not_expansion():
    # EUR lost: B cancelled 50.00 + C downgraded 60.00 -> 36.00, 24.00 = 74.00 (A's expansion
    # and the new D and E are left out). 74.00 / 210.00 = 0.352380... -> 0.3524
    # USD: the renewal raised the price: nothing lost.
    assert gross_churn_rate(quarter(), *Q1) == {"EUR": Decimal("0.3524"), "USD": Decimal("0")}


def test_a_currency_without_mrr_at_the_start_has_no_rate():
    start, end = Q1
    history = [started("N", "new", 1, "1200.00", d(2, 1), currency="GBP")]
    assert mrr(history, start) == {}
    assert net_revenue_retention(history, start, end) == {"GBP": None}
    assert gross_churn_rate(history, start, end) == {"GBP": None}
    free = [started("Z", "x", 1, "100.00", d(12, 1, 2029), discount_pct="100")]
    assert mrr(free, start) == {"EUR": Decimal("0.00")}
    assert net_revenue_retention(free, start, end) == {"EUR": None}


def test_no_subscriptions_no_kpis():
    assert mrr([], Q1[0]) == arr([], Q1[0]) == {}
    assert net_revenue_retention([], *Q1) == gross_churn_rate([], *Q1) == {}


def test_a_period_ends_after_it_starts():
    with pytest.raises(InvalidInput):
        net_revenue_retention(quarter(), Q1[1], Q1[0])


def test_a_term_is_in_force_up_to_its_end_and_its_renewal_from_then():
    sub = started("A", "x", 1, "1200.00", d(1, 1), auto_renew=False)
    assert in_force([sub], sub.term_end - timedelta(microseconds=1)) == [sub]
    assert in_force([sub], sub.term_end) == []
    after = renewed(started("A", "x", 1, "1200.00", d(1, 1)))
    assert in_force([sub, after], sub.term_end) == [after]


@st.composite
def histories(draw: st.DrawFn) -> list[Subscription]:
    history = []
    for index in range(draw(st.integers(0, 6))):
        sub = started(
            f"S{index}",
            draw(st.sampled_from(["acme", "globex", "initech"])),
            draw(st.integers(1, 20)),
            draw(st.sampled_from(["0.00", "9.99", "120.00", "1000.01"])),
            d(1, 1) + DAY * draw(st.integers(-400, 120)),
            currency=draw(st.sampled_from(["EUR", "USD"])),
            term_months=draw(st.sampled_from([1, 3, 12])),
            auto_renew=draw(st.booleans()),
        )
        history.append(sub)
        for day in sorted(draw(st.lists(st.integers(0, sub.term_days - 1), max_size=3))):
            sub = changed(sub, sub.term_start + DAY * day, draw(st.integers(1, 20)))
            history.append(sub)
        if draw(st.booleans()) and (after := renew(sub, POLICY)) is not None:
            history.append(after)
    return history


@given(histories())
def test_churn_is_a_share_of_the_start_and_retention_never_below_what_churn_leaves(history):
    start, end = Q1
    churn = gross_churn_rate(history, start, end)
    retention = net_revenue_retention(history, start, end)
    assert churn.keys() == retention.keys()
    for currency, rate in churn.items():
        if rate is None:
            assert retention[currency] is None
            continue
        kept = retention[currency]
        assert kept is not None
        assert Decimal(0) <= rate <= Decimal(1)
        assert kept >= 1 - rate - Decimal("0.0001")  # each rounded to four places
    assert arr(history, start) == {c: 12 * m for c, m in mrr(history, start).items()}
