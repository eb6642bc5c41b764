"""The deal's history in plain words: every audit action the code writes has a sentence."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from adapters.storage.tables import metadata
from domain.approval import StepStatus
from domain.cash_application import LineStatus
from domain.history_text import SENTENCES, describe
from domain.quotes import QuoteStatus

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("domain", "workflows", "activities", "adapters", "api")
# A literal "noun.verb" is an action unless it is a file, a host, a logger or `table.column`.
NOT_ACTIONS = re.compile(r"\.(html|json|txt|log|com|de|net|me|url|access)$")
LITERAL = re.compile(r'(?<![\w{])"([a-z_]+\.[a-z_]+)"')
# Actions made at run time (f"quote.{status}"): the prefix and the enum its values come from.
DYNAMIC = re.compile(r'f"([a-z_]+)\.\{[a-z_.]+\}"')
DYNAMIC_VALUES: dict[str, type[StrEnum]] = {
    "approval": StepStatus,
    "cancellation": StepStatus,
    "quote": QuoteStatus,
    "bank_line": LineStatus,
}


def emitted_actions() -> set[str]:
    tables = set(metadata.tables)
    found: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "history_text.py" or "migrations" in path.parts:
                continue
            if path == ROOT / "domain" / "webhooks.py":  # event types, not audit actions
                continue
            source = path.read_text()
            for literal in LITERAL.findall(source):
                if not NOT_ACTIONS.search(literal) and literal.split(".")[0] not in tables:
                    found.add(literal)
            for prefix in DYNAMIC.findall(source):
                assert prefix in DYNAMIC_VALUES, f"{path}: f'{prefix}.{{...}}' has no known values"
                found |= {f"{prefix}.{value}" for value in DYNAMIC_VALUES[prefix]}
    return found


def test_every_action_the_code_emits_has_a_sentence():
    actions = emitted_actions()
    assert {"lead.created", "approval.approved", "payment.recorded", "quote.expired"} <= actions
    assert sorted(actions - set(SENTENCES)) == []


def test_an_approval_reads_with_its_role_and_comment():
    data = {"role": "sales_manager", "comment": "ok, strategic account", "step": 0}
    assert (
        describe("approval.approved", "manager", data)
        == "manager approved the sales manager step: 'ok, strategic account'."
    )


def test_a_change_order_approval_names_its_subject():
    data = {"role": "sales_manager", "subject": "change_order", "reason": "discount 20 %"}
    assert describe("approval.requested", "system", data) == (
        "l2c was asked to decide the sales manager step of the change order (discount 20 %)."
    )


def test_amounts_are_written_by_the_callers_money_function():
    data = {"amount": Decimal("100.00"), "currency": "EUR", "invoice": "INV-1", "reference": "R"}
    sentence = describe("payment.recorded", "finance", data, lambda a, c: f"<{a}|{c}>")
    assert sentence == "finance recorded a payment of <100.00|EUR> for invoice INV-1 (reference R)."


def test_credit_owed_back_names_the_deal_and_the_credit_note():
    data = {
        "amount": Decimal("500.00"),
        "currency": "EUR",
        "deal_id": "D-1",
        "credit_note": "CN-2026-000001",
        "invoice": "INV-2026-000001",
    }
    assert describe("customer.credit_owed", "l2c", data, lambda a, c: f"{a} {c}") == (
        "l2c kept 500.00 EUR paid for what deal D-1 will never deliver as customer credit"
        " (credit note CN-2026-000001 on invoice INV-2026-000001)."
    )


def test_a_stage_change_reads_as_words():
    data = {"stage": "AWAITING_APPROVAL", "note": None}
    assert describe("stage.changed", "rep1", data) == "rep1 moved the deal to awaiting approval."


def test_the_customer_and_the_system_are_named_as_people_say_them():
    assert describe("contract.signed", "customer:Jane Doe", {"version": 2}) == (
        "the customer (Jane Doe) signed contract v2."
    )
    assert describe("quote.expired", "system", {"version": 1}).startswith("Quote v1 expired")
    assert describe("quote.accepted", "customer", {"version": 1}).startswith("the customer ")


def test_an_unknown_action_still_reads_as_a_sentence():
    assert describe("robot.did_something", "system", {"x": 1}) == "l2c: robot did something."


def test_missing_data_never_breaks_a_sentence():
    for action, sentence in SENTENCES.items():
        assert sentence("someone", {}, lambda a, c: "?"), action
