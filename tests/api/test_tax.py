"""Tax by the rules, through the API: a customer's country, VAT id and kind set by finance
price the quote; the invoice carries the categories, the breakdown and both parties; the
ledger owes VAT only where it is due; write-offs and credit notes take their VAT back.
The seller is the test settings' (DE, products at their domestic rate of 20 %)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from adapters.storage.audit import deal_events
from adapters.storage.credit import customer_chain
from tests.flows import (
    accept_quote,
    lead_body,
    lead_email,
    portal_token,
    quote_body,
    submit_quote,
    to_quoting,
)

FR_VAT = "FR40303265045"
LINES = [{"sku": "GW-100", "quantity": "2"}, {"sku": "ONBOARD", "quantity": "1"}]
GW, ONBOARD = Decimal("699.80"), Decimal("1200.00")  # 2 x 349.90, 1 x 1200.00: the nets

CASES = {
    "domestic": ({"country": "DE", "vat_id": "DE136695976"}, "S", Decimal(20)),
    "reverse charge": ({"country": "FR", "vat_id": FR_VAT}, "AE", Decimal(0)),
    "EU consumer": ({"country": "SE", "kind": "consumer"}, "S", Decimal(25)),
    "export": ({"country": "US", "address": "1 Main St, Springfield"}, "G", Decimal(0)),
}


def ledger(live, deal_id: str) -> dict[str, Decimal]:
    """Debit minus credit per account, for the deal's entries."""
    with live.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT l.account, SUM(l.debit - l.credit) FROM journal_lines l"
                " JOIN journal_entries e USING (entry_id) WHERE e.deal_id = :d GROUP BY 1"
            ),
            {"d": deal_id},
        )
        return {account: amount for account, amount in rows}


