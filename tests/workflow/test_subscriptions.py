"""Subscriptions as they live (tests/timeskip.py): billed per period from activation, an
upgrade in month 4 prorated by the day, renewed at the policy's uplift or ended at the term's
end, a five-year term over continue-as-new; each state in the subscription's history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from adapters.storage.catalogue import Catalogue
from adapters.storage.subscriptions import SubscriptionStore
from domain.catalogue import PriceBookEntry, ProductKind
from domain.deal import DeliveryCommand
from domain.orders import DeliveryRequest
from domain.users import Actor, Role
from tests.conftest import wait_for
from tests.flows import quote_body
from workflows.deal import DealWorkflow
from workflows.ids import subscription_billing_workflow_id
from workflows.subscription_billing import QuantityChange, SubscriptionBillingWorkflow

REP = Actor(username="rep1", role=Role.SALES_REP)
OPS = Actor(username="ops", role=Role.OPS)
D = Decimal


def invoices(live: Any, deal_id: str) -> list[tuple[str, Decimal, Decimal]]:
    """The deal's invoices, in the order issued: billing key, net, tax."""
    with live.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT billing_key, net_total, tax_total FROM invoices"
                " WHERE deal_id = :d ORDER BY issued_at, number"
            ),
            {"d": deal_id},
        )
        return [(key, net, tax) for key, net, tax in rows]


def activated(timeskip: Any, live: Any, sku: str, quantity: str, quote: dict[str, Any]) -> str:
    """A signed deal whose subscription line ops have just activated: its first period is
    invoiced."""
    deal_id = timeskip.start_deal()
    timeskip.sign(deal_id, quote)
    delivery = DeliveryRequest.model_validate(
        {"reference": "GO-LIVE", "lines": [{"sku": sku, "quantity": quantity}]}
    )
    timeskip.update(
        deal_id, DealWorkflow.record_delivery, DeliveryCommand(request=delivery, actor=OPS)
    )
    wait_for(lambda: len(invoices(live, deal_id)) == 1, 30, "the first period invoiced")
    return str(deal_id)


def forward(timeskip: Any, subscription_id: str, days: int) -> None:
    """Jump the subscription's clock, run after run (it continues as new every 12 periods)."""
    left = days
    while left > 0:
        step = min(left, 90)
        handle = timeskip.env.client.get_workflow_handle(subscription_id)
        timeskip.fast_forward(handle, timedelta(days=step))
        left -= step


def test_a_yearly_subscription_upgraded_in_month_four_renews_itself_at_the_uplift(live, timeskip):
    # 10 seats of gold support, 2400.00 a seat a year (a seat-day is 6.6667), 20 % VAT.
    line = {"sku": "SUPPORT-GOLD", "quantity": "10", "auto_renew": True}
    quote = quote_body(lines=[line], billing_plan={"kind": "upfront"})
    deal_id = activated(timeskip, live, "SUPPORT-GOLD", "10", quote)
    sid = subscription_billing_workflow_id(deal_id, "SUPPORT-GOLD")
    handle = timeskip.env.client.get_workflow_handle(sid)

    forward(timeskip, sid, 100)  # day 100, in month 4: months 1-4 invoiced
    wait_for(lambda: len(invoices(live, deal_id)) == 4, 30, "four months invoiced")
    change = QuantityChange(quantity=D(15), actor=REP)
    view = timeskip.run(handle.execute_update(SubscriptionBillingWorkflow.change_quantity, change))
    # 5 seats more for days 100-119, invoiced already: 5 x 20 x 6.6667 = 666.67 (+ 133.33 VAT).
    assert view.charged is not None
    assert (view.charged.net, view.charged.tax) == (D("666.67"), D("133.33"))

    forward(timeskip, sid, 265)  # past the term's end (day 360) into the renewal
    wait_for(lambda: len(invoices(live, deal_id)) == 14, 30, "12 months, the change, a renewal")
    issued = invoices(live, deal_id)
    first_term = issued[:13]
    assert [net for _, net, _ in first_term] == [D("2000.00")] * 4 + [D("666.67")] + [
        D("3000.00")
    ] * 8
    # The term cost what its seat-days cost, rounded once: (10 x 100 + 15 x 260) x 2400 / 360.
    assert sum(net for _, net, _ in first_term) == D("32666.67")
    assert sum(tax for _, _, tax in first_term) == D("6533.33")
    # Renewed at 3 % uplift: 15 seats at 2472.00 a year, a month is 3090.00.
    key, net, tax = issued[13]
    assert key == "subscription:SUPPORT-GOLD:term2:1"
    assert (net, tax) == (D("3090.00"), D("618.00"))

    history = SubscriptionStore(live.engine).states(sid)
    assert history is not None
    states = history[1]
    assert [(s.quantity, s.unit_price) for s in states] == [
        (D(10), D("2400.00")),
        (D(15), D("2400.00")),
        (D(15), D("2472.00")),
    ]
    assert states[2].term_start == states[0].term_end
    contact = timeskip.state(deal_id).contact["email"]
    notices = live.mail_to(str(contact), "subscription renews on")
    assert len(notices) == 1 and "2472.00" in notices[0].get_content()
    actions = audit_actions(live, deal_id)
    for action in (
        "subscription.activated",
        "subscription.changed",
        "subscription.renewal_notice",
        "subscription.renewed",
    ):
        assert action in actions


