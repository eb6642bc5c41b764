"""One deal from POST /leads to WON over HTTP, checked in Postgres, SMTP and Temporal."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from adapters.storage.tables import (
    approval_steps,
    contracts,
    deals,
    emails,
    invoices,
    journal_entries,
    journal_lines,
    orders,
    payments,
    quotes,
)
from domain.audit import AuditEvent
from tests.conftest import Live, body_of, wait_for
from tests.flows import DISCOUNTED_LINES, lead_body, portal_token, quote_body, stage_of
from workflows.deal import DealWorkflow
from workflows.ids import deal_workflow_id
from workflows.search_attributes import DEAL_STAGE


def test_a_deal_goes_from_lead_to_cash(live, as_user, keep_history):
    rep, manager, ops, finance = (as_user(u) for u in ("rep1", "manager", "ops", "finance"))
    lead = lead_body()

    # Lead in (twice, with one Idempotency-Key): one deal.
    created = rep.post("/leads", json=lead, headers={"Idempotency-Key": "lead-e2e-1"})
    assert created.status_code == 201, created.text
    again = rep.post("/leads", json=lead, headers={"Idempotency-Key": "lead-e2e-1"})
    assert again.json() == created.json()
    deal_id = created.json()["deal_id"]
    assert created.json()["stage"] == "QUALIFYING"
    assert created.json()["owner"] == "rep1"

    # Qualify, quote.
    assert (
        rep.post(f"/deals/{deal_id}/qualify", json={"decision": "qualify"}).json()["stage"]
        == "QUOTING"
    )
    quote = rep.post(f"/deals/{deal_id}/quotes", json=quote_body(lines=DISCOUNTED_LINES))
    assert quote.status_code == 201, quote.text
    q = quote.json()
    # GW-100: 3 x 349.90 = 1049.70, -15 % = 157.46 (157.455 rounded half up), net 892.24,
    # tax 20 % = 178.45 (178.448); ONBOARD: 1200.00, tax 240.00.
    assert (q["subtotal"], q["discount_total"], q["tax_total"], q["total"]) == (
        "2249.70",
        "157.46",
        "418.45",
        "2510.69",
    )

    # A discount over 10 %: the manager approves from the inbox before the customer sees it.
    assert stage_of(rep, deal_id) == "AWAITING_APPROVAL"
    assert not live.mail_to(lead["email"], "Your quote")
    inbox = manager.every("/approvals")
    assert [item["deal_id"] for item in inbox].count(deal_id) == 1
    steps = manager.post(
        f"/deals/{deal_id}/approvals", json={"decision": "approve", "comment": "fine"}
    )
    assert steps.status_code == 200, steps.text
    assert steps.json()[0]["status"] == "approved"
    assert stage_of(rep, deal_id) == "PROPOSED"

    # The customer reads and accepts the quote through the e-mailed link.
    token = portal_token(live, lead["email"], "Your quote")
    shown = rep.http.get(f"/portal/{token}", headers={"Accept": "application/json"})
    assert shown.json()["quote"]["total"] == "2510.69"
    assert "Accept quote" in rep.http.get(f"/portal/{token}").text
    assert rep.http.post(f"/portal/{token}/accept").json()["stage"] == "AWAITING_SIGNATURE"

    # The customer signs.
    sign_token = portal_token(live, lead["email"], "ready to sign")
    signed = rep.http.post(f"/portal/{sign_token}/sign", json={"name": "Ada Lovelace"})
    assert signed.json()["stage"] == "FULFILLING"

    # Ops delivers everything (the repeated reference changes nothing).
    delivery = {
        "reference": "DN-E2E-1",
        "lines": [{"sku": "GW-100", "quantity": "3"}, {"sku": "ONBOARD", "quantity": "1"}],
    }
    delivered = ops.post(f"/deals/{deal_id}/deliveries", json=delivery)
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "fulfilled"
    assert ops.post(f"/deals/{deal_id}/deliveries", json=delivery).status_code == 200
    wait_for(lambda: stage_of(rep, deal_id) == "COLLECTING", 30, "COLLECTING")

    # One invoice, for the quote's total; finance records the full payment.
    listed = finance.every("/invoices", params={"deal_id": deal_id})
    assert len(listed) == 1 and listed[0]["total"] == "2510.69"
    number = listed[0]["number"]
    assert finance.get(f"/invoices/{number}").json()["status"] == "open"
    pdf = finance.get(f"/invoices/{number}.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert b"%PDF" in pdf.content[:8]
    invoice_mail = wait_for(lambda: live.mail_to(lead["email"], number), 30, "invoice mail")
    assert [a.get_filename() for a in invoice_mail[0].iter_attachments()] == [f"{number}.pdf"]
    paid = finance.post(
        "/payments",
        json={
            "invoice_number": number,
            "amount": "2510.69",
            "currency": "EUR",
            "reference": f"BANK-{deal_id}",
        },
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["invoice"]["status"] == "paid"
    wait_for(lambda: stage_of(rep, deal_id) == "WON", 30, "WON")

    # The rows.
    with live.engine.connect() as conn:
        assert (
            conn.execute(select(deals.c.stage).where(deals.c.deal_id == deal_id)).scalar_one()
            == "WON"
        )
        assert conn.execute(
            select(quotes.c.status).where(quotes.c.deal_id == deal_id)
        ).scalars().all() == ["accepted"]
        contract = conn.execute(select(contracts).where(contracts.c.deal_id == deal_id)).one()
        assert contract.signed_name == "Ada Lovelace"
        assert contract.signed_sha256 == contract.sha256
        assert conn.execute(
            select(approval_steps.c.status, approval_steps.c.decided_by).where(
                approval_steps.c.deal_id == deal_id
            )
        ).all() == [("approved", "manager")]
        assert (
            conn.execute(select(orders.c.status).where(orders.c.deal_id == deal_id)).scalar_one()
            == "fulfilled"
        )
        invoice = conn.execute(select(invoices).where(invoices.c.deal_id == deal_id)).one()
        assert (invoice.status, invoice.paid, invoice.total) == (
            "paid",
            Decimal("2510.69"),
            Decimal("2510.69"),
        )
        assert conn.execute(
            select(payments.c.amount).where(payments.c.deal_id == deal_id)
        ).scalars().all() == [Decimal("2510.69")]
        entries = (
            conn.execute(select(journal_entries.c.key).where(journal_entries.c.deal_id == deal_id))
            .scalars()
            .all()
        )
        assert sorted(entries) == sorted(
            [
                f"invoice:{number}",
                f"payment:BANK-{deal_id}",
                f"recognize:{deal_id}:DN-E2E-1:GW-100",
                f"recognize:{deal_id}:DN-E2E-1:ONBOARD",
            ]
        )
        outbox = conn.execute(
            select(emails.c.kind, emails.c.status).where(emails.c.deal_id == deal_id)
        ).all()

    # Every e-mail of the deal was sent once and arrived once.
    kinds = Counter(kind for kind, _ in outbox)
    assert kinds == Counter(
        {
            "lead_assigned": 1,
            "quote_sent": 1,
            "approval_requested": 1,
            "signature_requested": 1,
            "invoice_issued": 1,
            "payment_received": 1,
        }
    )
    assert {status for _, status in outbox} == {"sent"}
    arrived = wait_for(
        lambda: [m for m in live.mail() if deal_id in body_of(m) or number in str(m["Subject"])],
        10,
        "mails",
    )
    ids = [m["Message-ID"] for m in arrived]
    assert len(ids) == len(set(ids))
    assert any(lead["email"] in str(m["To"]) and number in str(m["Subject"]) for m in arrived)

    # The ledger balances; the goods and the workshop were earned at delivery.
    trial = finance.get("/ledger/trial-balance").json()
    assert trial["balanced"] is True
    with live.engine.connect() as conn:
        earned = conn.execute(
            select(func.sum(journal_lines.c.credit - journal_lines.c.debit))
            .join(journal_entries, journal_entries.c.entry_id == journal_lines.c.entry_id)
            .where(journal_entries.c.deal_id == deal_id, journal_lines.c.account == "revenue")
        ).scalar_one()
    assert earned == Decimal("2092.24")  # 2510.69 less 418.45 tax

    # The audit chain is intact and tells the story.
    history = [AuditEvent.model_validate(e) for e in rep.every(f"/deals/{deal_id}/history")]
    assert rep.get(f"/deals/{deal_id}/history/verify").json()["intact"] is True
    actions = [e.action for e in history]
    for action in (
        "lead.created",
        "lead.qualified",
        "quote.created",
        "contract.drafted",
        "approval.approved",
        "quote.proposed",
        "quote.accepted",
        "contract.signed",
        "order.created",
        "delivery.recorded",
        "invoice.issued",
        "payment.recorded",
    ):
        assert action in actions, action

    # Temporal: the workflow completed as WON, searchable by its stage.
    handle = live.client.get_workflow_handle_for(DealWorkflow.run, deal_workflow_id(deal_id))
    outcome = live.run(handle.result())
    assert outcome.stage == "WON"
    described = live.run(handle.describe())
    assert described.typed_search_attributes.get(DEAL_STAGE) == "WON"
    state = live.run(handle.query(DealWorkflow.state))
    assert state.stage == "WON" and state.invoices[0].status == "paid"
    history_events = live.run(handle.fetch_history()).events
    upserts = [
        e
        for e in history_events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
    ]
    assert len(upserts) >= 8  # customer, amount and every stage
    keep_history(deal_workflow_id(deal_id), "deal-won-on-delivery")
    keep_history(f"invoice-{number}", "invoice-paid")

    found = live.run(
        _count(live, f"DealStage = 'WON' AND WorkflowId = '{deal_workflow_id(deal_id)}'")
    )
    assert found == 1


async def _count(live: Live, query: str) -> int:
    return (await live.client.count_workflows(query)).count
