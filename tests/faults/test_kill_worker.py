"""Twenty deals from lead to cash while the worker is killed once per deal, at the worst
moment: after an effect, before its completion reached Temporal. Every deal still ends WON
with each effect exactly once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from demo import Demo
from tests.conftest import PASSWORD, wait_for

DEALS = 20
PLANS: list[tuple[dict[str, Any], int]] = [
    ({"kind": "on_delivery"}, 2),
    ({"kind": "upfront"}, 1),
    (
        {
            "kind": "milestones",
            "milestones": [
                {"percent": "30", "trigger": "signature"},
                {"percent": "70", "trigger": "delivery_complete"},
            ],
        },
        2,
    ),
]
LINES = [{"sku": "GW-100", "quantity": "4"}, {"sku": "SENSOR-T", "quantity": "5"}]


def one_deal(demo: Demo, index: int) -> tuple[str, int]:
    plan, invoices = PLANS[index % len(PLANS)]
    owner = ("rep1", "rep2")[index % 2]
    deal = demo.lead(f"Fault {index}", owner, "web", budget_confirmed=True)
    demo.quote(deal, owner, LINES, plan)
    demo.to_signed(deal, owner)
    demo.deliver(deal, "D1", [{"sku": "GW-100", "quantity": "2"}])
    demo.deliver(
        deal, "D2", [{"sku": "GW-100", "quantity": "2"}, {"sku": "SENSOR-T", "quantity": "5"}]
    )
    demo.wait(deal, {"COLLECTING"}, timeout=600)
    demo.pay(deal)
    demo.wait(deal, {"WON"}, timeout=600)
    return deal, invoices


# About four minutes on a busy two-core machine: some twenty worker restarts, each costing a
# workflow task timeout, then mail in flight at a kill waits out its attempt (60 s).
@pytest.mark.timeout(900)
def test_deals_survive_a_worker_killed_after_each_kind_of_effect(fault_stack):
    stack = fault_stack({"L2C_CHAOS_LEDGER": "", "L2C_CHAOS_KILL_WITHIN": "7"})
    demo = Demo(stack.base_url, PASSWORD, day_seconds=60, mail=stack.stack.smtp.path)
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda i: one_deal(demo, i), range(DEALS)))
    kills = [line for line in stack.ledger.read_text().split() if line.startswith("kill:")]
    assert len(kills) >= DEALS * 3 // 4, kills  # (a deal may finish before its kill point)
    assert stack.worker.restarts >= len(kills)
    check_books(stack, results, len(kills))


def all_mail_sent(stack) -> bool:
    with stack.engine.connect() as conn:
        return not conn.execute(text("SELECT 1 FROM emails WHERE status <> 'sent'")).first()


def check_books(stack, results: list[tuple[str, int]], kills: int) -> None:
    ids = [deal for deal, _ in results]
    # A mail in flight at a kill is retried once its attempt times out (60 s).
    wait_for(lambda: all_mail_sent(stack), 240, "every outbox row to be sent")
    with stack.engine.connect() as conn:
        stages = dict(
            conn.execute(
                text("SELECT deal_id, stage FROM deals WHERE deal_id = ANY(:d)"), {"d": ids}
            ).all()
        )
        assert set(stages.values()) == {"WON"}
        invoices = Counter(
            conn.execute(
                text("SELECT deal_id FROM invoices WHERE deal_id = ANY(:d)"), {"d": ids}
            ).scalars()
        )
        assert all(invoices[deal] == expected for deal, expected in results)
        numbers = sorted(conn.execute(text("SELECT number FROM invoices")).scalars())
        year = datetime.now(UTC).year
        assert numbers == [f"INV-{year}-{n:06d}" for n in range(1, len(numbers) + 1)]
        unbalanced = conn.execute(
            text(
                "SELECT e.key FROM journal_entries e JOIN journal_lines l USING (entry_id) "
                "GROUP BY e.key HAVING sum(l.debit) <> sum(l.credit)"
            )
        ).all()
        assert unbalanced == []
        entries = Counter(conn.execute(text("SELECT key FROM journal_entries")).scalars())
        assert max(entries.values()) == 1
        per_invoice = conn.execute(
            text(
                "SELECT i.number, count(p.reference), i.total, i.paid FROM invoices i "
                "LEFT JOIN payments p ON p.invoice_number = i.number GROUP BY i.number"
            )
        ).all()
        assert all(count == 1 and total == paid for _, count, total, paid in per_invoice)
        orders = Counter(conn.execute(text("SELECT deal_id FROM orders")).scalars())
        assert set(orders) == set(ids) and max(orders.values()) == 1
        outbox = conn.execute(text("SELECT message_id, status FROM emails")).all()
        receivable = conn.execute(
            text(
                "SELECT coalesce(sum(l.debit - l.credit), 0) FROM journal_lines l "
                "WHERE l.account = 'accounts_receivable'"
            )
        ).scalar_one()
    assert receivable == Decimal(0)
    assert {status for _, status in outbox} == {"sent"}
    # One message per outbox row. SMTP itself is at-least-once: a mail in flight when the
    # worker died may be handed over again, with the same Message-ID, so mail clients show
    # it once; only mails in flight at a kill can be repeated.
    received = Counter(str(m["Message-ID"]) for m in stack.stack.smtp.messages())
    assert set(received) == {message_id for message_id, _ in outbox}
    assert sum(n - 1 for n in received.values()) <= kills
    admin = stack.client("admin")
    for deal in ids:
        assert admin.get(f"/deals/{deal}/history/verify").json()["intact"] is True