def audit_actions(live: Any, deal_id: str) -> list[str]:
    with live.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT action FROM audit_events WHERE deal_id = :d ORDER BY seq"), {"d": deal_id}
        )
        return [action for (action,) in rows]


def test_a_five_year_subscription_upgraded_in_month_four_bills_sixty_months_and_ends(
    live, timeskip
):
    # 6000.00 a seat for 60 months: 100.00 a seat-month, a seat-day 3.3333; no auto-renewal.
    Catalogue(live.engine).save(
        PriceBookEntry(
            sku="PLATFORM-5Y",
            name="Platform licence (5 years)",
            kind=ProductKind.SUBSCRIPTION,
            unit_price=D("6000.00"),
            currency="EUR",
            tax_rate=D("20"),
            term_months=60,
        )
    )
    quote = quote_body(
        lines=[{"sku": "PLATFORM-5Y", "quantity": "1"}], billing_plan={"kind": "upfront"}
    )
    deal_id = activated(timeskip, live, "PLATFORM-5Y", "1", quote)
    sid = subscription_billing_workflow_id(deal_id, "PLATFORM-5Y")
    handle = timeskip.env.client.get_workflow_handle(sid)

    forward(timeskip, sid, 100)
    change = QuantityChange(quantity=D(2), actor=REP)
    view = timeskip.run(handle.execute_update(SubscriptionBillingWorkflow.change_quantity, change))
    assert view.charged is not None and view.charged.net == D("66.67")  # 1 seat, days 100-119

    forward(timeskip, sid, 1700)  # to day 1800: the term's end
    assert timeskip.run(handle.result()) == 60  # sixty months invoiced, then it ended
    issued = invoices(live, deal_id)
    assert len(issued) == 61
    assert sum(net for _, net, _ in issued) == D("11666.67")  # (1 x 100 + 2 x 1700) seat-days
    assert sum(tax for _, _, tax in issued) == D("2333.33")
    # A renewal quote went to the owner 30 days before the end; nobody renewed it.
    wait_for(
        lambda: [
            m
            for m in live.mail_to("rep1@", "Renewal quote")
            if "6180.00" in m.get_content() and deal_id in m.get_content()
        ],
        30,
        "the renewal quote to the owner",
    )
    actions = audit_actions(live, deal_id)
    assert "subscription.renewal_quoted" in actions and "subscription.ended" in actions
    assert "subscription.renewed" not in actions
    # Its own history stayed short: it continued as new every twelve periods (sixty periods
    # in one run would be some 600 events).
    description = timeskip.run(handle.describe())
    assert description.raw_description.workflow_execution_info.history_length < 200
