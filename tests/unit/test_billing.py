"""Invoices a billing plan calls for: over a whole deal they add up to the quote, line by line."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing import BillingEvent, InvoiceDraft, installment_days, invoices_for
from domain.billing_plans import Installments, Milestone, Milestones, OnDelivery, Upfront
from domain.money import MINOR_UNITS
from domain.quotes import Quote
from tests.unit.examples import (
    entry,
    half_away_from_zero,
    installment_plans,
    line,
    milestone_plans,
    one_line_quote,
    quote,
    quotes,
    scaled,
)

Deliveries = list[dict[str, Decimal]]


def bill_deal(priced: Quote, deliveries: Deliveries) -> list[InvoiceDraft]:
    """Every event a deal sees, in the workflow's order, and the invoices they call for."""
    plan = priced.billing_plan
    count = plan.count if isinstance(plan, Installments) else 1
    events = [BillingEvent(kind="signature"), BillingEvent(kind="installment", index=0)]
    delivered: dict[str, Decimal] = {}
    for number, batch in enumerate(deliveries):
        events.append(
            BillingEvent(
                kind="delivery",
                reference=f"D{number}",
                delivered=batch,
                delivered_before=dict(delivered),
            )
        )
        for sku, quantity in batch.items():
            delivered[sku] = delivered.get(sku, Decimal(0)) + quantity
    events.append(BillingEvent(kind="delivery_complete"))
    events += [BillingEvent(kind="installment", index=i) for i in range(1, count)]
    issued: list[InvoiceDraft] = []
    for event in events:
        issued += invoices_for(priced, event, issued)
    return issued


def all_at_once(priced: Quote) -> Deliveries:
    return [{item.sku: item.quantity for item in priced.lines}]


