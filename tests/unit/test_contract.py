"""The contract drafted from an accepted quote: a fixed text, and the hash that is signed."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal

from domain.billing_plans import Installments, Milestone, Milestones
from domain.contract import draft_contract
from tests.unit.examples import ISSUED_AT, entry, line, one_line_quote, quote

DRAFTED_AT = ISSUED_AT + timedelta(days=2)


def contract(priced=None, version=1):
    priced = priced or one_line_quote("349.90", quantity="3", discount_pct="5")
    return draft_contract(version, "D-1", "Acme GmbH", "Ada Lovelace", priced, DRAFTED_AT)


def test_the_signed_hash_is_the_sha256_of_the_text():
    drafted = contract()
    assert drafted.sha256 == hashlib.sha256(drafted.body.encode()).hexdigest()


def test_the_same_quote_drafts_the_same_contract():
    assert contract() == contract()


def test_another_price_drafts_another_text_and_hash():
    assert contract().sha256 != contract(one_line_quote("349.91", quantity="3")).sha256


def test_the_contract_names_the_parties_the_quote_and_its_version():
    drafted = contract(version=2)
    assert drafted.body.startswith("SALES CONTRACT D-1/v2\n")
    assert "Customer: Acme GmbH, represented by Ada Lovelace" in drafted.body
    assert (drafted.version, drafted.quote_version, drafted.drafted_at) == (2, 1, DRAFTED_AT)


def test_the_contract_lists_every_line_and_the_totals():
    priced = quote(
        [entry("GW-100", "349.90"), entry("ONBOARD", "1200.00")],
        [line("GW-100", "3", "5"), line("ONBOARD", "1")],
    )
    body = contract(priced).body
    assert "- GW-100 Product GW-100: 3 x 349.90 EUR, discount 5 %" in body
    assert "- ONBOARD Product ONBOARD: 1 x 1200.00 EUR" in body
    assert f"Total: {priced.total} EUR" in body
    assert f"Tax: {priced.tax_total} EUR" in body


def test_the_contract_states_the_milestones():
    plan = Milestones(
        milestones=[
            Milestone(percent=Decimal(30), trigger="signature"),
            Milestone(percent=Decimal(70), trigger="delivery_complete"),
        ]
    )
    body = contract(one_line_quote("100.00", plan=plan)).body
    assert "Billing plan: milestones: 30 % at signature, 70 % at delivery_complete" in body


def test_the_contract_states_the_installments():
    body = contract(one_line_quote("100.00", plan=Installments(count=3, every_days=30))).body
    assert "Billing plan: installments: 3 installments every 30 days" in body


def test_a_contract_is_drafted_unsigned():
    assert contract().signature is None
