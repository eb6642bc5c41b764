"""Task lists: who is asked to do what on which deal, and in which order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.approval import ApprovalStep, StepStatus
from domain.invoices import Invoice, InvoiceStatus
from domain.policy import DealPolicy
from domain.stages import DealStage
from domain.tasks import DealAtWork, PendingApproval, Task, most_urgent_first, tasks_for
from domain.users import Actor, Role

NOW = datetime(2030, 5, 1, 12, tzinfo=UTC)
REP = Actor(username="rep1", role=Role.SALES_REP)
OPS = Actor(username="ops", role=Role.OPS)
FINANCE = Actor(username="finance", role=Role.FINANCE)


def deal(stage: DealStage, owner: str = "rep1", **kw: object) -> DealAtWork:
    values: dict[str, object] = {
        "deal_id": f"d-{stage.value.lower()}-{owner}",
        "stage": stage,
        "owner": owner,
        "customer_name": "Acme",
        "created_at": NOW - timedelta(days=3),
        "updated_at": NOW - timedelta(days=1),
    }
    values.update(kw)
    return DealAtWork.model_validate(values)


def invoice(number: str, due: datetime, total: str = "100.00", paid: str = "0") -> Invoice:
    return Invoice(
        number=number,
        deal_id="d-inv",
        billing_key="upfront",
        currency="EUR",
        lines=[],
        net_total=Decimal(total),
        tax_total=Decimal(0),
        total=Decimal(total),
        paid=Decimal(paid),
        issued_at=due - timedelta(days=30),
        due_date=due,
        status=InvoiceStatus.OPEN,
    )


def kinds(tasks: list[Task]) -> list[str]:
    return [t.kind for t in tasks]


def test_the_owner_qualifies_their_lead_by_the_policys_reminder():
    policy = DealPolicy()
    lead = deal(DealStage.QUALIFYING, policy=policy)
    (task,) = tasks_for(REP, [lead], [], [], NOW)
    assert task.kind == "qualify_lead"
    assert task.due == lead.created_at + policy.days(policy.qualification.remind_after_days)


def test_a_lead_without_a_policy_has_no_due_date():
    (task,) = tasks_for(REP, [deal(DealStage.QUALIFYING)], [], [], NOW)
    assert task.due is None


def test_the_owner_writes_a_quote_only_while_none_is_open():
    assert kinds(tasks_for(REP, [deal(DealStage.QUOTING)], [], [], NOW)) == ["write_quote"]
    quoted = deal(DealStage.QUOTING, has_open_quote=True)
    assert tasks_for(REP, [quoted], [], [], NOW) == []


def test_nobody_but_the_owner_qualifies_or_quotes():
    others = [deal(DealStage.QUALIFYING, owner="rep2"), deal(DealStage.QUOTING, owner="rep2")]
    assert tasks_for(REP, others, [], [], NOW) == []
    assert tasks_for(OPS, others, [], [], NOW) == []


def test_ops_deliver_every_order_and_the_owner_their_own():
    order_due = NOW + timedelta(days=7)
    signed = NOW - timedelta(days=2)
    fulfilling = deal(DealStage.FULFILLING, owner="rep2", order_due=order_due, signed_at=signed)
    (task,) = tasks_for(OPS, [fulfilling], [], [], NOW)
    assert (task.kind, task.due, task.since) == ("deliver", order_due, signed)
    assert tasks_for(REP, [fulfilling], [], [], NOW) == []
    assert kinds(tasks_for(REP, [deal(DealStage.FULFILLING)], [], [], NOW)) == ["deliver"]


def test_a_pending_approval_is_a_task_since_it_was_requested():
    requested = NOW - timedelta(hours=5)
    pending = PendingApproval(
        deal_id="d1",
        contract_version=1,
        step=ApprovalStep(
            index=0, role=Role.SALES_MANAGER, status=StepStatus.PENDING, requested_at=requested
        ),
        owner="rep1",
        customer_name="Acme",
        amount=Decimal("1200.00"),
        currency="EUR",
    )
    (task,) = tasks_for(REP, [], [pending], [], NOW)
    assert task.kind == "approve" and task.since == requested
    assert task.title == "Approve the contract of Acme (1200.00 EUR)"


def test_finance_chases_overdue_invoices_and_nobody_else_does():
    overdue = [invoice("INV-1", NOW - timedelta(days=1), paid="40.00")]
    (task,) = tasks_for(FINANCE, [], [], overdue, NOW)
    assert task.kind == "chase_payment" and task.title == "Chase payment of INV-1 (60.00 EUR)"
    assert tasks_for(REP, [], [], overdue, NOW) == []


def test_an_invoice_not_yet_due_is_not_chased():
    assert tasks_for(FINANCE, [], [], [invoice("INV-2", NOW + timedelta(days=1))], NOW) == []


def test_most_urgent_first_puts_dated_tasks_first_then_the_oldest():
    def task(name: str, since_days: int, due_days: int | None) -> Task:
        due = None if due_days is None else NOW + timedelta(days=due_days)
        return Task(
            kind="deliver",
            deal_id=name,
            title=name,
            since=NOW - timedelta(days=since_days),
            due=due,
        )

    tasks = [task("old", 9, None), task("later", 1, 5), task("soon", 1, 1), task("new", 1, None)]
    ordered = [t.deal_id for t in most_urgent_first(tasks, limit=10)]
    assert ordered == ["soon", "later", "old", "new"]
    assert len(most_urgent_first(tasks, limit=2)) == 2