def cut_points(draw: st.DrawFn, thousandths: int, parts: int) -> list[int]:
    """Where to split a quantity (in thousandths) into `parts`: equal parts or anywhere."""
    if parts == 1:
        return []
    if thousandths % parts == 0 and draw(st.booleans()):
        return [thousandths * i // parts for i in range(1, parts)]
    points = st.integers(1, thousandths - 1)
    return sorted(draw(st.lists(points, min_size=parts - 1, max_size=parts - 1, unique=True)))


@st.composite
def partial_deliveries(draw: st.DrawFn, priced: Quote) -> Deliveries:
    """Each line delivered in up to six parts, interleaved over the deliveries of the order."""
    rounds = draw(st.integers(1, 6))
    deliveries: Deliveries = [{} for _ in range(rounds)]
    for item in priced.lines:
        thousandths = int(item.quantity * 1000)
        parts = draw(st.integers(1, min(rounds, thousandths)))
        bounds = [0, *cut_points(draw, thousandths, parts), thousandths]
        slots = sorted(draw(st.permutations(range(rounds)))[:parts])
        for slot, low, high in zip(slots, bounds, bounds[1:], strict=False):
            deliveries[slot][item.sku] = scaled(high - low, 3)
    return [batch for batch in deliveries if batch]


@st.composite
def deals(draw: st.DrawFn, plans: st.SearchStrategy) -> tuple[Quote, Deliveries]:
    priced = draw(quotes(plans, max_lines=3))
    if isinstance(priced.billing_plan, OnDelivery):
        return priced, draw(partial_deliveries(priced))
    return priced, all_at_once(priced)


PLANS = {
    "on_delivery": st.just(OnDelivery()),
    "upfront": st.just(Upfront()),
    "milestones": milestone_plans(),
    "installments": installment_plans,
}


def billed_per_line(drafts: list[InvoiceDraft]) -> dict[str, tuple[Decimal, Decimal]]:
    billed: dict[str, tuple[Decimal, Decimal]] = {}
    for draft in drafts:
        for item in draft.lines:
            net, tax = billed.get(item.sku, (Decimal(0), Decimal(0)))
            billed[item.sku] = (net + item.net, tax + item.tax)
    return billed


def adds_up(priced: Quote, drafts: list[InvoiceDraft]) -> bool:
    expected = {item.sku: (item.net, item.tax) for item in priced.lines}
    return billed_per_line(drafts) == expected


def negative_lines(drafts: list[InvoiceDraft]) -> list[tuple[str, str, Decimal, Decimal]]:
    return [
        (draft.billing_key, item.sku, item.net, item.tax)
        for draft in drafts
        for item in draft.lines
        if item.net < 0 or item.tax < 0
    ]


def fractions_done(priced: Quote, deliveries: Deliveries) -> list[dict[str, Fraction]]:
    """For each invoice of the deal, in order: how much of each line it completes billing to."""
    plan = priced.billing_plan
    every_line = [item.sku for item in priced.lines]
    if isinstance(plan, Upfront):
        return [dict.fromkeys(every_line, Fraction(1))]
    if isinstance(plan, Installments):
        return [dict.fromkeys(every_line, Fraction(i + 1, plan.count)) for i in range(plan.count)]
    if isinstance(plan, Milestones):
        signature_first = sorted(plan.milestones, key=lambda m: m.trigger != "signature")
        done = [
            sum((Fraction(m.percent) for m in signature_first[: i + 1]), Fraction(0)) / 100
            for i in range(len(signature_first))
        ]
        return [dict.fromkeys(every_line, fraction) for fraction in done]
    ordered = {item.sku: Fraction(item.quantity) for item in priced.lines}
    delivered = dict.fromkeys(every_line, Fraction(0))
    fractions = []
    for batch in deliveries:
        for sku, quantity in batch.items():
            delivered[sku] += Fraction(quantity)
        fractions.append({sku: delivered[sku] / ordered[sku] for sku in batch})
    return fractions


# --- a deal's invoices add up to its quote, for every plan ---


@pytest.mark.parametrize("plan", PLANS)
@given(data=st.data())
def test_invoices_of_a_deal_add_up_to_the_quote_line_by_line(plan, data):
    priced, deliveries = data.draw(deals(PLANS[plan]))
    assert adds_up(priced, bill_deal(priced, deliveries))


@pytest.mark.parametrize("plan", PLANS)
@given(data=st.data())
def test_no_invoice_line_of_a_deal_is_negative(plan, data):
    priced, deliveries = data.draw(deals(PLANS[plan]))
    assert negative_lines(bill_deal(priced, deliveries)) == []


@pytest.mark.parametrize("plan", PLANS)
@given(data=st.data())
def test_each_invoice_bills_a_line_up_to_its_share_done_rounded_once_half_up(plan, data):
    priced, deliveries = data.draw(deals(PLANS[plan]))
    places = MINOR_UNITS[priced.currency]
    lines = {item.sku: item for item in priced.lines}
    billed = {sku: (Decimal(0), Decimal(0)) for sku in lines}
    drafts = bill_deal(priced, deliveries)
    for draft, done in zip(drafts, fractions_done(priced, deliveries), strict=True):
        for item in draft.lines:
            net, tax = billed[item.sku]
            billed[item.sku] = (net + item.net, tax + item.tax)
        for sku, fraction in done.items():
            expected = tuple(
                scaled(half_away_from_zero(Fraction(amount) * fraction * 10**places), places)
                for amount in (lines[sku].net, lines[sku].tax)
            )
            assert billed[sku] == expected, (draft.billing_key, sku)


@given(deals(st.one_of(*PLANS.values())))
def test_invoice_totals_are_the_sums_of_their_lines(deal):
    for draft in bill_deal(*deal):
        assert draft.net_total == sum(item.net for item in draft.lines)
        assert draft.tax_total == sum(item.tax for item in draft.lines)
        assert draft.total == draft.net_total + draft.tax_total
        assert all(item.total == item.net + item.tax for item in draft.lines)


@given(deals(st.one_of(*PLANS.values())))
def test_every_invoice_amount_has_exactly_the_minor_unit_of_the_currency(deal):
    places = MINOR_UNITS[deal[0].currency]
    for draft in bill_deal(*deal):
        amounts = [draft.net_total, draft.tax_total, draft.total]
        amounts += [amount for item in draft.lines for amount in (item.net, item.tax, item.total)]
        assert {amount.as_tuple().exponent for amount in amounts} == {-places}


@given(deals(st.one_of(*PLANS.values())))
def test_each_invoice_of_a_deal_has_its_own_billing_key(deal):
    keys = [draft.billing_key for draft in bill_deal(*deal)]
    assert len(keys) == len(set(keys))


# --- each plan, by example ---


def test_upfront_bills_the_whole_quote_once_at_signature():
    priced = one_line_quote("100.00", quantity="3", tax_rate="20")
    drafts = bill_deal(priced, all_at_once(priced))
    assert [(d.billing_key, d.net_total, d.tax_total) for d in drafts] == [
        ("upfront", Decimal("300.00"), Decimal("60.00"))
    ]


def test_an_invoice_carries_the_currency_and_payment_terms_of_the_quote():
    priced = one_line_quote("100.00", currency="USD")
    (draft,) = bill_deal(priced, all_at_once(priced))
    assert (draft.currency, draft.payment_terms_days) == ("USD", priced.payment_terms_days)


def test_on_delivery_bills_what_each_delivery_delivered():
    priced = quote(
        [entry("A", "10.00", tax_rate="20"), entry("B", "5.00", tax_rate="0")],
        [line("A", "4"), line("B", "2")],
        plan=OnDelivery(),
    )
    drafts = bill_deal(priced, [{"A": Decimal(1)}, {"A": Decimal(3), "B": Decimal(2)}])
    assert [
        (d.billing_key, [(i.sku, i.quantity, i.net, i.tax) for i in d.lines]) for d in drafts
    ] == [
        ("delivery:D0", [("A", Decimal(1), Decimal("10.00"), Decimal("2.00"))]),
        (
            "delivery:D1",
            [
                ("A", Decimal(3), Decimal("30.00"), Decimal("6.00")),
                ("B", Decimal(2), Decimal("10.00"), Decimal("0.00")),
            ],
        ),
    ]


def test_the_delivery_that_completes_a_line_takes_what_is_left_of_it():
    priced = one_line_quote("10.00", quantity="1", tax_rate="0", plan=OnDelivery())
    thirds = [Decimal("0.333"), Decimal("0.333"), Decimal("0.334")]
    drafts = bill_deal(priced, [{"ITEM": quantity} for quantity in thirds])
    assert [d.net_total for d in drafts] == [Decimal("3.33"), Decimal("3.33"), Decimal("3.34")]


def test_milestones_bill_each_share_at_its_trigger_and_the_last_takes_the_rest():
    plan = Milestones(
        milestones=[
            Milestone(percent=Decimal("70"), trigger="delivery_complete"),
            Milestone(percent=Decimal("30"), trigger="signature"),
        ]
    )
    priced = one_line_quote("0.10", quantity="1", tax_rate="0", plan=plan)
    drafts = bill_deal(priced, all_at_once(priced))
    # 30 % of 0.10 at signature is 0.03; delivery completes the line with the remaining 0.07
    assert [(d.billing_key, d.net_total) for d in drafts] == [
        ("milestone:1", Decimal("0.03")),
        ("milestone:0", Decimal("0.07")),
    ]


def test_installments_bill_the_running_share_rounded_so_they_add_up():
    priced = one_line_quote("100.00", tax_rate="0", plan=Installments(count=3, every_days=30))
    drafts = bill_deal(priced, all_at_once(priced))
    # billed in all: 33.333 -> 33.33, then 66.667 -> 66.67, then 100.00
    assert [(d.billing_key, d.net_total) for d in drafts] == [
        ("installment:0", Decimal("33.33")),
        ("installment:1", Decimal("33.34")),
        ("installment:2", Decimal("33.33")),
    ]


def test_a_running_share_of_exactly_half_a_cent_rounds_up():
    priced = one_line_quote("10.29", tax_rate="0", plan=Installments(count=6, every_days=30))
    drafts = bill_deal(priced, all_at_once(priced))
    # after five of six installments 10.29 x 5/6 = 8.575 is billed in all: 8.58
    assert sum(d.net_total for d in drafts[:5]) == Decimal("8.58")


def test_sixty_installments_of_a_small_line_bill_no_negative_amount():
    priced = one_line_quote("10.00", tax_rate="0", plan=Installments(count=60, every_days=30))
    drafts = bill_deal(priced, all_at_once(priced))
    # Rounding each share (0.1667 -> 0.17) would bill 10.03 in 59 installments, leaving -0.03
    assert negative_lines(drafts) == []


def test_a_delivery_completing_five_sixths_of_a_line_rounds_its_half_cent_up():
    priced = one_line_quote("0.01", quantity="3", tax_rate="0", plan=OnDelivery())
    drafts = bill_deal(priced, [{"ITEM": Decimal("2.5")}, {"ITEM": Decimal("0.5")}])
    # 0.03 x 2.5 / 3 = 0.025 -> 0.03, all of the line; the last half unit bills nothing more
    assert [d.net_total for d in drafts] == [Decimal("0.03"), Decimal("0.00")]


def test_single_unit_deliveries_of_a_discounted_line_bill_no_negative_amount():
    priced = one_line_quote(
        "0.05", quantity="20", discount_pct="7", tax_rate="0", plan=OnDelivery()
    )
    drafts = bill_deal(priced, [{"ITEM": Decimal(1)}] * 20)
    # net 0.93; rounding each share (0.0465 -> 0.05) would bill 0.95 in 19 deliveries
    assert negative_lines(drafts) == []


def test_ten_equal_milestones_of_a_small_line_bill_no_negative_amount():
    tenths = [Milestone(percent=Decimal(10), trigger="signature") for _ in range(10)]
    priced = one_line_quote("0.05", tax_rate="0", plan=Milestones(milestones=tenths))
    drafts = bill_deal(priced, all_at_once(priced))
    # Rounding each share (0.005 -> 0.01) would bill 0.09 in nine milestones, leaving -0.04
    assert negative_lines(drafts) == []


def test_installments_fall_due_every_period_from_signature():
    priced = one_line_quote("100.00", plan=Installments(count=4, every_days=30))
    assert installment_days(priced) == [0, 30, 60, 90]


def test_a_plan_without_installments_has_no_installment_days():
    assert installment_days(one_line_quote("100.00", plan=Upfront())) == []


@pytest.mark.parametrize(
    ("plan", "kind"),
    [
        (OnDelivery(), "signature"),
        (OnDelivery(), "delivery_complete"),
        (Upfront(), "delivery"),
        (Upfront(), "installment"),
        (Installments(count=2, every_days=10), "signature"),
        (Milestones(milestones=[Milestone(percent=Decimal(100), trigger="signature")]), "delivery"),
    ],
)
def test_a_plan_bills_nothing_on_events_it_does_not_bill_on(plan, kind):
    priced = one_line_quote("100.00", plan=plan)
    event = BillingEvent(kind=kind, reference="D0", delivered={"ITEM": Decimal(1)})
    assert invoices_for(priced, event, []) == []
