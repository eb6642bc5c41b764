"""Change orders: the floor of delivered and invoiced units, approval on the delta, billing
brought to the plan under the new lines, and revenue spread prospectively (ASC 606)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.approval import ApprovalPolicy
from domain.billing import BillingEvent, InvoiceDraft, invoices_for
from domain.billing_plans import Milestone, Milestones, OnDelivery, Upfront
from domain.catalogue import PriceBook, ProductKind
from domain.change_orders import (
    ChangeOrderRequest,
    allocate_credit,
    as_quote_request,
    check_floor,
    check_subscriptions,
    invoiced_quantities,
    reallocate,
    rebill,
)
from domain.errors import QuoteInvalid
from domain.money import round_money
from domain.quotes import Quote, price_quote
from domain.revenue import recognitions_for
from domain.users import Role
from tests.unit.examples import ISSUED_AT, entry, line, quote

D = Decimal
BOOK = [entry("GW", "349.90"), entry("SENSOR", "49.00"), entry("SEAT", "600.00")]
THIRTY_SEVENTY = Milestones(
    milestones=[
        Milestone(percent=D(30), trigger="signature"),
        Milestone(percent=D(70), trigger="delivery_complete"),
    ]
)


def changed(current: Quote, *lines, reason: str = "more sites") -> Quote:
    request = as_quote_request(current, ChangeOrderRequest(lines=list(lines), reason=reason))
    return price_quote(request, PriceBook(entries=BOOK), current.version + 1, ISSUED_AT)


def signed(plan, *lines) -> tuple[Quote, list[InvoiceDraft]]:
    """A quote and what its plan billed at signature."""
    q = quote(BOOK, list(lines), plan=plan)
    return q, invoices_for(q, BillingEvent(kind="signature"), [])


def billed(issued) -> dict[str, tuple[Decimal, Decimal]]:
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for draft in issued:
        for ln in draft.lines:
            net, tax = out.get(ln.sku, (D(0), D(0)))
            out[ln.sku] = (net + ln.net, tax + ln.tax)
    return out


# --- what may change ---


def test_a_line_below_what_was_delivered_is_refused_naming_it():
    change = ChangeOrderRequest(lines=[line("SENSOR", "1"), line("GW", "2")], reason="fewer")
    with pytest.raises(QuoteInvalid) as refused:
        check_floor(change, {"GW": D(3)}, {})
    assert refused.value.field == ("lines", 1, "quantity")
    assert "GW: 2 is below the 3 already delivered or invoiced" in refused.value.message


def test_a_delivered_line_cannot_be_left_out():
    change = ChangeOrderRequest(lines=[line("SENSOR", "1")], reason="swap")
    with pytest.raises(QuoteInvalid, match="GW was delivered or invoiced") as refused:
        check_floor(change, {"GW": D(1)}, {})
    assert refused.value.field == ("lines",)


def test_a_line_may_go_down_to_exactly_what_was_delivered():
    check_floor(ChangeOrderRequest(lines=[line("GW", "3")], reason="r"), {"GW": D(3)}, {})


def test_a_thirty_percent_milestone_of_ten_units_counts_as_three_invoiced():
    q, issued = signed(THIRTY_SEVENTY, line("GW", "10"))
    invoiced = invoiced_quantities(q, issued, {})
    assert invoiced == {"GW": D(3)}
    check_floor(ChangeOrderRequest(lines=[line("GW", "3")], reason="r"), {}, invoiced)
    with pytest.raises(QuoteInvalid):
        check_floor(ChangeOrderRequest(lines=[line("GW", "2.9")], reason="r"), {}, invoiced)


def test_a_change_keeps_the_deals_currency_plan_and_terms():
    q = quote(BOOK, [line("GW", "3")], plan=THIRTY_SEVENTY)
    new = changed(q, line("GW", "5"))
    assert (new.currency, new.billing_plan, new.payment_terms_days, new.version) == (
        q.currency,
        q.billing_plan,
        q.payment_terms_days,
        2,
    )


# --- who approves ---


def test_a_small_change_to_a_large_deal_needs_no_approval():
    big = quote(BOOK, [line("SEAT", "500")])  # 300,000.00 net: approved by three roles
    assert len(ApprovalPolicy().steps_for(big)) == 3
    assert ApprovalPolicy().steps_for_change(big, changed(big, line("SEAT", "501"))) == []


def test_a_change_that_leaves_a_discount_over_ten_percent_needs_the_manager():
    q = quote(BOOK, [line("GW", "3")])
    steps = ApprovalPolicy().steps_for_change(q, changed(q, line("GW", "3", "15")))
    assert [s.role for s in steps] == [Role.SALES_MANAGER]


def test_a_cut_is_approved_like_a_rise_of_the_same_size():
    q = quote(BOOK, [line("SEAT", "100")])  # 60,000.00
    cut = ApprovalPolicy().steps_for_change(q, changed(q, line("SEAT", "10")))
    rise = ApprovalPolicy().steps_for_change(q, changed(q, line("SEAT", "190")))
    assert [s.role for s in cut] == [s.role for s in rise] == [Role.SALES_MANAGER]


# --- billing once signed ---


def test_upfront_bills_what_was_added_at_once():
    q, issued = signed(Upfront(), line("GW", "3"))
    new = changed(q, line("GW", "5"), line("SENSOR", "2"))
    result = rebill(new, issued, {}, "change:1", "change order 1")
    assert result.credits == []
    assert result.invoice is not None
    assert sum((d.total for d in [*issued, result.invoice]), D(0)) == new.total


def test_on_delivery_bills_nothing_until_the_added_units_are_delivered():
    q = quote(BOOK, [line("GW", "4")], plan=OnDelivery())
    first = invoices_for(
        q, BillingEvent(kind="delivery", reference="D1", delivered={"GW": D(2)}), []
    )
    new = changed(q, line("GW", "6"))
    result = rebill(new, first, {"GW": D(2)}, "change:1", "change order 1")
    assert (result.invoice, result.credits) == (None, [])


def test_a_cut_after_a_milestone_credits_the_billed_share_of_what_was_removed():
    q, issued = signed(THIRTY_SEVENTY, line("GW", "10"))  # 30 % of 3,499.00 billed
    new = changed(q, line("GW", "5"))
    result = rebill(new, issued, {}, "change:1", "change order 1")
    assert result.invoice is None
    (credit,) = result.credits
    assert credit.sku == "GW"
    assert credit.net == D("524.85")  # 1,049.70 billed less 30 % of 1,749.50 (524.85)
    assert credit.total == billed(issued)["GW"][0] + billed(issued)["GW"][1] - (
        D("524.85") + D("104.97")
    )


@given(
    before=st.integers(1, 40),
    after=st.integers(1, 40),
    discount=st.sampled_from(["0", "5", "12.5"]),
    plan=st.sampled_from([Upfront(), THIRTY_SEVENTY]),
)
def test_billed_plus_invoiced_less_credited_is_the_plans_share_of_the_new_lines(
    before, after, discount, plan
):
    q, issued = signed(plan, line("GW", str(before)), line("SENSOR", "3"))
    new = changed(q, line("GW", str(after), discount), line("SEAT", "1"))
    result = rebill(new, issued, {}, "change:1", "change order 1")
    now = billed([*issued, *([result.invoice] if result.invoice else [])])
    credited = {c.sku: (c.net, c.tax) for c in result.credits}
    share = D(1) if isinstance(plan, Upfront) else D("0.3")
    for ln in new.lines:
        net, tax = now.get(ln.sku, (D(0), D(0)))
        less = credited.get(ln.sku, (D(0), D(0)))
        assert net - less[0] == round_money(ln.net * share, new.currency)
        assert tax - less[1] == round_money(ln.tax * share, new.currency)
    assert credited.get("SENSOR") == billed(issued)["SENSOR"]  # removed: credited whole
    if result.invoice:
        assert all(ln.net >= 0 and ln.tax >= 0 for ln in result.invoice.lines)


def test_credit_goes_to_the_newest_open_invoice_first_and_the_rest_is_left_over():
    balances = [("INV-1", D("100.00")), ("INV-2", D("30.00"))]
    assert allocate_credit(D("50.00"), balances) == [("INV-2", D("30.00")), ("INV-1", D("20.00"))]
    assert allocate_credit(D("500.00"), balances) == [("INV-2", D("30.00")), ("INV-1", D("100.00"))]


# --- revenue, prospectively ---


def test_what_is_left_of_the_contract_is_spread_over_what_is_left_to_deliver():
    q = quote(BOOK, [line("GW", "4"), line("SENSOR", "10")], plan=OnDelivery())
    recognized = {"GW": D("699.80")}  # two of four gateways delivered and earned
    new = changed(q, line("GW", "6"), line("SENSOR", "10"))
    result = reallocate(new, recognized, {"GW": D(2)})
    assert result.catch_up == 0
    assert [(o.sku, o.quantity) for o in result.remaining] == [("GW", D(4)), ("SENSOR", D(10))]
    assert sum((o.allocated for o in result.remaining), D(0)) + D("699.80") == new.net_total


def test_a_price_cut_on_goods_all_delivered_is_recognized_at_once():
    q = quote(BOOK, [line("GW", "2")])
    new = changed(q, line("GW", "2", "10"))
    result = reallocate(new, {"GW": q.net_total}, {"GW": D(2)})
    assert result.remaining == []
    assert result.catch_up == new.net_total - q.net_total == D("-69.98")


@given(
    delivered=st.integers(0, 4),
    after=st.integers(4, 9),
    splits=st.lists(st.integers(1, 3), min_size=1, max_size=6),
)
def test_revenue_after_a_change_adds_up_to_the_new_contract_to_the_cent(delivered, after, splits):
    q = quote(BOOK, [line("GW", "4", "7"), line("SENSOR", "10")], plan=OnDelivery())
    earned_before = recognitions_for(
        reallocate(q, {}, {}).remaining, q.currency, "D0", {"GW": D(delivered)}, {}
    )
    recognized = {"GW": sum((r.amount for r in earned_before), D(0))}
    new = changed(q, line("GW", str(after), "7"), line("SENSOR", "10"))
    result = reallocate(new, recognized, {"GW": D(delivered)})
    since: dict[str, Decimal] = {}
    total = sum(recognized.values(), D(0)) + result.catch_up
    left = {o.sku: o.quantity for o in result.remaining}
    for index, size in enumerate([*splits, 99]):  # deliver in parts, then the rest
        batch = {sku: min(D(size), qty - since.get(sku, D(0))) for sku, qty in left.items()}
        batch = {sku: qty for sku, qty in batch.items() if qty > 0}
        earned = recognitions_for(result.remaining, new.currency, f"D{index + 1}", batch, since)
        total += sum((r.amount for r in earned), D(0))
        for sku, qty in batch.items():
            since[sku] = since.get(sku, D(0)) + qty
    assert total == new.net_total


SEATS = entry("SEAT", "600.00").model_copy(
    update={"kind": ProductKind.SUBSCRIPTION, "term_months": 12}
)


def test_an_active_subscription_keeps_its_seats_while_the_other_lines_change():
    book = [entry("GW", "349.90"), SEATS]
    current = quote(book, [line("GW", "3"), line("SEAT", "10")])

    def to(*lines) -> Quote:
        request = as_quote_request(current, ChangeOrderRequest(lines=list(lines), reason="r"))
        return price_quote(request, PriceBook(entries=book), 2, ISSUED_AT)

    delivered = {"GW": D(3), "SEAT": D(10)}
    check_subscriptions(current, to(line("GW", "5"), line("SEAT", "10")), delivered)
    with pytest.raises(QuoteInvalid) as refused:
        check_subscriptions(current, to(line("GW", "3"), line("SEAT", "12")), delivered)
    assert refused.value.field == ("lines", 1)
    # Not yet activated (nothing delivered): still a line like any other.
    check_subscriptions(current, to(line("GW", "3"), line("SEAT", "12")), {"GW": D(3)})