def quoted_for(as_user, details: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A deal whose customer finance described by `details`, and its quote."""
    rep = as_user("rep1")
    deal = to_quoting(rep)
    customer_id = deal["customer"]["customer_id"]
    patched = as_user("finance").http.patch(f"/customers/{customer_id}", json=details)
    assert patched.status_code == 200, patched.text
    quote = submit_quote(rep, deal["deal_id"], quote_body(lines=LINES))
    return deal["deal_id"], quote


def invoiced(live, as_user, details: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Quoted, accepted, signed and delivered in full: the deal, its quote and its invoice."""
    rep = as_user("rep1")
    deal_id, quote = quoted_for(as_user, details)
    accept_quote(live, rep, deal_id)
    token = portal_token(live, lead_email(rep, deal_id), "ready to sign")
    assert rep.http.post(f"/portal/{token}/sign", json={"name": "Ada"}).status_code == 200
    done = as_user("ops").post(
        f"/deals/{deal_id}/deliveries", json={"reference": "D1", "lines": LINES}
    )
    assert done.status_code == 200, done.text
    (invoice,) = as_user("finance").every(f"/invoices?deal_id={deal_id}")
    return deal_id, quote, invoice


@pytest.mark.parametrize("case", list(CASES))
def test_each_rule_prices_the_quote_invoices_and_books_the_tax(live, as_user, case):
    details, category, rate = CASES[case]
    deal_id, quote, invoice = invoiced(live, as_user, details)
    with_tax = {"GW-100": GW * rate / 100, "ONBOARD": ONBOARD * rate / 100}
    for line in quote["lines"]:
        assert (line["tax_category"], Decimal(line["tax_rate"])) == (category, rate), line
        assert Decimal(line["tax"]) == with_tax[line["sku"]].quantize(Decimal("0.01"))
    tax = (GW + ONBOARD) * rate / 100
    assert Decimal(quote["tax_total"]) == Decimal(invoice["tax_total"]) == tax
    assert [line["tax_category"] for line in invoice["lines"]] == [category, category]
    (group,) = invoice["tax_breakdown"]
    assert (group["category"], Decimal(group["rate"])) == (category, rate)
    assert (Decimal(group["base"]), Decimal(group["tax"])) == (GW + ONBOARD, tax)
    assert (group["note"] is None) == (case == "domestic")
    assert invoice["seller"] == {
        "name": "l2c Demo GmbH",
        "address": "Musterstrasse 1, 10115 Berlin, Germany",
        "country": "DE",
        "vat_id": "DE136695976",
    }
    assert invoice["buyer"]["country"] == details["country"]
    assert invoice["buyer"]["vat_id"] == details.get("vat_id")
    assert Decimal(invoice["balance"]) == Decimal(invoice["total"]) == GW + ONBOARD + tax
    assert re.fullmatch(r"Q-\d{4}-\d{6}-v1", quote["number"])
    assert invoice["quote_number"] == quote["number"]
    assert (invoice["iban"], invoice["payment_terms_days"]) == ("DE89370400440532013000", 30)
    assert invoice["tax_point_date"] == invoice["issued_at"][:10]
    assert invoice["customer_id"]
    books = ledger(live, deal_id)
    assert -books.get("tax_payable", Decimal(0)) == tax  # VAT owed only where due
    assert as_user("finance").get("/ledger/trial-balance").json()["balanced"]
    pdf = as_user("finance").get(f"/invoices/{invoice['number']}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_write_off_takes_its_vat_back_as_bad_debt_relief(live, as_user):
    deal_id, _, invoice = invoiced(live, as_user, CASES["domestic"][0])
    off = as_user("finance").post(
        f"/invoices/{invoice['number']}/write-off", json={"reason": "gone"}
    )
    assert off.status_code == 200, off.text
    books = ledger(live, deal_id)
    assert books.get("tax_payable", Decimal(0)) == 0  # the VAT never collected is not owed
    assert books["bad_debt_expense"] == Decimal(invoice["subtotal"])  # delivered, so lost
    assert books["accounts_receivable"] == 0
    assert as_user("finance").get("/ledger/trial-balance").json()["balanced"]


def test_a_credit_note_takes_back_tax_by_the_invoices_categories(live, as_user):
    deal_id, _, invoice = invoiced(live, as_user, CASES["EU consumer"][0])
    body = {"amount": "125.00", "reason": "goodwill"}
    note = as_user("finance").post(
        f"/invoices/{invoice['number']}/credit-notes",
        json=body,
        headers={"Idempotency-Key": f"tax-cn-{deal_id}"},
    )
    assert note.status_code == 201, note.text
    (part,) = note.json()["tax_breakdown"]
    assert (part["category"], Decimal(part["rate"])) == ("S", Decimal(25))
    assert (Decimal(part["base"]), Decimal(part["tax"])) == (Decimal("100.00"), Decimal("25.00"))
    tax = (GW + ONBOARD) * Decimal("0.25")
    assert -ledger(live, deal_id)["tax_payable"] == tax - Decimal("25.00")
    assert as_user("finance").get("/ledger/trial-balance").json()["balanced"]


def test_a_reverse_charge_credit_note_takes_back_no_tax(live, as_user):
    deal_id, _, invoice = invoiced(live, as_user, CASES["reverse charge"][0])
    note = as_user("finance").post(
        f"/invoices/{invoice['number']}/credit-notes",
        json={"amount": "100.00", "reason": "goodwill"},
        headers={"Idempotency-Key": f"tax-cn-{deal_id}"},
    )
    assert note.status_code == 201, note.text
    assert (Decimal(note.json()["net"]), Decimal(note.json()["tax"])) == (Decimal(100), Decimal(0))
    assert ledger(live, deal_id).get("tax_payable", Decimal(0)) == 0


# --- customers' details ---


def test_finance_sets_a_customers_details_shown_and_audited(live, as_user):
    rep = as_user("rep1")
    customer_id = to_quoting(rep)["customer"]["customer_id"]
    details = {"address": "1 rue de Rivoli, Paris", "country": "FR", "vat_id": "FR 403 032 650 45"}
    patched = as_user("finance").http.patch(f"/customers/{customer_id}", json=details)
    assert patched.status_code == 200, patched.text
    page = rep.get(f"/customers/{customer_id}").json()
    assert (page["address"], page["country"], page["vat_id"], page["kind"]) == (
        "1 rue de Rivoli, Paris",
        "FR",
        FR_VAT,
        "business",
    )
    with live.engine.connect() as conn:
        (event,) = deal_events(conn, customer_chain(customer_id))
    assert (event.actor, event.action, event.data["after"]["vat_id"]) == (
        "finance",
        "customer.details_set",
        FR_VAT,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"country": "FR", "vat_id": "FR40303265046"}, "vat_id"),  # check digits
        ({"country": "DE", "vat_id": FR_VAT}, "vat_id"),  # another state's
        ({"country": "France"}, "country"),
        ({"kind": "person"}, "kind"),
        ({"vat_id": "DE136695976", "kind": "consumer", "country": "DE"}, "vat_id"),
    ],
)
def test_bad_details_are_422_naming_the_field_and_change_nothing(live, as_user, body, field):
    customer_id = to_quoting(as_user("rep1"))["customer"]["customer_id"]
    answer = as_user("finance").http.patch(f"/customers/{customer_id}", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"][-1] == field
    page = as_user("finance").get(f"/customers/{customer_id}").json()
    assert (page["country"], page["vat_id"]) == ("DE", None)


def test_ops_may_not_set_a_customers_details_and_a_rep_only_their_own(live, as_user):
    customer_id = to_quoting(as_user("rep1"))["customer"]["customer_id"]
    body = {"country": "AT"}
    assert as_user("ops").http.patch(f"/customers/{customer_id}", json=body).status_code == 403
    assert as_user("rep2").http.patch(f"/customers/{customer_id}", json=body).status_code == 404
    assert as_user("rep1").http.patch(f"/customers/{customer_id}", json=body).status_code == 200


def test_a_lead_may_bring_its_vat_id_and_its_quote_is_reverse_charged(live, as_user):
    rep = as_user("rep1")
    deal = to_quoting(rep, country="FR", vat_id="FR 403 032 650 45")
    page = rep.get(f"/customers/{deal['customer']['customer_id']}").json()
    assert (page["country"], page["vat_id"]) == ("FR", FR_VAT)
    quote = submit_quote(rep, deal["deal_id"], quote_body(lines=LINES))
    assert {line["tax_category"] for line in quote["lines"]} == {"AE"}
    assert Decimal(quote["tax_total"]) == 0


def test_a_lead_whose_vat_id_is_not_its_countrys_is_422_naming_it(live, as_user):
    answer = as_user("rep1").post("/leads", json=lead_body(country="DE", vat_id=FR_VAT))
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"][-1] == "vat_id"
