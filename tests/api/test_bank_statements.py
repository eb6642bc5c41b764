"""Bank statements and cash application over HTTP on the real stack (docs/cash.md): a
camt.053 statement with an exact (fee deducted), a partial, an over-, an unmatched and a
repeated line gives the right payments, credit, queue and books; importing it twice changes
nothing; finance matches the unmatched line by hand, refunds credit, and the customer's next
invoice takes the rest; the trial balance is balanced after every step."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from string import Template
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.storage.tables import journal_entries, payments
from tests.flows import quote_body, to_fulfilment

DATA = Path(__file__).parent.parent / "data"
ONBOARDING_ONLY = [{"sku": "ONBOARD", "quantity": "1"}]


def upfront_invoice(live, as_user, company: str, lines=None) -> dict[str, Any]:
    """A signed deal of `company` billed upfront: its one invoice, open."""
    quote = quote_body(billing_plan={"kind": "upfront"}, **({"lines": lines} if lines else {}))
    deal = to_fulfilment(live, as_user("rep1"), as_user("manager"), quote, company=company)
    (invoice,) = as_user("finance").every(f"/invoices?deal_id={deal['deal_id']}")
    return {**invoice, "customer_id": deal["customer"]["customer_id"]}


def upload(finance, raw: bytes, name: str = "statement.xml"):
    return finance.post("/bank-statements", files={"file": (name, raw, "application/xml")})


def balanced_books(finance) -> dict[str, Decimal]:
    """The trial balance, which must balance; debit minus credit per EUR account."""
    trial = finance.get("/ledger/trial-balance").json()
    assert trial["balanced"] is True
    return {
        a["account"]: Decimal(a["debit"]) - Decimal(a["credit"])
        for a in trial["accounts"]
        if a["currency"] == "EUR"
    }


def moved(before: dict[str, Decimal], after: dict[str, Decimal]) -> dict[str, Decimal]:
    accounts = set(before) | set(after)
    change = {a: after.get(a, Decimal(0)) - before.get(a, Decimal(0)) for a in accounts}
    return {a: d for a, d in change.items() if d}


def invoice(finance, number: str) -> dict[str, Any]:
    return dict(finance.get(f"/invoices/{number}").json())


def balance(found: dict[str, Any]) -> Decimal:
    return Decimal(found["total"]) - Decimal(found["paid"]) - Decimal(found["credited"])


def credit_of(finance, customer_id: str) -> list[dict[str, str]]:
    return list(finance.get(f"/customers/{customer_id}").json()["credit"])


def counts(live) -> tuple[int, int]:
    with live.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(payments)).scalar_one(),
            conn.execute(select(func.count()).select_from(journal_entries)).scalar_one(),
        )


@pytest.fixture(scope="module")
def books_of_a_customer(live, as_user) -> dict[str, Any]:
    """Three open invoices of one customer, and the statement that pays them."""
    tag = uuid.uuid4().hex[:8].upper()
    company = f"Bankfix {tag} GmbH"
    exact, partial = (upfront_invoice(live, as_user, company) for _ in range(2))
    over = upfront_invoice(live, as_user, company, ONBOARDING_ONLY)
    fill = {
        "tag": tag,
        "company": company,
        "exact_invoice": exact["number"],
        "exact_net": str(Decimal(exact["total"]) - Decimal("2.50")),
        "partial_invoice": partial["number"].replace("-", " "),
        "over_invoice": over["number"],
        "over_amount": str(Decimal(over["total"]) + Decimal("50.00")),
    }
    raw = Template((DATA / "camt053-cash-application.xml").read_text()).substitute(fill)
    return {
        "tag": tag,
        "company": company,
        "customer_id": exact["customer_id"],
        "exact": exact,
        "partial": partial,
        "over": over,
        "statement": raw.encode(),
    }


def test_a_statement_pays_invoices_holds_credit_queues_the_rest_and_books_it_all(
    live, as_user, books_of_a_customer
):
    finance, c = as_user("finance"), books_of_a_customer
    before = balanced_books(finance)

    imported = upload(finance, c["statement"])

    assert imported.status_code == 201, imported.text
    answer = imported.json()
    assert {k: answer[k] for k in ("lines", "matched", "unmatched", "ignored")} == {
        "lines": 6,
        "matched": 3,
        "unmatched": 1,
        "ignored": 2,
    }
    page = finance.get(f"/bank-statements/{answer['statement_id']}").json()
    assert [(x["n"], x["status"], x["invoice_number"]) for x in page["lines"]] == [
        (1, "matched", c["exact"]["number"]),
        (2, "matched", c["partial"]["number"]),
        (3, "matched", c["over"]["number"]),
        (4, "unmatched", None),
        (5, "ignored", None),
        (6, "ignored", None),
    ]
    assert all(line["settled"] for line in page["lines"])
    assert "repeats line 1" in page["lines"][4]["reason"]

    exact, partial, over = (invoice(finance, c[k]["number"]) for k in ("exact", "partial", "over"))
    assert (exact["status"], balance(exact)) == ("paid", Decimal(0))  # settled by the gross
    assert partial["status"] == "open"
    assert balance(partial) == Decimal(c["partial"]["total"]) - 100
    assert (over["status"], balance(over)) == ("paid", Decimal(0))
    assert credit_of(finance, c["customer_id"]) == [{"amount": "50.00", "currency": "EUR"}]

    deal = finance.get(f"/deals/{c['exact']['deal_id']}").json()
    assert [p["reference"] for p in deal["payments"]] == [f"{c['tag']}-EXACT"]

    received = (
        Decimal(c["exact"]["total"]) - Decimal("2.50") + 100 + Decimal(c["over"]["total"]) + 50
    )
    assert moved(before, balanced_books(finance)) == {
        "cash": received + Decimal("77.77"),
        "bank_fees": Decimal("2.50"),
        "accounts_receivable": -(Decimal(c["exact"]["total"]) + 100 + Decimal(c["over"]["total"])),
        "customer_credit": Decimal("-50.00"),
        "unapplied_cash": Decimal("-77.77"),
    }


def test_importing_the_statement_again_changes_nothing(live, as_user, books_of_a_customer):
    finance, c = as_user("finance"), books_of_a_customer
    first = upload(finance, c["statement"]).json()
    books, rows = balanced_books(finance), counts(live)
    credit = credit_of(finance, c["customer_id"])

    again = upload(finance, c["statement"])

    assert again.status_code == 201 and again.json() == first
    assert counts(live) == rows and balanced_books(finance) == books
    assert credit_of(finance, c["customer_id"]) == credit


def test_the_unmatched_line_is_finances_task_until_matched_by_hand(
    live, as_user, books_of_a_customer
):
    finance, c = as_user("finance"), books_of_a_customer
    statement_id = upload(finance, c["statement"]).json()["statement_id"]
    tasks = finance.every("/tasks")
    mine = [t for t in tasks if t["statement_id"] == statement_id]
    assert [(t["kind"], t["line"], t["deal_id"]) for t in mine] == [("match_payment", 4, None)]
    assert "77.77 EUR" in mine[0]["title"]
    owed = balance(invoice(finance, c["partial"]["number"]))
    before = balanced_books(finance)

    matched = finance.post(
        f"/bank-statements/{statement_id}/lines/4/match",
        json={"invoice_number": c["partial"]["number"]},
    )

    assert matched.status_code == 200, matched.text
    assert (matched.json()["status"], matched.json()["settled"]) == ("matched", True)
    after = invoice(finance, c["partial"]["number"])
    assert balance(after) == owed - Decimal("77.77")
    assert moved(before, balanced_books(finance)) == {
        "unapplied_cash": Decimal("77.77"),
        "accounts_receivable": Decimal("-77.77"),
    }
    assert not [t for t in finance.every("/tasks") if t["statement_id"] == statement_id]
    again = finance.post(
        f"/bank-statements/{statement_id}/lines/4/match",
        json={"invoice_number": c["partial"]["number"]},
    )
    assert again.status_code == 409


def test_finance_refunds_credit_but_never_more_than_is_held(live, as_user, books_of_a_customer):
    finance, c = as_user("finance"), books_of_a_customer
    upload(finance, c["statement"])
    refunds = f"/customers/{c['customer_id']}/refunds"
    (held,) = credit_of(finance, c["customer_id"])
    left = {"amount": str(Decimal(held["amount"]) - 20), "currency": "EUR"}
    before = balanced_books(finance)
    body = {"amount": "20.00", "currency": "EUR", "reference": f"{c['tag']}-REFUND"}

    refunded = finance.post(refunds, json=body)

    assert refunded.status_code == 201, refunded.text
    assert finance.post(refunds, json=body).json() == refunded.json()  # once per reference
    assert credit_of(finance, c["customer_id"]) == [left]
    assert moved(before, balanced_books(finance)) == {
        "customer_credit": Decimal("20.00"),
        "cash": Decimal("-20.00"),
    }
    beyond = str(Decimal(left["amount"]) + Decimal("0.01"))
    too_much = finance.post(refunds, json={**body, "amount": beyond, "reference": "other"})
    assert too_much.status_code == 422
    assert too_much.json()["detail"][0]["loc"] == ["body", "amount"]
    assert as_user("manager").post(refunds, json={**body, "reference": "x"}).status_code == 403
    assert credit_of(finance, c["customer_id"]) == [left]


def test_the_customers_next_invoice_takes_its_credit(live, as_user, books_of_a_customer):
    finance, c = as_user("finance"), books_of_a_customer
    upload(finance, c["statement"])
    held = sum(Decimal(x["amount"]) for x in credit_of(finance, c["customer_id"]))
    assert held > 0
    before = balanced_books(finance)

    following = upfront_invoice(live, as_user, c["company"])

    assert following["customer_id"] == c["customer_id"]
    assert Decimal(following["paid"]) == held
    assert balance(following) == Decimal(following["total"]) - held
    assert credit_of(finance, c["customer_id"]) == []
    change = moved(before, balanced_books(finance))
    assert change["customer_credit"] == held
    assert change["accounts_receivable"] == Decimal(following["total"]) - held


def test_a_csv_line_without_a_number_pays_the_customers_invoice_of_that_amount(live, as_user):
    finance = as_user("finance")
    company = f"Csvpay {uuid.uuid4().hex[:8]} AG"
    open_invoice = upfront_invoice(live, as_user, company, ONBOARDING_ONLY)
    ref = f"CSV-{uuid.uuid4().hex[:8]}"
    raw = (
        "booking_date,amount,currency,reference,counterparty,bank_ref\n"
        f"2026-11-30,{open_invoice['total']},EUR,thanks for the onboarding,{company},{ref}\n"
    ).encode()

    imported = finance.post("/bank-statements", files={"file": ("s.csv", raw, "text/csv")})

    assert imported.status_code == 201, imported.text
    assert imported.json()["matched"] == 1
    assert invoice(finance, open_invoice["number"])["status"] == "paid"


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        (b"", ["body", "file"]),
        (
            b"booking_date,amount,currency,reference,counterparty,bank_ref\n"
            b"2026-11-30,12.5.0,EUR,x,y,R-BAD\n",
            ["body", "file", "lines", 1, "amount"],
        ),
    ],
)
def test_an_unreadable_statement_is_422_naming_the_field_and_changes_nothing(
    live, as_user, raw, loc
):
    rows = counts(live)
    refused = upload(as_user("finance"), raw, "s.csv")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == loc
    assert counts(live) == rows


def test_only_finance_imports_statements(live, as_user):
    raw = (DATA / "camt053-v02-sample.xml").read_bytes()
    assert upload(as_user("manager"), raw).status_code == 403
    assert upload(as_user("rep1"), raw).status_code == 403
